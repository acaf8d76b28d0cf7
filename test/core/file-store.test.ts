import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {appendFile, mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath, pathToFileURL} from 'node:url'

import Database from 'better-sqlite3'

import {isStoreError} from '../../src/core/store/errors.js'
import {FileStore} from '../../src/core/store/file-store.js'
import type {ListOptions} from '../../src/core/store/object-store.js'
import {collect, describeStoreContract, md5, readAll, rejectsWith, sha256} from './store-contract.js'

const MiB = 1024 * 1024

describeStoreContract('FileStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'zerofs-filestore-'))
  return {store: new FileStore(dir), cleanup: () => rm(dir, {recursive: true, force: true})}
}, {uploadPartCopy: true, abortMultipart: true, listMultipartUploads: true, longNames: true, multipartEtagSuffix: true})

/** A FileStore in a fresh temp directory per describe block. */
function useStore(): {store: () => FileStore; dir: () => string} {
  let dir: string
  let store: FileStore
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zerofs-filestore-'))
    store = new FileStore(dir)
  })
  after(async () => {
    await store.close()
    await rm(dir, {recursive: true, force: true})
  })
  return {store: () => store, dir: () => dir}
}

async function keys(store: FileStore, options: ListOptions = {}): Promise<string[]> {
  return (await collect(store.list(options))).map((entry) => (entry.kind === 'object' ? entry.key : `${entry.prefix} (prefix)`))
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

describe('FileStore', () => {
  describe('keys a directory tree cannot hold', () => {
    const {store} = useStore()

    it('refuses empty, dot, absolute, NUL, ill-formed and over-long keys with InvalidKey', async () => {
      const invalid = ['', '/abs', 'a//b', '//', './a', 'a/./b', 'a/../b', '..', 'a/..', '../escape', 'x\0y', 'bad\uD800',
        `${'n'.repeat(256)}`, `ok/${'é'.repeat(128)}`, '.zerofs/filestore/catalog.db', '.zerofs/filestore/']
      for (const key of invalid) {
        await rejectsWith(store().put(key, Buffer.from('x')), 'InvalidKey')
        await rejectsWith(store().head(key), 'InvalidKey')
        await rejectsWith(store().get(key), 'InvalidKey')
        await rejectsWith(store().createMultipartUpload(key), 'InvalidKey')
      }
      await rejectsWith(store().copy('missing', '../out', {metadata: {}}), 'InvalidKey')
      // A key that cannot exist is as good as deleted.
      await store().delete(invalid)
    })

    it('says which component is in the way with Conflict', async () => {
      await store().put('file', Buffer.from('x'))
      await assert.rejects(store().put('file/below', Buffer.from('y')), (error: unknown) =>
        isStoreError(error, 'Conflict') && /'file' is an object/.test(error.message))
      await rejectsWith(store().put('file/', Buffer.alloc(0)), 'Conflict')
      await rejectsWith(store().put('file/deeper/still', Buffer.from('y')), 'Conflict')
      await store().put('dir/child', Buffer.from('x'))
      await assert.rejects(store().put('dir', Buffer.from('y')), (error: unknown) =>
        isStoreError(error, 'Conflict') && /'dir\/' is a directory/.test(error.message))
      await store().put('marked/', Buffer.alloc(0))
      await rejectsWith(store().put('marked', Buffer.from('y')), 'Conflict')
      await rejectsWith(store().copy('file', 'dir', {metadata: {}}), 'Conflict')
      assert.equal((await readAll(await store().get('file'))).toString(), 'x')
    })

    it('refuses bytes for a marker key', async () => {
      await rejectsWith(store().put('not-empty/', Buffer.from('bytes')), 'InvalidKey')
      assert.equal(await store().head('not-empty/'), undefined)
    })
  })

  describe('listing order and grouping', () => {
    const {store} = useStore()
    before(async () => {
      for (const key of ['a b', 'a-b', 'a.txt', 'a/', 'a/x', 'a0', 'g/h/i', 'p/1', 'q', 'r/2', 's-1-x', 's-1-y', 's-2']) {
        await store().put(key, key.endsWith('/') ? Buffer.alloc(0) : Buffer.from(key))
      }
    })

    it('sorts a directory as its name plus / among names with lower and higher bytes', async () => {
      assert.deepEqual(await keys(store(), {prefix: 'a'}), ['a b', 'a-b', 'a.txt', 'a/', 'a/x', 'a0'])
      assert.deepEqual(await keys(store(), {prefix: 'a', delimiter: '/'}), ['a b', 'a-b', 'a.txt', 'a/ (prefix)', 'a0'])
    })

    it('shows an implicit directory that holds only sub-directories as a prefix', async () => {
      assert.deepEqual(await keys(store(), {prefix: 'g', delimiter: '/'}), ['g/ (prefix)'])
      assert.deepEqual(await keys(store(), {prefix: 'g/', delimiter: '/'}), ['g/h/ (prefix)'])
      assert.equal(await store().head('g/'), undefined)
      assert.equal(await store().head('g'), undefined)
      await rejectsWith(store().get('g/'), 'NotFound')
      await rejectsWith(store().get('g'), 'NotFound')
    })

    it('starts after a key or a prefix with a delimiter', async () => {
      const base = {prefix: '', delimiter: '/'}
      assert.deepEqual(await keys(store(), {...base, startAfter: 'p'}), ['p/ (prefix)', 'q', 'r/ (prefix)', 's-1-x', 's-1-y', 's-2'])
      assert.deepEqual(await keys(store(), {...base, startAfter: 'p/'}), ['q', 'r/ (prefix)', 's-1-x', 's-1-y', 's-2'])
      assert.deepEqual(await keys(store(), {...base, startAfter: 'p/1'}), ['q', 'r/ (prefix)', 's-1-x', 's-1-y', 's-2'])
      assert.deepEqual(await keys(store(), {startAfter: 'a/'}), ['a/x', 'a0', 'g/h/i', 'p/1', 'q', 'r/2', 's-1-x', 's-1-y', 's-2'])
    })

    it('groups by a delimiter other than /', async () => {
      assert.deepEqual(await keys(store(), {prefix: 's', delimiter: '-'}), ['s- (prefix)'])
      assert.deepEqual(await keys(store(), {prefix: 's-', delimiter: '-'}), ['s-1- (prefix)', 's-2'])
      assert.deepEqual(await keys(store(), {prefix: 's-', delimiter: '-', startAfter: 's-1-x'}), ['s-2'])
    })

    it('lists nothing for prefixes that leave the tree', async () => {
      for (const prefix of ['../', '/', '//', 'a//', './', '.zerofs/filestore/', '.zerofs/filestore']) {
        assert.deepEqual(await keys(store(), {prefix}), [], prefix)
      }
    })

    it('stops with Aborted when the signal fires', async () => {
      const controller = new AbortController()
      controller.abort()
      await rejectsWith(collect(store().list({signal: controller.signal})), 'Aborted')
    })
  })

  describe('directories and markers', () => {
    const {store, dir} = useStore()

    it('removes directories that the last deleted object leaves empty, unless they carry a marker', async () => {
      await store().put('x/y/z', Buffer.from('1'))
      assert.ok(await exists(join(dir(), 'x/y')))
      await store().delete(['x/y/z'])
      assert.equal(await exists(join(dir(), 'x')), false)

      await store().put('d/', Buffer.alloc(0), {contentType: 'application/x-directory'})
      await store().put('d/e/f', Buffer.from('1'))
      await store().delete(['d/e/f'])
      assert.equal(await exists(join(dir(), 'd/e')), false)
      assert.ok(await exists(join(dir(), 'd')))
      assert.deepEqual(await keys(store(), {prefix: 'd'}), ['d/'])
      assert.deepEqual(await keys(store(), {delimiter: '/'}), ['d/ (prefix)'])
    })

    it('keeps a directory with objects when its marker is deleted, as an implicit prefix', async () => {
      await store().put('m/', Buffer.alloc(0))
      await store().put('m/child', Buffer.from('1'))
      await store().delete(['m/'])
      assert.equal(await store().head('m/'), undefined)
      assert.deepEqual(await keys(store(), {prefix: 'm'}), ['m/child'])
      await store().delete(['m/child'])
      assert.equal(await exists(join(dir(), 'm')), false)
    })

    it('gives a marker to a directory that already exists, and copies markers', async () => {
      await store().put('n/o', Buffer.from('1'))
      assert.equal(await store().head('n/'), undefined)
      await store().put('n/', Buffer.alloc(0), {metadata: {mode: '16877'}})
      assert.equal((await store().head('n/'))?.metadata.mode, '16877')
      await store().copy('n/', 'n2/', {metadata: {mode: '16832'}, contentType: 'application/x-directory'})
      assert.equal((await store().head('n2/'))?.metadata.mode, '16832')
      await store().copy('n/', 'n/', {metadata: {mode: '16832'}})
      assert.equal((await store().head('n/'))?.metadata.mode, '16832')
      assert.equal((await readAll(await store().get('n/'))).length, 0)
    })

    it('hides empty directories without marker and replaces one by a file', async () => {
      await mkdir(join(dir(), 'empty/inner'), {recursive: true})
      assert.deepEqual(await keys(store(), {prefix: 'empty'}), [])
      assert.deepEqual(await keys(store(), {prefix: 'empty', delimiter: '/'}), [])
      await rm(join(dir(), 'empty/inner'), {recursive: true})
      await store().put('empty', Buffer.from('now a file'))
      assert.equal((await readAll(await store().get('empty'))).toString(), 'now a file')
    })

    it('stores and lists keys under .zerofs/ but never its own files', async () => {
      assert.deepEqual(await keys(store(), {prefix: '.zerofs'}), [])
      await store().put('.zerofs/nbd/disk0/00000001', Buffer.from('chunk'))
      assert.deepEqual(await keys(store(), {prefix: '.zerofs'}), ['.zerofs/nbd/disk0/00000001'])
      assert.deepEqual(await keys(store(), {prefix: '.zerofs/', delimiter: '/'}), ['.zerofs/nbd/ (prefix)'])
      assert.ok((await keys(store(), {delimiter: '/'})).includes('.zerofs/ (prefix)'))
      assert.ok((await keys(store())).every((key) => !key.startsWith('.zerofs/filestore')))
      await store().delete(['.zerofs/nbd/disk0/00000001'])
      assert.deepEqual(await keys(store(), {prefix: '.zerofs'}), [])
    })
  })

  describe('files placed by hand', () => {
    const {store, dir} = useStore()

    it('are objects without metadata, with an ETag from inode, size and mtime', async () => {
      await mkdir(join(dir(), 'hand'))
      await writeFile(join(dir(), 'hand/file.txt'), 'placed by hand')
      const head = await store().head('hand/file.txt')
      assert.ok(head)
      assert.equal(head.size, 14)
      assert.deepEqual(head.metadata, {})
      assert.match(head.etag, /^[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$/)
      assert.deepEqual(await keys(store(), {prefix: 'hand/'}), ['hand/file.txt'])
      assert.equal((await readAll(await store().get('hand/file.txt'))).toString(), 'placed by hand')
      // A metadata rewrite gives it a row, and with it an MD5 ETag.
      await store().copy('hand/file.txt', 'hand/file.txt', {metadata: {mode: '33188'}})
      const rewritten = await store().head('hand/file.txt')
      assert.equal(rewritten?.etag, md5(Buffer.from('placed by hand')))
      assert.equal(rewritten?.metadata.mode, '33188')
    })

    it('lose the metadata of the old version when their bytes are changed by hand', async () => {
      await store().put('changed', Buffer.from('version 1'), {metadata: {mode: '33261'}})
      await appendFile(join(dir(), 'changed'), ' and more')
      const head = await store().head('changed')
      assert.deepEqual(head?.metadata, {})
      assert.notEqual(head?.etag, md5(Buffer.from('version 1')))
      assert.equal(head?.size, 18)
    })

    it('skip symlinks and names that are not UTF-8', async () => {
      await writeFile(join(dir(), 'target'), 'outside')
      await symlink(join(dir(), 'target'), join(dir(), 'link'))
      await symlink(tmpdir(), join(dir(), 'linked-dir'))
      const latin1 = Buffer.concat([Buffer.from(join(dir(), 'caf')), Buffer.from([0xe9])])
      await writeFile(latin1, 'latin-1 name')
      await store().put('caf\uFFFD', Buffer.from('a real U+FFFD'))
      const listed = await keys(store())
      assert.ok(listed.includes('target'))
      assert.ok(!listed.some((key) => key.startsWith('link')), String(listed))
      // Node decodes the Latin-1 byte as U+FFFD too: only the real one is a key.
      assert.deepEqual(listed.filter((key) => key.startsWith('caf')), ['caf\uFFFD'])
      assert.equal((await readAll(await store().get('caf\uFFFD'))).toString(), 'a real U+FFFD')
      assert.equal(await store().head('link'), undefined)
      await rejectsWith(store().get('link'), 'NotFound')
    })

    it('make a directory a prefix only when it holds an object somewhere below', async () => {
      await mkdir(join(dir(), 'only-bad-names'))
      await writeFile(Buffer.concat([Buffer.from(join(dir(), 'only-bad-names/x')), Buffer.from([0xff])]), 'not UTF-8')
      await mkdir(join(dir(), 'only-links'))
      await symlink(join(dir(), 'target'), join(dir(), 'only-links/l'))
      await store().put('only-marker/inner/', Buffer.alloc(0))
      await mkdir(join(dir(), 'deep-file/a/b/c'), {recursive: true})
      await writeFile(join(dir(), 'deep-file/a/b/c/f'), 'x')
      const prefixes = (await keys(store(), {delimiter: '/'})).filter((key) => key.endsWith('(prefix)'))
      assert.deepEqual(prefixes, ['deep-file/ (prefix)', 'hand/ (prefix)', 'only-marker/ (prefix)'])
    })
  })

  describe('255-byte names of any bytes', () => {
    const {store, dir} = useStore()

    /** A 255-byte UTF-8 name from random code points: controls, quotes, backslashes, CJK, emoji; no '/' or NUL. */
    function randomName(): string {
      const pools = [[0x01, 0x7f], [0x80, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xfffd], [0x10000, 0x10ffff]]
      let name = ''
      for (;;) {
        const [low, high] = pools[Math.floor(Math.random() * pools.length)]
        const char = String.fromCodePoint(low + Math.floor(Math.random() * (high - low + 1)))
        if (char === '/') continue
        if (Buffer.byteLength(name + char) > 255) break
        name += char
      }
      while (Buffer.byteLength(name) < 255) name += '~'
      return name
    }

    it('stores, lists and reads them', async () => {
      const names = Array.from({length: 20}, randomName)
      names.push(`\n\t"'\\ *?[]${'x'.repeat(245)}`, `${'\u{10FFFF}'.repeat(63)}.ab`)
      for (const name of names) assert.equal(Buffer.byteLength(name), 255)
      for (const name of names) await store().put(`long/${name}`, Buffer.from(name), {metadata: {kind: 'long'}})
      const listed = await keys(store(), {prefix: 'long/'})
      assert.deepEqual(listed, names.map((name) => `long/${name}`).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
      for (const name of names) {
        assert.equal((await readAll(await store().get(`long/${name}`))).toString(), name)
        assert.equal((await store().head(`long/${name}`))?.metadata.kind, 'long')
        assert.ok(await exists(join(dir(), 'long', name)))
      }
      await store().put(`${names[0]}/`, Buffer.alloc(0))
      assert.ok((await store().head(`${names[0]}/`)) !== undefined)
      await rejectsWith(store().put(`long/${names[0]}x`, Buffer.from('x')), 'InvalidKey')
    })
  })

  describe('multipart rules', () => {
    const {store} = useStore()

    it('refuses unknown uploads, wrong ETags, small middle parts and parts out of order', async () => {
      await rejectsWith(store().uploadPart('k', 'no-such-upload', 1, Buffer.from('x')), 'NotFound')
      await rejectsWith(store().abortMultipartUpload('k', 'no-such-upload'), 'NotFound')
      const uploadId = await store().createMultipartUpload('k')
      await rejectsWith(store().uploadPart('other-key', uploadId, 1, Buffer.from('x')), 'NotFound')
      await rejectsWith(store().uploadPart('k', uploadId, 0, Buffer.from('x')), 'Failed')
      const small = await store().uploadPart('k', uploadId, 1, Buffer.from('small'))
      const last = await store().uploadPart('k', uploadId, 2, Buffer.from('last'))
      await rejectsWith(store().completeMultipartUpload('k', uploadId, [{partNumber: 1, etag: small}, {partNumber: 2, etag: last}]), 'Failed')
      await rejectsWith(store().completeMultipartUpload('k', uploadId, [{partNumber: 2, etag: last}, {partNumber: 1, etag: small}]), 'Failed')
      await rejectsWith(store().completeMultipartUpload('k', uploadId, [{partNumber: 2, etag: small}]), 'Failed')
      await rejectsWith(store().completeMultipartUpload('k', uploadId, [{partNumber: 3, etag: small}]), 'Failed')
      await rejectsWith(store().completeMultipartUpload('k', uploadId, []), 'Failed')
      assert.equal(await store().head('k'), undefined)
      // A failed completion leaves the upload as it was: a right one still succeeds.
      const etag = await store().completeMultipartUpload('k', uploadId, [{partNumber: 2, etag: `"${last}"`}])
      assert.match(etag, /-1$/)
      assert.equal((await readAll(await store().get('k'))).toString(), 'last')
    })

    it('refuses a part copy outside the source', async () => {
      await store().put('src', Buffer.from('0123456789'))
      const uploadId = await store().createMultipartUpload('dst')
      await rejectsWith(store().uploadPartCopy('dst', uploadId, 1, 'src', {offset: 10}), 'Failed')
      await rejectsWith(store().uploadPartCopy('dst', uploadId, 1, 'src', {offset: 5, length: 6}), 'Failed')
      await rejectsWith(store().uploadPartCopy('dst', uploadId, 1, 'missing', {offset: 0}), 'NotFound')
      assert.equal(await store().uploadPartCopy('dst', uploadId, 1, 'src', {offset: 2, length: 3}), md5(Buffer.from('234')))
      await store().abortMultipartUpload('dst', uploadId)
    })
  })

  describe('writes', () => {
    const {store, dir} = useStore()

    it('reads nothing for a zero-length range', async () => {
      await store().put('r', Buffer.from('abc'))
      assert.equal((await readAll(await store().get('r', {offset: 1, length: 0}))).length, 0)
      await rejectsWith(store().get('r', {offset: -1}), 'Failed')
    })

    it('keeps one catalog row per key through overwrites and deletes', async () => {
      for (let i = 0; i < 5; i++) await store().put('rows', randomBytes(100 + i), {metadata: {i: String(i)}})
      const db = new Database(join(dir(), '.zerofs/filestore/catalog.db'), {readonly: true})
      try {
        const count = (): number => (db.prepare("SELECT count(*) AS n FROM objects WHERE key = 'rows'").get() as {n: number}).n
        assert.equal(count(), 1)
        await store().delete(['rows'])
        assert.equal(count(), 0)
      } finally {
        db.close()
      }
    })

    it('settles concurrent puts of one key on one whole version with its own metadata', async () => {
      const bodies = Array.from({length: 24}, (_, i) => randomBytes(1_000 + i * 997))
      await Promise.all(bodies.map((body, i) => store().put('contended', body, {metadata: {i: String(i)}})))
      const bytes = await readAll(await store().get('contended'))
      const head = await store().head('contended')
      assert.ok(head)
      assert.deepEqual(bytes, bodies[Number(head.metadata.i)])
      assert.equal(head.metadata.sha256, sha256(bytes))
    })

    it('aborts a put when the signal fires, leaving neither object nor temp file', async () => {
      const controller = new AbortController()
      controller.abort()
      await rejectsWith(store().put('aborted', Buffer.from('x'), {signal: controller.signal}), 'Aborted')
      assert.equal(await store().head('aborted'), undefined)
      assert.deepEqual(await readdir(join(dir(), '.zerofs/filestore/tmp')), [])
    })
  })

  describe('local fast paths', () => {
    const {store, dir} = useStore()

    it('lists metadata and content type only when asked', async () => {
      await store().put('meta/a', Buffer.from('a'), {metadata: {mode: '33188'}, contentType: 'text/plain'})
      const [plain] = await collect(store().list({prefix: 'meta/'}))
      assert.ok(plain.kind === 'object' && plain.metadata === undefined && plain.contentType === undefined)
      const [full] = await collect(store().list({prefix: 'meta/', withMetadata: true}))
      assert.ok(full.kind === 'object')
      assert.deepEqual(full.metadata, (await store().head('meta/a'))?.metadata)
      assert.equal(full.contentType, 'text/plain')
    })

    it('reads a range into one buffer as get streams it, short at the end', async () => {
      const body = randomBytes(3 * MiB + 5)
      await store().put('ranged', body)
      for (const range of [{offset: 0, length: 10}, {offset: MiB - 1, length: MiB + 2}, {offset: 3 * MiB, length: MiB}, {offset: 7}, {offset: body.length}]) {
        assert.deepEqual(await store().readRange('ranged', range), await readAll(await store().get('ranged', range)))
      }
      await rejectsWith(store().readRange('absent', {offset: 0}), 'NotFound')
    })

    it('opens an object for positional reads of the version opened, short at the end', async () => {
      const first = randomBytes(MiB)
      await store().put('opened', first)
      const file = await store().openObjectFile('opened')
      try {
        await store().put('opened', randomBytes(MiB))
        const target = Buffer.alloc(10)
        assert.equal(await file.read(MiB - 4, target), 4)
        assert.deepEqual(target.subarray(0, 4), first.subarray(MiB - 4))
        assert.equal(await file.read(5, target), 10)
        assert.deepEqual(target, first.subarray(5, 15))
      } finally {
        await file.close()
      }
      await rejectsWith(store().openObjectFile('absent'), 'NotFound')
      await rejectsWith(store().openObjectFile('meta/'), 'NotFound')
    })

    it('links a final file into place instead of copying it, hashed and without an MD5 when asked', async () => {
      const source = join(dir(), '.zerofs', 'staged-file')
      const body = randomBytes(MiB + 1)
      await writeFile(source, body)
      const result = await store().put('linked', {path: source, final: true}, {md5: false})
      assert.equal((await stat(source)).ino, (await stat(join(dir(), 'linked'))).ino)
      assert.deepEqual(await readAll(await store().get('linked')), body)
      assert.equal(result.sha256, sha256(body))
      assert.notEqual(result.etag, md5(body))
      assert.equal((await store().head('linked'))?.etag, result.etag)
      assert.deepEqual(await readdir(join(dir(), '.zerofs/filestore/tmp')), [])
      await rm(source)
      assert.deepEqual(await readAll(await store().get('linked')), body)
    })

    it('keeps an ETag made from the SHA-256 through a copy, and an MD5 one as an MD5', async () => {
      const body = randomBytes(1000)
      const made = await store().put('sha-etag', body, {md5: false})
      await store().copy('sha-etag', 'sha-etag-copy', {metadata: {}})
      assert.equal((await store().head('sha-etag-copy'))?.etag, made.etag)
      await store().put('md5-etag', body)
      await store().copy('md5-etag', 'md5-etag-copy', {metadata: {}})
      assert.equal((await store().head('md5-etag-copy'))?.etag, md5(body))
    })
  })

  describe('opening', () => {
    let parent: string
    before(async () => {
      parent = await mkdtemp(join(tmpdir(), 'zerofs-filestore-'))
    })
    after(async () => {
      await rm(parent, {recursive: true, force: true})
    })

    it('reports a missing directory as NoSuchBucket naming it, or creates it when asked', async () => {
      const missing = join(parent, 'missing')
      const store = new FileStore(missing)
      await assert.rejects(store.check(), (error: unknown) => isStoreError(error, 'NoSuchBucket') && error.message.includes(missing))
      await rejectsWith(store.head('a'), 'NoSuchBucket')
      await store.close()
      const creating = new FileStore(pathToFileURL(missing).href, {create: true})
      assert.equal(creating.url, pathToFileURL(missing).href)
      assert.equal(creating.root, missing)
      await creating.check()
      await creating.put('a', Buffer.from('x'))
      await creating.close()
      await rejectsWith(creating.head('a'), 'Failed')
    })

    it('reports a file in place of the directory as NoSuchBucket', async () => {
      await writeFile(join(parent, 'plain-file'), 'x')
      await rejectsWith(new FileStore(join(parent, 'plain-file')).check(), 'NoSuchBucket')
    })

    it('keeps metadata and multipart uploads across a restart, and sweeps temp files of dead writers', async () => {
      const dir = join(parent, 'restart')
      const first = new FileStore(dir, {create: true})
      await first.put('kept', Buffer.from('bytes'), {metadata: {mode: '33188'}, contentType: 'text/plain'})
      const uploadId = await first.createMultipartUpload('assembled', {metadata: {origin: 'before restart'}})
      const part1 = randomBytes(5 * MiB)
      const etag1 = await first.uploadPart('assembled', uploadId, 1, part1)
      await first.close()
      const deadPid = await unusedPid()
      await writeFile(join(dir, '.zerofs/filestore/tmp', `${deadPid}.leftover`), 'torn')
      const orphanUpload = join(dir, '.zerofs/filestore/uploads/crashed-while-created')
      await mkdir(orphanUpload)
      await utimes(orphanUpload, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000))

      const second = new FileStore(dir)
      try {
        const head = await second.head('kept')
        assert.equal(head?.metadata.mode, '33188')
        assert.equal(head?.contentType, 'text/plain')
        const uploads = await collect(second.listMultipartUploads())
        assert.deepEqual(uploads.map((upload) => [upload.key, upload.uploadId]), [['assembled', uploadId]])
        const etag2 = await second.uploadPart('assembled', uploadId, 2, Buffer.from('tail'))
        await second.completeMultipartUpload('assembled', uploadId, [{partNumber: 1, etag: etag1}, {partNumber: 2, etag: etag2}])
        assert.deepEqual(await readAll(await second.get('assembled')), Buffer.concat([part1, Buffer.from('tail')]))
        assert.equal((await second.head('assembled'))?.metadata.origin, 'before restart')
        assert.deepEqual(await readdir(join(dir, '.zerofs/filestore/tmp')), [])
        assert.deepEqual(await readdir(join(dir, '.zerofs/filestore/uploads')), [])
      } finally {
        await second.close()
      }
    })
  })

  describe('kill -9 while writing', () => {
    let dir: string
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'zerofs-filestore-kill-'))
    })
    after(async () => {
      await rm(dir, {recursive: true, force: true})
    })

    it('leaves every object whole, with its own metadata or none', async () => {
      for (let round = 0; round < 4; round++) {
        await writeUntilKilled(dir, round * 100_000, 20 + Math.floor(Math.random() * 120))
        const store = new FileStore(dir)
        try {
          let checked = 0
          for await (const entry of store.list()) {
            assert.equal(entry.kind, 'object')
            if (entry.kind !== 'object') continue
            assert.ok(!entry.key.startsWith('.zerofs/'), entry.key)
            const head = await store.head(entry.key)
            assert.ok(head, entry.key)
            if (entry.key.endsWith('/') || entry.key === 'after-crash') continue
            const bytes = await readAll(await store.get(entry.key))
            const newline = bytes.indexOf(0x0a)
            const [generation, digest] = bytes.subarray(0, newline).toString().split(' ')
            assert.equal(sha256(bytes.subarray(newline + 1)), digest, `${entry.key} is torn`)
            if (Object.keys(head.metadata).length > 0) {
              assert.equal(head.metadata.generation, generation, `${entry.key} carries the metadata of another version`)
              assert.equal(head.metadata.sha256, sha256(bytes))
              assert.equal(head.etag, md5(bytes))
            }
            checked++
          }
          assert.ok(checked > 0)
          await store.put('after-crash', Buffer.from('still works'))
        } finally {
          await store.close()
        }
      }
    })
  })
})

