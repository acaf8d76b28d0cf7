import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {FileHasher} from '../../src/core/transfer/file-hasher.js'

const MiB = 1024 * 1024

describe('FileHasher: local files hashed on worker threads', () => {
  let dir: string
  let hasher: FileHasher
  const content = randomBytes(3 * MiB + 12345)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zerofs-file-hasher-'))
    await writeFile(join(dir, 'file.bin'), content)
    await writeFile(join(dir, 'empty'), '')
    hasher = new FileHasher(2)
  })

  after(async () => {
    await hasher.close()
    await rm(dir, {recursive: true, force: true})
  })

  it('drops a request withdrawn before a thread takes it, and answers the others', async () => {
    const path = join(dir, 'file.bin')
    const sha256 = createHash('sha256').update(content).digest('hex')
    // Requests made in one turn wait for the next one to be dispatched: withdrawn now, none is sent.
    const kept = hasher.request(path, {kind: 'sha256'})
    const withdrawn = hasher.request(path, {kind: 'sha256'})
    withdrawn.withdraw()
    withdrawn.withdraw()
    await assert.rejects(withdrawn.result, /withdrawn/)
    assert.deepEqual(await kept.result, {digest: sha256, bytes: content.length})
    const late = hasher.request(path, {kind: 'sha256'})
    const answer = await late.result
    late.withdraw() // answered already: nothing to take back
    assert.equal(answer.digest, sha256)
  })

  it('gives the digest each kind of reference wants, and the length', async () => {
    const path = join(dir, 'file.bin')
    const sha256 = createHash('sha256').update(content).digest('hex')
    const md5 = createHash('md5').update(content).digest('hex')
    assert.deepEqual(await hasher.hash(path, {kind: 'sha256'}), {digest: sha256, bytes: content.length})
    assert.deepEqual(await hasher.hash(path, {kind: 'md5', hex: md5, source: 'ETag'}), {digest: md5, bytes: content.length})
    const parts = [content.subarray(0, 2 * MiB), content.subarray(2 * MiB)].map((part) => createHash('md5').update(part).digest())
    const etag = `${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-2`
    const multipart = await hasher.hash(path, {kind: 'multipart', etag, parts: 2, partSize: 2 * MiB, source: 'multipart ETag'})
    assert.equal(multipart.digest, etag)
    assert.deepEqual(await hasher.hash(join(dir, 'empty'), {kind: 'sha256'}), {digest: createHash('sha256').digest('hex'), bytes: 0})
  })

  it('hashes many files at once, in several batches, each answer to its own request', async () => {
    const files = await Promise.all(Array.from({length: 150}, async (_, index) => {
      const bytes = randomBytes(1000 + index * 997)
      await writeFile(join(dir, `many-${index}`), bytes)
      return {path: join(dir, `many-${index}`), sha256: createHash('sha256').update(bytes).digest('hex')}
    }))
    const results = await Promise.all(files.map((file, index) => hasher.hash(file.path, {kind: 'sha256'}, {size: 1000 + index * 997})))
    assert.deepEqual(results.map((result) => result.digest), files.map((file) => file.sha256))
  })

  it('fails with the errno of the file, and keeps working', async () => {
    const inOneBatch = [join(dir, 'empty'), join(dir, 'missing'), join(dir, 'file.bin')].map((path) => hasher.hash(path, {kind: 'sha256'}))
    const [empty, missing, file] = await Promise.allSettled(inOneBatch)
    assert.equal(empty.status === 'fulfilled' && empty.value.bytes, 0)
    assert.equal(missing.status === 'rejected' && (missing.reason as NodeJS.ErrnoException).code, 'ENOENT')
    assert.equal(file.status === 'fulfilled' && file.value.bytes, content.length)
    await assert.rejects(hasher.hash(join(dir, 'missing'), {kind: 'sha256'}), {code: 'ENOENT'})
    await assert.rejects(hasher.hash(dir, {kind: 'sha256'}), {code: 'EISDIR'})
    assert.equal((await hasher.hash(join(dir, 'empty'), {kind: 'sha256'})).bytes, 0)
  })
})
