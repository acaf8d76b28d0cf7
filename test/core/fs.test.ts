import assert from 'node:assert/strict'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {isFsError, type Errno} from '../../src/core/errors.js'
import {MetaCache} from '../../src/core/cache/meta-cache.js'
import {Fs} from '../../src/core/fs/fs.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {S3RVER_CREDENTIALS, startS3rver} from '../helpers/s3rver.js'
import {ACCESS_EXECUTE, ACCESS_READ, ACCESS_WRITE, ROOT_INO, type Attr} from '../../src/core/fs/types.js'
import {parseEpochSeconds} from '../../src/core/layout/timestamp.js'
import {silentLogger} from '../../src/core/logger.js'
import {S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG} from '../../src/core/layout/mode.js'
import {allKeys, describeOnStores, readAll, readObject, type FsWorld} from './fs-stores.js'

const owner = {uid: 1000, gid: 1000}
const dirMode = {mode: 0o755, ...owner}
const fileMode = {mode: 0o644, ...owner}

async function expectErrno(code: Errno, promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isFsError(error), `expected an FsError, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    return true
  })
}

async function rejectsAt(code: Errno, path: string, promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isFsError(error, code), `expected ${code}, got ${String(error)}`)
    assert.equal(error.path, path)
    return true
  })
}

async function writeFile(fs: Fs, parent: bigint, name: string, content: string | Buffer): Promise<Attr> {
  const attr = await fs.create(parent, name, fileMode)
  await fs.write(attr.ino, 0, Buffer.from(content))
  await fs.fsync(attr.ino)
  return fs.getattr(attr.ino)
}

async function names(fs: Fs, dir: bigint): Promise<string[]> {
  const result: string[] = []
  let cookie = 0n
  for (;;) {
    const page = await fs.readdir(dir, cookie, 100)
    result.push(...page.entries.map((entry) => entry.name))
    if (page.eof || page.entries.length === 0) return result.sort()
    cookie = page.entries.at(-1)!.cookie
  }
}

async function world(newWorld: () => Promise<FsWorld>, t: {after: (fn: () => Promise<void>) => void}): Promise<FsWorld> {
  const created = await newWorld()
  t.after(() => created.dispose())
  return created
}

describeOnStores('fs: directories and files', (newWorld) => {
  it('mkdir writes a marker with s3fs attributes', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open()
    const dir = await fs.mkdir(ROOT_INO, 'docs', {mode: 0o750, uid: 501, gid: 20})
    assert.equal(dir.type, 'dir')
    assert.equal(dir.mode, S_IFDIR | 0o750)
    const marker = await w.store.head('docs/')
    assert.ok(marker)
    assert.equal(marker.size, 0)
    assert.equal(marker.contentType, 'application/x-directory')
    assert.equal(marker.metadata.mode, String(S_IFDIR | 0o750))
    assert.equal(marker.metadata.uid, '501')
    assert.equal(marker.metadata.gid, '20')
    assert.match(marker.metadata.mtime, /^\d+\.\d{9}$/)
    assert.deepEqual(await fs.lookup(ROOT_INO, 'docs'), dir)
    await expectErrno('EEXIST', fs.mkdir(ROOT_INO, 'docs', dirMode))
    await expectErrno('EACCES', fs.mkdir(ROOT_INO, '.zerofs', dirMode))
    await expectErrno('EINVAL', fs.mkdir(ROOT_INO, 'a/b', dirMode))
    await expectErrno('ENAMETOOLONG', fs.mkdir(ROOT_INO, 'x'.repeat(256), dirMode))
    await expectErrno('ENOENT', fs.lookup(ROOT_INO, 'nothing'))
  })

  it('stages a created file, shows it at once, and uploads it with its metadata on fsync', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open({flushDelayMs: 60_000})
    const file = await fs.create(ROOT_INO, 'a.txt', {mode: 0o640, uid: 7, gid: 8})
    assert.equal(file.mode, S_IFREG | 0o640)
    await fs.write(file.ino, 0, Buffer.from('hello, '))
    const attr = await fs.write(file.ino, 7, Buffer.from('world'))
    assert.equal(attr.size, 12)
    assert.deepEqual(await names(fs, ROOT_INO), ['a.txt'])
    assert.equal(await w.store.head('a.txt'), undefined, 'not uploaded before fsync')
    assert.equal((await fs.read(file.ino, 0, 100)).data.toString(), 'hello, world')
    await fs.fsync(file.ino)
    assert.equal((await readObject(w.store, 'a.txt')).toString(), 'hello, world')
    const head = (await w.store.head('a.txt'))!
    assert.equal(head.metadata.mode, String(S_IFREG | 0o640))
    assert.equal(head.metadata.uid, '7')
    assert.equal(head.metadata.gid, '8')
    assert.deepEqual(parseEpochSeconds(head.metadata.mtime), attr.mtime)
    assert.match(head.metadata.sha256, /^[0-9a-f]{64}$/)
    const after = await fs.getattr(file.ino)
    assert.equal(after.size, 12)
    assert.equal(after.ino, file.ino)

    await expectErrno('EEXIST', fs.create(ROOT_INO, 'a.txt', {...fileMode, exclusive: true}))
    assert.equal((await fs.create(ROOT_INO, 'a.txt', fileMode)).ino, file.ino)
    await fs.mkdir(ROOT_INO, 'd', dirMode)
    await expectErrno('EISDIR', fs.create(ROOT_INO, 'd', fileMode))
    await expectErrno('ENOTDIR', fs.create(file.ino, 'x', fileMode))
  })

  it('uploads after the idle delay, and a stable write before returning', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open({flushDelayMs: 20})
    const idle = await fs.create(ROOT_INO, 'idle', fileMode)
    await fs.write(idle.ino, 0, Buffer.from('later'))
    for (let i = 0; i < 200 && !(await w.store.head('idle')); i++) await new Promise((resolve) => setTimeout(resolve, 25))
    assert.equal((await readObject(w.store, 'idle')).toString(), 'later')
    const stable = await fs.create(ROOT_INO, 'stable', fileMode)
    await fs.write(stable.ino, 0, Buffer.from('now'), {stable: true})
    assert.equal((await readObject(w.store, 'stable')).toString(), 'now')
  })

  it('modifies part of an existing object, truncates and extends', async (t) => {
    const w = await world(newWorld, t)
    await w.store.put('data.bin', Buffer.from('0123456789abcdefghij'), {metadata: {mode: String(S_IFREG | 0o600)}})
    const fs = await w.open({flushDelayMs: 60_000})
    const attr = await fs.lookup(ROOT_INO, 'data.bin')
    assert.equal(attr.size, 20)
    assert.equal(attr.mode, S_IFREG | 0o600)
    await fs.write(attr.ino, 5, Buffer.from('XY'))
    assert.equal((await fs.read(attr.ino, 0, 100)).data.toString(), '01234XY789abcdefghij')
    assert.equal((await fs.read(attr.ino, 4, 4)).data.toString(), '4XY7')
    await fs.fsync(attr.ino)
    assert.equal((await readObject(w.store, 'data.bin')).toString(), '01234XY789abcdefghij')
    assert.equal((await w.store.head('data.bin'))!.metadata.mode, String(S_IFREG | 0o600))

    await fs.setattr(attr.ino, {size: 8})
    await fs.setattr(attr.ino, {size: 12})
    await fs.write(attr.ino, 14, Buffer.from('!'))
    const expected = Buffer.concat([Buffer.from('01234XY7'), Buffer.alloc(6), Buffer.from('!')])
    assert.deepEqual((await fs.read(attr.ino, 0, 100)).data, expected)
    await fs.fsync(attr.ino)
    assert.deepEqual(await readObject(w.store, 'data.bin'), expected)
    assert.equal((await fs.getattr(attr.ino)).size, 15)
    const {data, eof} = await fs.read(attr.ino, 10, 100)
    assert.equal(data.length, 5)
    assert.equal(eof, true)
    assert.deepEqual(await readAll(fs.readStream(attr.ino, {offset: 3, length: 6})), expected.subarray(3, 9))
    await fs.write(attr.ino, 0, Buffer.from('Z'))
    assert.deepEqual(await readAll(fs.readStream(attr.ino)), Buffer.concat([Buffer.from('Z'), expected.subarray(1)]))
  })

  it('changes attributes by copying the object onto itself, or in the pending upload', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open({flushDelayMs: 60_000})
    const file = await writeFile(fs, ROOT_INO, 'f', 'content')
    const sha = (await w.store.head('f'))!.metadata.sha256
    const changed = await fs.setattr(file.ino, {mode: 0o600, uid: 42, gid: 43, mtime: {sec: 1_600_000_000, nsec: 5}})
    assert.equal(changed.mode, S_IFREG | 0o600)
    const head = (await w.store.head('f'))!
    assert.equal(head.metadata.mode, String(S_IFREG | 0o600))
    assert.equal(head.metadata.uid, '42')
    assert.equal(head.metadata.gid, '43')
    assert.equal(head.metadata.mtime, '1600000000.000000005')
    assert.equal(head.metadata.sha256, sha, 'other metadata kept')
    assert.equal((await readObject(w.store, 'f')).toString(), 'content')

    const staged = await fs.create(ROOT_INO, 'g', fileMode)
    await fs.setattr(staged.ino, {mode: 0o700})
    assert.equal((await fs.getattr(staged.ino)).mode, S_IFREG | 0o700)
    await fs.fsync(staged.ino)
    assert.equal((await w.store.head('g'))!.metadata.mode, String(S_IFREG | 0o700))

    const dir = await fs.mkdir(ROOT_INO, 'd', dirMode)
    await fs.setattr(dir.ino, {mode: 0o700})
    assert.equal((await w.store.head('d/'))!.metadata.mode, String(S_IFDIR | 0o700))
    await expectErrno('EISDIR', fs.setattr(dir.ino, {size: 0}))
    const root = await fs.setattr(ROOT_INO, {mode: 0o711})
    assert.equal(root.mode, S_IFDIR | 0o711)
  })

  it('makes symlinks and special files as typed objects', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open()
    const link = await fs.symlink(ROOT_INO, 'link', '../target/file', owner)
    assert.equal(link.type, 'symlink')
    assert.equal(link.size, '../target/file'.length)
    assert.equal(await fs.readlink(link.ino), '../target/file')
    assert.equal((await readObject(w.store, 'link')).toString(), '../target/file')
    assert.equal((await w.store.head('link'))!.metadata.mode, String(S_IFLNK | 0o777))
    const fifo = await fs.mknod(ROOT_INO, 'pipe', {mode: S_IFIFO | 0o600, ...owner})
    assert.equal(fifo.type, 'fifo')
    const device = await fs.mknod(ROOT_INO, 'tty', {mode: S_IFCHR | 0o620, ...owner, rdev: 1025})
    assert.equal(device.rdev, 1025)
    const head = (await w.store.head('tty'))!
    assert.equal(head.size, 0)
    assert.equal(head.metadata.rdev, '1025')
    assert.equal(head.metadata.mode, String(S_IFCHR | 0o620))
    await expectErrno('EINVAL', fs.readlink(fifo.ino))
    await expectErrno('EINVAL', fs.read(link.ino, 0, 10))

    // A fresh cache reads the types back from the store.
    await fs.close()
    const again = await w.open({cacheDir: `${w.cacheDir}-fresh`})
    const page = await again.readdir(ROOT_INO, 0n, 10, {attributes: true})
    const types = Object.fromEntries(page.entries.map((entry) => [entry.name, entry.attr?.type]))
    assert.deepEqual(types, {link: 'symlink', pipe: 'fifo', tty: 'chardev'})
    assert.equal(await again.readlink((await again.lookup(ROOT_INO, 'link')).ino), '../target/file')
    const target = await again.mkdir(ROOT_INO, 'target', dirMode)
    await writeFile(again, target.ino, 'file', 'via link')
    const sub = await again.mkdir(ROOT_INO, 'sub', dirMode)
    await again.symlink(sub.ino, 'up', '../link', owner)
    assert.equal((await again.resolve('/sub/up', {follow: true})).type, 'file')
    assert.equal((await again.resolve('/sub/up')).type, 'symlink')
    await again.symlink(ROOT_INO, 'loop', 'loop', owner)
    await expectErrno('ELOOP', again.resolve('/loop', {follow: true}))

    // Errors of a walk name the path once, with one leading slash.
    const links = await again.mkdir(ROOT_INO, 'links', dirMode)
    await again.symlink(links.ino, 'x', '/links/x', owner)
    await rejectsAt('ELOOP', '/links/x', again.resolve('/links/x', {follow: true}))
    await rejectsAt('ELOOP', '/links/x', again.resolve('links//x/', {follow: true}))
    await rejectsAt('ENOTDIR', '/target/file/below', again.resolve('/target/file/below'))
  })

  it('unlinks and removes directories as POSIX says', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open({flushDelayMs: 60_000})
    const dir = await fs.mkdir(ROOT_INO, 'd', dirMode)
    const file = await writeFile(fs, dir.ino, 'f', 'x')
    const pending = await fs.create(dir.ino, 'pending', fileMode)
    await fs.write(pending.ino, 0, Buffer.from('never uploaded'))
    await expectErrno('ENOTEMPTY', fs.rmdir(ROOT_INO, 'd'))
    await expectErrno('EISDIR', fs.unlink(ROOT_INO, 'd'))
    await expectErrno('ENOTDIR', fs.rmdir(dir.ino, 'f'))
    await fs.unlink(dir.ino, 'f')
    assert.equal(await w.store.head('d/f'), undefined)
    await expectErrno('ESTALE', fs.getattr(file.ino))
    await expectErrno('ENOTEMPTY', fs.rmdir(ROOT_INO, 'd'), )
    await fs.unlink(dir.ino, 'pending')
    await fs.flushAll()
    assert.deepEqual(await allKeys(w.store), ['d/'])
    await fs.rmdir(ROOT_INO, 'd')
    assert.deepEqual(await allKeys(w.store), [])
    await expectErrno('ESTALE', fs.getattr(dir.ino))
    await expectErrno('ENOENT', fs.rmdir(ROOT_INO, 'd'))
    await expectErrno('ENOENT', fs.unlink(ROOT_INO, 'nothing'))
  })

  it('renames files, over files, and staged files', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open({flushDelayMs: 60_000})
    const a = await fs.mkdir(ROOT_INO, 'a', dirMode)
    const b = await fs.mkdir(ROOT_INO, 'b', dirMode)
    const file = await writeFile(fs, a.ino, 'one', 'first')
    await fs.setattr(file.ino, {mode: 0o600})
    await fs.rename(a.ino, 'one', b.ino, 'uno')
    assert.equal(await w.store.head('a/one'), undefined)
    assert.equal((await readObject(w.store, 'b/uno')).toString(), 'first')
    assert.equal((await w.store.head('b/uno'))!.metadata.mode, String(S_IFREG | 0o600))
    assert.equal((await fs.lookup(b.ino, 'uno')).ino, file.ino)
    assert.equal(fs.pathOf(file.ino), '/b/uno')

    const victim = await writeFile(fs, b.ino, 'victim', 'old')
    await fs.rename(b.ino, 'uno', b.ino, 'victim')
    assert.equal((await readObject(w.store, 'b/victim')).toString(), 'first')
    await expectErrno('ESTALE', fs.getattr(victim.ino))
    assert.deepEqual(await allKeys(w.store), ['a/', 'b/', 'b/victim'])

    const staged = await fs.create(a.ino, 'new', fileMode)
    await fs.write(staged.ino, 0, Buffer.from('staged'))
    await fs.rename(a.ino, 'new', b.ino, 'victim')
    assert.deepEqual(await allKeys(w.store), ['a/', 'b/'], 'the replaced object is gone, the staged one not yet uploaded')
    await fs.fsync(staged.ino)
    assert.equal((await readObject(w.store, 'b/victim')).toString(), 'staged')

    // A staged modification of an uploaded file moves with it.
    await fs.write(staged.ino, 0, Buffer.from('S'))
    await fs.rename(b.ino, 'victim', a.ino, 'moved')
    await fs.fsync(staged.ino)
    assert.deepEqual(await allKeys(w.store), ['a/', 'a/moved', 'b/'])
    assert.equal((await readObject(w.store, 'a/moved')).toString(), 'Staged')

    const d = await fs.mkdir(ROOT_INO, 'dir', dirMode)
    await expectErrno('EISDIR', fs.rename(a.ino, 'moved', ROOT_INO, 'dir'))
    await expectErrno('ENOENT', fs.rename(a.ino, 'missing', ROOT_INO, 'x'))
    await fs.rename(a.ino, 'moved', a.ino, 'moved')
    assert.equal((await fs.getattr(d.ino)).type, 'dir')
  })

  it('renames directories by moving every key, keeping inode numbers below', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open({flushDelayMs: 60_000})
    const top = await fs.mkdir(ROOT_INO, 'top', dirMode)
    const sub = await fs.mkdir(top.ino, 'sub', dirMode)
    const deep = await writeFile(fs, sub.ino, 'deep.txt', 'deep')
    const modified = await writeFile(fs, top.ino, 'mod', 'abcdef')
    await fs.write(modified.ino, 1, Buffer.from('B'))
    const pending = await fs.create(sub.ino, 'pending', fileMode)
    await fs.write(pending.ino, 0, Buffer.from('pending'))
    await fs.mkdir(ROOT_INO, 'empty', dirMode)
    const full = await fs.mkdir(ROOT_INO, 'full', dirMode)
    await writeFile(fs, full.ino, 'x', 'x')

    await expectErrno('EINVAL', fs.rename(ROOT_INO, 'top', sub.ino, 'inside'))
    await expectErrno('ENOTEMPTY', fs.rename(ROOT_INO, 'top', ROOT_INO, 'full'))
    await expectErrno('ENOTDIR', fs.rename(ROOT_INO, 'top', full.ino, 'x'))
    await fs.rename(ROOT_INO, 'top', ROOT_INO, 'empty')
    assert.deepEqual(await allKeys(w.store), ['empty/', 'empty/mod', 'empty/sub/', 'empty/sub/deep.txt', 'full/', 'full/x'])
    assert.equal((await fs.lookup(ROOT_INO, 'empty')).ino, top.ino)
    assert.equal(fs.pathOf(deep.ino), '/empty/sub/deep.txt')
    assert.equal((await fs.resolve('/empty/sub/deep.txt')).ino, deep.ino)
    assert.equal((await fs.read(deep.ino, 0, 10)).data.toString(), 'deep')
    await fs.flushAll()
    assert.equal((await readObject(w.store, 'empty/sub/pending')).toString(), 'pending')
    assert.equal((await readObject(w.store, 'empty/mod')).toString(), 'aBcdef')
    await expectErrno('ENOENT', fs.lookup(ROOT_INO, 'top'))
  })

  it('keeps inode numbers across close and reopen, and answers ESTALE for deleted ones', async (t) => {
    const w = await world(newWorld, t)
    let fs = await w.open()
    const dir = await fs.mkdir(ROOT_INO, 'keep', dirMode)
    const file = await writeFile(fs, dir.ino, 'f', 'data')
    const gone = await writeFile(fs, dir.ino, 'gone', 'data')
    await fs.unlink(dir.ino, 'gone')
    await fs.close()
    fs = await w.open()
    assert.equal((await fs.resolve('/keep/f')).ino, file.ino)
    assert.equal((await fs.getattr(file.ino)).generation, file.generation)
    await expectErrno('ESTALE', fs.getattr(gone.ino))
    const again = await writeFile(fs, dir.ino, 'gone', 'new')
    assert.ok(again.ino > gone.ino, 'numbers are never reused')
    await fs.rename(dir.ino, 'f', ROOT_INO, 'f2')
    await fs.close()
    fs = await w.open()
    assert.equal((await fs.lookup(ROOT_INO, 'f2')).ino, file.ino)
  })

  it('keeps readdir cookies valid across pages while entries come and go', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open({exclusive: true})
    const dir = await fs.mkdir(ROOT_INO, 'd', dirMode)
    for (let i = 0; i < 30; i++) await fs.create(dir.ino, `f${String(i).padStart(2, '0')}`, fileMode)
    await fs.flushAll()
    const first = await fs.readdir(dir.ino, 0n, 10)
    assert.deepEqual(first.entries.map((entry) => entry.name), Array.from({length: 10}, (_, i) => `f0${i}`), 'name order')
    assert.equal(first.eof, false)
    const seen = new Set(first.entries.map((entry) => entry.name))
    // Remove an entry already returned and one not yet returned; add new ones.
    await fs.unlink(dir.ino, first.entries[9].name)
    await fs.unlink(dir.ino, 'f25')
    await fs.create(dir.ino, 'late', fileMode)
    let cookie = first.entries[9].cookie
    let verifier = first.verifier
    for (;;) {
      const page = await fs.readdir(dir.ino, cookie, 10)
      assert.equal(page.verifier, verifier)
      verifier = page.verifier
      for (const entry of page.entries) {
        assert.ok(!seen.has(entry.name), `no duplicates: ${entry.name}`)
        seen.add(entry.name)
      }
      if (page.eof) break
      cookie = page.entries.at(-1)!.cookie
    }
    const expected = [...Array.from({length: 30}, (_, i) => `f${String(i).padStart(2, '0')}`).filter((name) => name !== 'f25'), 'late']
    assert.deepEqual([...seen].sort(), expected.sort())
  })

  it('lists in name order even when some names were looked up first', async (t) => {
    const w = await world(newWorld, t)
    for (const name of ['a.txt', 'm.txt', 'z.txt']) await w.store.put(`order/${name}`, Buffer.from(name))
    const fs = await w.open()
    await fs.resolve('/order/z.txt')
    await fs.resolve('/order/m.txt')
    const dir = await fs.resolve('/order')
    assert.deepEqual((await fs.readdir(dir.ino, 0n, 10)).entries.map((entry) => entry.name), ['a.txt', 'm.txt', 'z.txt'])
    await fs.create(dir.ino, 'b.txt', fileMode)
    assert.deepEqual((await fs.readdir(dir.ino, 0n, 10)).entries.map((entry) => entry.name), ['a.txt', 'b.txt', 'm.txt', 'z.txt'])
  })

  it('shows implicit directories, hides reserved keys, and sees outside changes after the TTL', async (t) => {
    const w = await world(newWorld, t)
    const other = await w.otherStore()
    await other.put('implicit/child.txt', Buffer.from('child'))
    await other.put('.zerofs/nbd/disk', Buffer.from('reserved'))
    await other.put('plain', Buffer.from('no metadata'))
    const fs = await w.open({cacheTtlMs: 0})
    assert.deepEqual(await names(fs, ROOT_INO), ['implicit', 'plain'])
    await expectErrno('ENOENT', fs.lookup(ROOT_INO, '.zerofs'))
    const implicit = await fs.lookup(ROOT_INO, 'implicit')
    assert.equal(implicit.type, 'dir')
    assert.equal(implicit.mode, S_IFDIR | 0o755)
    const plain = await fs.lookup(ROOT_INO, 'plain')
    assert.equal(plain.mode, S_IFREG | 0o644)
    assert.equal(plain.uid, process.getuid!())

    await other.put('new', Buffer.from('outside'))
    await other.copy('plain', 'plain', {metadata: {mode: String(S_IFREG | 0o600), uid: '5'}})
    await other.put('implicit/child.txt', Buffer.from('changed!'))
    assert.deepEqual(await names(fs, ROOT_INO), ['implicit', 'new', 'plain'])
    const changed = await fs.getattr(plain.ino)
    assert.equal(changed.mode, S_IFREG | 0o600)
    assert.equal(changed.uid, 5)
    const child = await fs.resolve('/implicit/child.txt')
    assert.equal((await fs.read(child.ino, 0, 100)).data.toString(), 'changed!')
    await other.delete(['new'])
    assert.deepEqual(await names(fs, ROOT_INO), ['implicit', 'plain'])

    if (w.kind === 's3') {
      // A file and a directory of the same name (only a bucket can hold both): the directory wins.
      await other.put('both', Buffer.from('hidden file'))
      await other.put('both/inner', Buffer.from('inner'))
      const cold = await w.open({cacheDir: `${w.cacheDir}-cold`, readOnly: true})
      assert.equal((await cold.lookup(ROOT_INO, 'both')).type, 'dir', 'a cold lookup finds the directory')
      assert.deepEqual(await names(fs, ROOT_INO), ['both', 'implicit', 'plain'])
      assert.equal((await fs.lookup(ROOT_INO, 'both')).type, 'dir')
      await other.delete(['both', 'both/inner'])
      assert.deepEqual(await names(fs, ROOT_INO), ['implicit', 'plain'])
    }

    // An exclusive Fs trusts its cache: outside changes stay unseen.
    await fs.close()
    const exclusive = await w.open({exclusive: true})
    assert.deepEqual(await names(exclusive, ROOT_INO), ['implicit', 'plain'])
    await other.put('unseen', Buffer.from('x'))
    assert.deepEqual(await names(exclusive, ROOT_INO), ['implicit', 'plain'])
  })

  it('refuses every mutation when read-only, and shares the cache with an owner', async (t) => {
    const w = await world(newWorld, t)
    const writer = await w.open()
    const file = await writeFile(writer, ROOT_INO, 'f', 'data')
    const reader = await w.open({readOnly: true})
    assert.equal((await reader.lookup(ROOT_INO, 'f')).ino, file.ino)
    assert.equal((await reader.read(file.ino, 0, 10)).data.toString(), 'data')
    await expectErrno('EROFS', reader.write(file.ino, 0, Buffer.from('x')))
    await expectErrno('EROFS', reader.create(ROOT_INO, 'g', fileMode))
    await expectErrno('EROFS', reader.mkdir(ROOT_INO, 'g', dirMode))
    await expectErrno('EROFS', reader.unlink(ROOT_INO, 'f'))
    await expectErrno('EROFS', reader.rename(ROOT_INO, 'f', ROOT_INO, 'g'))
    await expectErrno('EROFS', reader.setattr(file.ino, {mode: 0o600}))
    await expectErrno('EROFS', reader.symlink(ROOT_INO, 'l', 'f', owner))
    assert.equal(await reader.access(file.ino, {uid: 0, gid: 0, gids: []}, ACCESS_READ | ACCESS_WRITE), ACCESS_READ)
  })

  it('evaluates access for owner, group, other and root', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open()
    const file = await fs.create(ROOT_INO, 'f', {mode: 0o640, uid: 10, gid: 20})
    const all = ACCESS_READ | ACCESS_WRITE | ACCESS_EXECUTE
    assert.equal(await fs.access(file.ino, {uid: 10, gid: 99, gids: []}, all), ACCESS_READ | ACCESS_WRITE)
    assert.equal(await fs.access(file.ino, {uid: 11, gid: 99, gids: [20]}, all), ACCESS_READ)
    assert.equal(await fs.access(file.ino, {uid: 11, gid: 99, gids: []}, all), 0)
    assert.equal(await fs.access(file.ino, {uid: 0, gid: 0, gids: []}, all), ACCESS_READ | ACCESS_WRITE)
    const dir = await fs.mkdir(ROOT_INO, 'd', {mode: 0o700, uid: 10, gid: 20})
    assert.equal(await fs.access(dir.ino, {uid: 0, gid: 0, gids: []}, all), all)
    const statfs = await fs.statfs()
    assert.equal(statfs.nameMax, 255)
  })

  it('uploads a large file changed in part, copying unchanged parts where the store can', async (t) => {
    const w = await world(newWorld, t)
    const size = 12 * 1024 * 1024 + 123
    const original = Buffer.alloc(size)
    for (let i = 0; i + 4 <= size; i += 4) original.writeUInt32LE(i, i)
    await w.store.put('big', original)
    const fs = await w.open({flushDelayMs: 60_000, upload: {partialThreshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024}})
    const big = await fs.lookup(ROOT_INO, 'big')
    await fs.write(big.ino, 6 * 1024 * 1024, Buffer.from('CHANGED'))
    await fs.fsync(big.ino)
    const expected = Buffer.from(original)
    expected.write('CHANGED', 6 * 1024 * 1024)
    const stored = await readObject(w.store, 'big')
    assert.ok(stored.equals(expected), 'the object has the changed bytes and the rest intact')
    const head = (await w.store.head('big'))!
    assert.match(head.metadata.sha256, /^[0-9a-f]{64}$/)
    if (w.kind === 'file') assert.equal(head.metadata['part-size'], String(5 * 1024 * 1024))
    assert.ok((await fs.read(big.ino, 6 * 1024 * 1024 - 2, 10)).data.equals(expected.subarray(6 * 1024 * 1024 - 2, 6 * 1024 * 1024 + 8)))
  })

  it('reads sequentially with read-ahead and streams whole objects', async (t) => {
    const w = await world(newWorld, t)
    const size = 5 * 1024 * 1024 + 7
    const content = Buffer.alloc(size)
    for (let i = 0; i < size; i++) content[i] = (i * 31) & 0xff
    await w.store.put('seq', content)
    const fs = await w.open({readAhead: {blockSize: 256 * 1024, maxWindowBlocks: 4}})
    const attr = await fs.lookup(ROOT_INO, 'seq')
    const parts: Buffer[] = []
    for (let offset = 0; ; ) {
      const {data, eof} = await fs.read(attr.ino, offset, 100_000)
      parts.push(data)
      offset += data.length
      if (eof) break
    }
    assert.ok(Buffer.concat(parts).equals(content))
    assert.ok((await fs.read(attr.ino, 4_000_000, 10)).data.equals(content.subarray(4_000_000, 4_000_010)))
    // Across two blocks, as pieces: views of the blocks, in order.
    const across = await fs.readPieces(attr.ino, 256 * 1024 - 5, 300_000)
    assert.ok(Buffer.concat(across.pieces).equals(content.subarray(256 * 1024 - 5, 256 * 1024 - 5 + 300_000)))
    assert.ok((await readAll(fs.readStream(attr.ino))).equals(content))
    assert.ok((await readAll(fs.readStream(attr.ino, {offset: size - 10}))).equals(content.subarray(size - 10)))
  })
})

describeOnStores('fs: another writer', (newWorld) => {
  it('refuses to upload a staged file whose object another writer replaced, keeping the data staged', async (t) => {
    const w = await world(newWorld, t)
    const size = 3 * 1024 * 1024
    await w.store.put('shared.bin', Buffer.alloc(size, 'a'))
    const logged: string[] = []
    const logger = {...silentLogger, error: (message: string) => logged.push(message)}
    const fs = await w.open({flushDelayMs: 60_000, logger})
    const file = await fs.lookup(ROOT_INO, 'shared.bin')
    await fs.write(file.ino, 0, Buffer.from('local'))

    // Another tool replaces the object: its unwritten bytes are no longer those the write was made on.
    const other = await w.otherStore()
    await other.put('shared.bin', Buffer.alloc(size, 'b'))
    await expectErrno('EIO', fs.fsync(file.ino))
    assert.ok((await readObject(w.store, 'shared.bin')).equals(Buffer.alloc(size, 'b')), 'the other version stands, unmixed')
    assert.equal(logged.length, 1, 'the refusal is logged')
    assert.match(logged[0], /replaced by another writer/)
    assert.equal((await fs.read(file.ino, 0, 5)).data.toString(), 'local', 'written bytes stay readable')
    await expectErrno('EIO', fs.read(file.ino, size - 10, 10))
    await assert.rejects(fs.close())
    const cache = MetaCache.open(w.cacheDir, {owner: false})
    assert.deepEqual(cache.staging.inos(), [file.ino], 'the data is kept staged')
    cache.close()
  })
})

describe('fs: failing uploads', () => {
  it('surfaces EIO to fsync and keeps the data staged when the server is gone', async (t) => {
    const server = await startS3rver(['failing'])
    const scratch = await mkdtemp(join(tmpdir(), 'zerofs-fs-fail-'))
    const store = await S3Store.open('failing', '', {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS})
    t.after(async () => {
      await store.close()
      await server.stop()
      await rm(scratch, {recursive: true, force: true})
    })
    const fs = await Fs.open({store, cacheDir: scratch, flushDelayMs: 60_000})
    const file = await fs.create(ROOT_INO, 'f', fileMode)
    await fs.write(file.ino, 0, Buffer.from('precious'))
    await server.stop()
    await expectErrno('EIO', fs.fsync(file.ino))
    assert.equal((await fs.read(file.ino, 0, 100)).data.toString(), 'precious')
    await assert.rejects(fs.close())
    const cache = MetaCache.open(scratch, {owner: false})
    assert.deepEqual(cache.staging.inos(), [file.ino])
    cache.close()
  })
})

describeOnStores('fs: long names', (newWorld) => {
  it('creates, lists and renames 255-byte names', async (t) => {
    const w = await world(newWorld, t)
    const fs = await w.open()
    const long = 'n'.repeat(255)
    const multi = 'é'.repeat(127) + 'x'
    const dir = await fs.mkdir(ROOT_INO, long, dirMode)
    await writeFile(fs, dir.ino, multi, 'x')
    assert.deepEqual(await names(fs, dir.ino), [multi])
    await fs.rename(dir.ino, multi, dir.ino, 'm'.repeat(255))
    assert.deepEqual(await allKeys(w.store), [`${long}/`, `${long}/${'m'.repeat(255)}`])
    await expectErrno('ENAMETOOLONG', fs.create(dir.ino, 'é'.repeat(128), fileMode))
  })
}, ['file'])

describeOnStores('fs: large directories', (newWorld) => {
  it('lists 5,000 entries in pages, with attributes', async (t) => {
    const w = await world(newWorld, t)
    const {default: PQueue} = await import('p-queue')
    const queue = new PQueue({concurrency: 32})
    const total = 5000
    await Promise.all(Array.from({length: total}, (_, i) => queue.add(() => w.store.put(`big/e${String(i).padStart(5, '0')}`, Buffer.from(String(i)), {metadata: {mode: String(S_IFREG | 0o600)}}))))
    const fs = await w.open()
    const dir = await fs.lookup(ROOT_INO, 'big')
    const seen = new Set<string>()
    let cookie = 0n
    let pages = 0
    for (;;) {
      const page = await fs.readdir(dir.ino, cookie, 512, {attributes: pages < 2})
      pages++
      for (const entry of page.entries) {
        seen.add(entry.name)
        if (entry.attr) assert.equal(entry.attr.mode, S_IFREG | 0o600)
      }
      if (page.eof) break
      cookie = page.entries.at(-1)!.cookie
    }
    assert.equal(seen.size, total)
    assert.ok(pages >= 10)
  })
}, ['s3'])

describeOnStores('fs: listings of a local store', (newWorld) => {
  it('lists a cold directory with attributes from the FileStore listing alone, without a HEAD per file', async (t) => {
    const w = await newWorld()
    t.after(() => w.dispose())
    for (let i = 0; i < 20; i++) {
      await w.store.put(`many/f${String(i).padStart(2, '0')}`, Buffer.from(String(i)), {metadata: {mode: String(S_IFREG | 0o600), uid: '7', mtime: String(1_700_000_000 + i)}})
    }
    let heads = 0
    const counted = new Proxy(w.store, {
      get(target, property, receiver) {
        if (property === 'head') heads++
        const value: unknown = Reflect.get(target, property, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const fs = await w.open({store: counted})
    const dir = await fs.lookup(ROOT_INO, 'many')
    heads = 0
    const page = await fs.readdir(dir.ino, 0n, 100, {attributes: true})
    assert.equal(heads, 0)
    assert.equal(page.entries.length, 20)
    for (const [i, entry] of page.entries.entries()) {
      assert.equal(entry.attr?.mode, S_IFREG | 0o600)
      assert.equal(entry.attr?.uid, 7)
      assert.equal(entry.attr?.mtime.sec, 1_700_000_000 + i)
      assert.equal(entry.attr?.size, String(i).length)
    }
  })
}, ['file'])
