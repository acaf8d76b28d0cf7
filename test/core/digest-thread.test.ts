import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {digestFileOffThread, digestOffThread} from '../../src/core/store/digest-thread.js'

describe('digest thread', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zerofs-digest-thread-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  it('hashes files of several pieces, with the MD5 only when asked', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17)
    const path = join(dir, 'file')
    await writeFile(path, body)
    const sha256 = createHash('sha256').update(body).digest('hex')
    assert.deepEqual(await digestFileOffThread(path, {md5: false}), {size: body.length, sha256, md5: undefined})
    assert.deepEqual(await digestFileOffThread(path, {md5: true}), {size: body.length, sha256, md5: createHash('md5').update(body).digest('hex')})
    const empty = join(dir, 'empty')
    await writeFile(empty, '')
    assert.equal((await digestFileOffThread(empty, {md5: false})).sha256, createHash('sha256').digest('hex'))
  })

  it('fails one request with the error of the file system, and goes on', async () => {
    await assert.rejects(digestFileOffThread(join(dir, 'absent'), {md5: false}), (error: NodeJS.ErrnoException) => error.code === 'ENOENT')
    const bytes = Buffer.from('still here')
    assert.equal((await digestOffThread(bytes)).sha256Hex, createHash('sha256').update(bytes).digest('hex'))
  })
})