/** A pid no process has now. */
async function unusedPid(): Promise<number> {
  for (let pid = 4_000_000; ; pid--) {
    try {
      process.kill(pid, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return pid
    }
  }
}

const WRITER = `
import {createHash, randomBytes} from 'node:crypto'
const {FileStore} = await import(process.env.FILESTORE_MODULE)
const store = new FileStore(process.env.FILESTORE_DIR)
let next = Number(process.env.FIRST_GENERATION)
async function writer() {
  for (;;) {
    const generation = next++
    const slot = generation % 16
    const key = slot < 8 ? 'flat' + slot : 'd' + (slot % 3) + '/sub' + (slot % 2) + '/k' + slot
    if (generation % 11 === 0) {
      await store.delete([key])
    } else if (generation % 13 === 0) {
      await store.put('marker' + (generation % 3) + '/', Buffer.alloc(0), {metadata: {generation: String(generation)}})
    } else {
      const rest = randomBytes(1 + Math.floor(Math.random() * 300000))
      const body = Buffer.concat([Buffer.from(generation + ' ' + createHash('sha256').update(rest).digest('hex') + '\\n'), rest])
      await store.put(key, body, {metadata: {generation: String(generation)}})
    }
    process.stdout.write(generation + '\\n')
  }
}
await Promise.all([writer(), writer(), writer(), writer()])
`

/** Runs a child process that puts and deletes objects in a loop, and SIGKILLs it after `operations` of them. */
async function writeUntilKilled(dir: string, firstGeneration: number, operations: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: {
      ...process.env,
      FILESTORE_MODULE: new URL('../../src/core/store/file-store.ts', import.meta.url).href,
      FILESTORE_DIR: dir,
      FIRST_GENERATION: String(firstGeneration),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  let done = 0
  for await (const _ of createInterface({input: child.stdout!})) {
    if (++done >= operations) break
  }
  child.kill('SIGKILL')
  await exited
  assert.ok(done >= operations, 'the writer died before it was killed')
}
