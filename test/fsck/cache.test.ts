import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {mkdir, open, readdir, writeFile as writeLocalFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {it} from 'node:test'
import {CacheError} from '../../src/core/cache/errors.js'
import {SCHEMA_VERSION} from '../../src/core/cache/schema.js'
import type {Fs} from '../../src/core/fs/fs.js'
import {ROOT_INO, type Ino} from '../../src/core/fs/types.js'
import {LOST_AND_FOUND_DIR} from '../../src/core/fsck/lost-and-found.js'
import {S_IFDIR, S_IFREG} from '../../src/core/layout/mode.js'
import {allKeys, describeOnStores, type FsWorld} from '../core/fs-stores.js'
import {assertClean, assertRepairCycle, editCache, ofKind, runFsck, startWriter} from './fsck-world.js'

const owner = {uid: 1000, gid: 1000}

async function writeFile(fs: Fs, parent: Ino, name: string, data: string): Promise<Ino> {
  const attr = await fs.create(parent, name, {mode: 0o644, ...owner})
  await fs.write(attr.ino, 0, Buffer.from(data))
  await fs.fsync(attr.ino)
  return attr.ino
}

/** Reads a directory through the Fs: its complete listing lands in the cache. */
async function list(fs: Fs, dir: Ino): Promise<string[]> {
  const page = await fs.readdir(dir, 0n, 10_000)
  return page.entries.map((entry) => entry.name)
}

/**
 * Bucket times are whole seconds on many servers: a cache that looks at an object in the second it
 * was written cannot tell whether it changed since. Damage tests let a second pass first.
 */
function secondPasses(): Promise<void> {
  return sleep(1100)
}

/** A cache with a listed root holding `a.txt`, `b.txt` and `dir/` with `dir/c.txt`; the Fs closed. */
async function listedWorld(world: FsWorld): Promise<void> {
  const fs = await world.open()
  await writeFile(fs, ROOT_INO, 'a.txt', 'alpha')
  await writeFile(fs, ROOT_INO, 'b.txt', 'bravo')
  const dir = await fs.mkdir(ROOT_INO, 'dir', {mode: 0o755, ...owner})
  await writeFile(fs, dir.ino, 'c.txt', 'charlie')
  await secondPasses()
  assert.deepEqual(await list(fs, ROOT_INO), ['a.txt', 'b.txt', 'dir'])
  assert.deepEqual(await list(fs, dir.ino), ['c.txt'])
  await fs.close()
}

describeOnStores('fsck: the cache', (newWorld) => {
  it('is clean for a cache and bucket zerofs wrote', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await listedWorld(world)
    const result = await runFsck(world)
    assertClean(result)
    assert.equal(result.summary.cacheEntries, 4)
    assert.equal(result.summary.objects, 3)
    assert.equal(result.summary.directories, 1)
  })

  it('cache-integrity: a damaged database is reported, moved to lost+found by --repair, and rebuilt', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    for (let i = 0; i < 300; i++) await world.store.put(`many/file-${String(i).padStart(4, '0')}-${'x'.repeat(60)}`, Buffer.from(String(i)))
    const fs = await world.open()
    assert.equal((await list(fs, await fs.lookup(ROOT_INO, 'many').then((attr) => attr.ino))).length, 300)
    await fs.close()
    const db = await open(join(world.cacheDir, 'meta.db'), 'r+')
    try {
      const {size} = await db.stat()
      assert.ok(size > 8 * 4096, `a database of several pages (${size} bytes)`)
      // Scribbles over the b-tree page headers of pages 3 to 8 (page 1 holds the file header).
      for (let page = 2; page < 8; page++) await db.write(Buffer.alloc(64, 0xa5), 0, 64, page * 4096)
    } finally {
      await db.close()
    }
    const [check, repair] = await assertRepairCycle(world, ['cache-integrity'])
    assert.match(ofKind(check, 'cache-integrity')[0].detail, /integrity_check/)
    assert.match(ofKind(repair, 'cache-integrity')[0].detail, /moved with the staging area to .*lost\+found/)
    assert.equal(repair.summary.cache, 'rebuilt')
    const [kept] = await readdir(join(world.cacheDir, LOST_AND_FOUND_DIR))
    assert.ok(existsSync(join(world.cacheDir, LOST_AND_FOUND_DIR, kept, 'meta.db')), 'the damaged database is kept')
    const reopened = await world.open()
    assert.equal((await reopened.resolve('/many/file-0007-' + 'x'.repeat(60))).size, 1, 'a fresh cache works')
  })

  it('a database SQLite cannot read at all is an operational failure (CacheError), not a problem', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await listedWorld(world)
    const db = await open(join(world.cacheDir, 'meta.db'), 'r+')
    await db.write(Buffer.from('this is not an SQLite database header'), 0)
    await db.close()
    for (const repair of [false, true]) {
      await assert.rejects(runFsck(world, {repair}), (error: unknown) => error instanceof CacheError && /cannot read the cache database/.test(error.message))
    }
  })

  // Schema version 0: a database no migration ran on (created, then the process died), which every
  // later schema must migrate from.
  it('cache-schema: an older schema is noted (not counted) and migrated by --repair', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await mkdir(world.cacheDir, {recursive: true})
    await writeLocalFile(join(world.cacheDir, 'meta.db'), '')
    const check = await runFsck(world)
    assertClean(check, 'an old schema is not a problem')
    assert.equal(ofKind(check, 'cache-schema')[0].severity, 'info')
    const repair = await runFsck(world, {repair: true})
    assert.equal(repair.summary.exitCode, 0)
    assert.ok(ofKind(repair, 'cache-schema')[0].repaired)
    assert.equal(editCache(world, (db) => db.pragma('user_version', {simple: true})), SCHEMA_VERSION)
    assert.deepEqual(ofKind(await runFsck(world), 'cache-schema'), [])
  })

  it('cache-orphan: entries whose parent is missing are forgotten by --repair', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await listedWorld(world)
    editCache(world, (db) => db.prepare("UPDATE inodes SET parent = 999999 WHERE name = 'dir'").run())
    // The root's cached listing lost `dir` with it.
    const [check] = await assertRepairCycle(world, ['cache-orphan', 'cache-stale-listing'])
    const [orphan] = ofKind(check, 'cache-orphan')
    assert.match(orphan.detail, /'dir' .* parent inode 999999.*1 entries below it/)
  })

  it('cache-cycle: entries whose parent links loop are reported once and forgotten by --repair', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const fs = await world.open()
    const a = await fs.mkdir(ROOT_INO, 'a', {mode: 0o755, ...owner})
    const b = await fs.mkdir(a.ino, 'b', {mode: 0o755, ...owner})
    await fs.mkdir(b.ino, 'c', {mode: 0o755, ...owner})
    await fs.close()
    editCache(world, (db) => db.prepare('UPDATE inodes SET parent = ? WHERE ino = ?').run(b.ino, a.ino))
    const [check] = await assertRepairCycle(world, ['cache-cycle'])
    const cycles = ofKind(check, 'cache-cycle')
    assert.equal(cycles.length, 1, 'one report for one cycle (c only hangs below it)')
    assert.match(cycles[0].detail, new RegExp(`${a.ino} → ${b.ino} → ${a.ino}`))
  })

  it('cache-rename-pending: a directory left under two names by a killed rename is finished by --repair', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const marker = {metadata: {mode: String(S_IFDIR | 0o755)}, contentType: 'application/x-directory'}
    await world.store.put('old/', Buffer.alloc(0), marker)
    for (const name of ['a', 'b', 'c', 'd']) await world.store.put(`old/${name}`, Buffer.from(name), {metadata: {mode: String(S_IFREG | 0o600)}})
    const writer = await startWriter(world, 'directory-rename')
    await writer.kill()
    assert.equal((await allKeys(world.store, 'old/')).length, 5, 'killed while copying: nothing deleted yet')
    const [check] = await assertRepairCycle(world, ['cache-rename-pending'])
    assert.match(ofKind(check, 'cache-rename-pending')[0].detail, /renaming \/old\/ to \/new\/ was interrupted/)
    assert.deepEqual(await allKeys(world.store), ['new/', 'new/a', 'new/b', 'new/c', 'new/d'])
  })

  it('cache-missing-object: entries for objects another tool deleted are forgotten by --repair, one report per directory', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await listedWorld(world)
    const other = await world.otherStore()
    await other.delete(['a.txt', 'dir/c.txt', 'dir/'])
    const [check] = await assertRepairCycle(world, ['cache-missing-object'])
    assert.deepEqual(ofKind(check, 'cache-missing-object').map((problem) => [problem.path, problem.severity]).sort(),
      [['/a.txt', 'warning'], ['/dir', 'warning']])
    assert.match(ofKind(check, 'cache-missing-object').find((problem) => problem.path === '/dir')!.detail, /1 entries below it/)
  })

  it('cache-differs: an entry whose size, ETag or type the bucket contradicts is refreshed by --repair', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await listedWorld(world)
    editCache(world, (db) => {
      db.prepare("UPDATE inodes SET size = 99, etag = 'not-the-etag' WHERE name = 'a.txt'").run()
      db.prepare("UPDATE inodes SET type = 'file', mode = ? WHERE name = 'dir'").run(S_IFREG | 0o644)
    })
    const [check] = await assertRepairCycle(world, ['cache-differs'])
    const differs = ofKind(check, 'cache-differs')
    assert.match(differs.find((problem) => problem.path === '/a.txt')!.detail, /size 99 in the cache, 5 in the bucket; ETag not-the-etag/)
    assert.match(differs.find((problem) => problem.path === '/dir')!.detail, /a file in the cache, a directory in the bucket/)
    const fs = await world.open()
    assert.equal((await fs.resolve('/a.txt')).size, 5)
    assert.equal((await fs.resolve('/dir')).type, 'dir')
    assert.equal((await fs.read((await fs.resolve('/dir/c.txt')).ino, 0, 100)).data.toString(), 'charlie')
  })

  it('cache-differs: an object another tool rewrote after the cache looked is noted as ordinary staleness', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await listedWorld(world)
    await (await world.otherStore()).put('b.txt', Buffer.from('bravo, rewritten'))
    const check = await runFsck(world)
    assertClean(check, 'staleness the time-to-live explains is not a problem')
    const [note] = ofKind(check, 'cache-differs')
    assert.equal(note.severity, 'info')
    assert.match(note.detail, /size 5 in the cache, 16 in the bucket.*changed in the bucket since the cache last looked/)
  })

  it('cache-stale-listing: a complete listing that lacks a bucket entry is dropped by --repair', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await listedWorld(world)
    editCache(world, (db) => db.prepare("DELETE FROM inodes WHERE name = 'b.txt'").run())
    const [check] = await assertRepairCycle(world, ['cache-stale-listing'])
    assert.match(ofKind(check, 'cache-stale-listing')[0].detail, /lacks 1 entry of the bucket \(such as 'b.txt'\)/)
    const fs = await world.open()
    assert.deepEqual(await list(fs, ROOT_INO), ['a.txt', 'b.txt', 'dir'], 'read again from the bucket')
  })

  it('cache-stale-listing: entries another tool added after the listing are noted as ordinary staleness', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await listedWorld(world)
    const other = await world.otherStore()
    await other.put('dir/new.txt', Buffer.from('new'))
    await other.put('fresh/deep/file', Buffer.from('new'))
    const check = await runFsck(world)
    assertClean(check)
    assert.deepEqual(ofKind(check, 'cache-stale-listing').map((problem) => [problem.path, problem.severity]).sort(),
      [['/', 'info'], ['/dir', 'info']])
  })
})
