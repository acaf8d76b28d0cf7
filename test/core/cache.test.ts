import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import Database from 'better-sqlite3'
import {defaultCacheDir, META_DB_FILE, OWNER_LOCK_FILE} from '../../src/core/cache/cache-dir.js'
import {CacheError} from '../../src/core/cache/errors.js'
import {ListingWriter} from '../../src/core/cache/listing-writer.js'
import {MetaCache} from '../../src/core/cache/meta-cache.js'
import {listedDirFields} from '../../src/core/cache/new-rows.js'
import {acquireOwnerLock, cacheOwner} from '../../src/core/cache/owner-lock.js'
import {addRange, clipRanges, gapsIn, intersectsRange, unionRanges} from '../../src/core/cache/range-set.js'
import {SCHEMA_VERSION} from '../../src/core/cache/schema.js'
import {ROOT_INO} from '../../src/core/fs/types.js'

const owner = {uid: 1000, gid: 1000}
let scratch: string
let counter = 0
const freshDir = (): string => join(scratch, `cache-${counter++}`)

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'zerofs-cache-test-'))
})
after(() => rmSync(scratch, {recursive: true, force: true}))

describe('cache: location and lock', () => {
  it('derives the default directory from the store URL', () => {
    const dir = defaultCacheDir('s3://bucket/prefix', {XDG_CACHE_HOME: '/x/cache'})
    assert.match(dir, /^\/x\/cache\/zerofs\/[0-9a-f]{16}$/)
    assert.equal(dir, defaultCacheDir('s3://bucket/prefix', {XDG_CACHE_HOME: '/x/cache'}))
    assert.notEqual(dir, defaultCacheDir('s3://bucket/other', {XDG_CACHE_HOME: '/x/cache'}))
    assert.match(defaultCacheDir('file:///data', {HOME: '/home/u'}), /\/\.cache\/zerofs\/[0-9a-f]{16}$/)
  })

  it('lets one owner in, names it, and releases it', () => {
    const dir = freshDir()
    const cache = MetaCache.open(dir, {owner: true})
    assert.equal(cacheOwner(dir), process.pid)
    assert.throws(() => MetaCache.open(dir, {owner: true}), (error: unknown) => error instanceof CacheError && error.code === 'Locked')
    const reader = MetaCache.open(dir, {owner: false})
    reader.close()
    cache.close()
    assert.equal(cacheOwner(dir), undefined)
    MetaCache.open(dir, {owner: true}).close()
  })

  it('takes over the lock of a dead process', () => {
    const dir = freshDir()
    MetaCache.open(dir, {owner: false}).close()
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
    writeFileSync(join(dir, OWNER_LOCK_FILE), `${dead.stdout}\n`)
    assert.equal(cacheOwner(dir), undefined)
    const lock = acquireOwnerLock(dir)
    assert.equal(cacheOwner(dir), process.pid)
    lock.release()
  })

  it('refuses a database from a newer zerofs', () => {
    const dir = freshDir()
    MetaCache.open(dir, {owner: false}).close()
    const db = new Database(join(dir, META_DB_FILE))
    assert.equal(db.pragma('user_version', {simple: true}), SCHEMA_VERSION)
    assert.equal(db.pragma('journal_mode', {simple: true}), 'wal')
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    assert.throws(() => MetaCache.open(dir, {owner: false}), (error: unknown) => error instanceof CacheError && error.code === 'TooNew')
  })
})

describe('cache: inode table', () => {
  it('keeps numbers across renames and never reuses them', () => {
    const dir = freshDir()
    let cache = MetaCache.open(dir, {owner: true})
    const {inodes} = cache
    assert.equal(inodes.pathOf(ROOT_INO), '')
    const a = inodes.insert(ROOT_INO, 'a', listedDirFields(owner, Date.now()))
    const b = inodes.insert(a.ino, 'b', listedDirFields(owner, Date.now()))
    const c = inodes.insert(b.ino, 'c', listedDirFields(owner, Date.now()))
    assert.equal(inodes.pathOf(c.ino), 'a/b/c')
    inodes.move(a.ino, ROOT_INO, 'z')
    assert.equal(inodes.pathOf(c.ino), 'z/b/c')
    const epoch = cache.epoch
    cache.close()
    cache = MetaCache.open(dir, {owner: true})
    assert.equal(cache.epoch, epoch)
    assert.equal(cache.inodes.child(ROOT_INO, 'z')?.ino, a.ino)
    assert.equal(cache.inodes.pathOf(c.ino), 'z/b/c')
    cache.inodes.deleteSubtree(b.ino)
    assert.equal(cache.inodes.get(c.ino), undefined)
    assert.equal(cache.inodes.pathOf(c.ino), undefined)
    const again = cache.inodes.insert(a.ino, 'b', listedDirFields(owner, Date.now()))
    assert.ok(again.ino > c.ino)
    cache.close()
  })
})

describe('cache: listings', () => {
  it('keeps inode numbers of entries seen before, forgets vanished ones, and lets directories win', async () => {
    const cache = MetaCache.open(freshDir(), {owner: true})
    const object = (name: string, etag = 'e1') => ({kind: 'object' as const, name, size: 3, etag, lastModified: 1_700_000_000_000})
    let writer = new ListingWriter(cache, ROOT_INO, owner)
    writer.applyPage([object('a'), object('b'), {kind: 'dir', name: 'd'}])
    writer.applyPage([object('c')])
    writer.finish(() => false)
    const first = cache.inodes.children(ROOT_INO, 0, 10)
    assert.deepEqual(first.map((row) => row.name), ['a', 'b', 'c', 'd'], 'name order')
    assert.ok(cache.inodes.get(ROOT_INO)?.listedAt !== undefined)

    await new Promise((resolve) => setTimeout(resolve, 5))
    writer = new ListingWriter(cache, ROOT_INO, owner)
    // 'b' vanished, 'c' changed, 'd' is now also a file (the directory wins), 'e' is new, and 'a' is a directory now.
    writer.applyPage([object('a0'), object('c', 'e2'), object('d'), {kind: 'dir', name: 'a'}])
    writer.applyPage([{kind: 'dir', name: 'd'}, object('e')])
    writer.finish(() => false)
    const second = cache.inodes.children(ROOT_INO, 0, 10)
    assert.deepEqual(second.map((row) => row.name), ['a', 'a0', 'c', 'd', 'e'])
    const byName = new Map(second.map((row) => [row.name, row]))
    assert.deepEqual([...byName.keys()].sort(), ['a', 'a0', 'c', 'd', 'e'])
    assert.equal(byName.get('c')?.ino, first[2].ino)
    assert.equal(byName.get('c')?.etag, 'e2')
    assert.equal(byName.get('d')?.ino, first[3].ino)
    assert.equal(byName.get('d')?.type, 'dir')
    assert.equal(byName.get('a')?.type, 'dir')
    assert.notEqual(byName.get('a')?.ino, first[0].ino)
    // A cookie (position) of a removed entry still works: 'b' is gone, listing goes on after it.
    const afterB = cache.inodes.children(ROOT_INO, first[1].seq, 10).map((row) => row.name)
    assert.deepEqual(afterB, ['c', 'd', 'e'])
    cache.close()
  })

  it('slots new names in name order, renumbering (and changing the cookie generation) only when out of room', () => {
    const cache = MetaCache.open(freshDir(), {owner: true})
    const {inodes} = cache
    const add = (name: string) => inodes.insert(ROOT_INO, name, listedDirFields(owner, Date.now()))
    add('z')
    add('a')
    add('m')
    assert.deepEqual(inodes.children(ROOT_INO, 0, 10).map((row) => row.name), ['a', 'm', 'z'])
    const generation = inodes.get(ROOT_INO)!.cookieGen
    // Names that keep landing between the same two neighbours exhaust the gap once.
    for (let i = 0; i < 30; i++) add(`a${'~'.repeat(30 - i)}`)
    const names = inodes.children(ROOT_INO, 0, 100).map((row) => row.name)
    assert.deepEqual(names, [...names].sort())
    assert.equal(names.length, 33)
    assert.ok(inodes.get(ROOT_INO)!.cookieGen > generation)
    const moved = inodes.child(ROOT_INO, 'z')!
    inodes.move(moved.ino, ROOT_INO, 'b')
    assert.deepEqual(inodes.children(ROOT_INO, 0, 100).map((row) => row.name).slice(-3), [`a${'~'.repeat(30)}`, 'b', 'm'])
    cache.close()
  })

  it('places a page of new names among existing entries in name order, making room when a gap is too narrow', () => {
    const cache = MetaCache.open(freshDir(), {owner: true})
    const {inodes} = cache
    const object = (name: string) => ({kind: 'object' as const, name, size: 1, etag: 'e', lastModified: 1_700_000_000_000})
    for (const name of ['a', 'c', 'e']) inodes.insert(ROOT_INO, name, listedDirFields(owner, Date.now()))
    const generation = inodes.get(ROOT_INO)!.cookieGen
    const listed = (): string[] => inodes.children(ROOT_INO, 0, 10_000).map((row) => row.name)

    // Five names between 'a' and 'c', two after 'e', in one page and out of name order.
    let writer = new ListingWriter(cache, ROOT_INO, owner)
    writer.applyPage(['b4', 'f', 'b0', 'b2', 'b1', 'g', 'b3'].map(object))
    assert.deepEqual(listed(), ['a', 'b0', 'b1', 'b2', 'b3', 'b4', 'c', 'e', 'f', 'g'])
    assert.equal(inodes.get(ROOT_INO)!.cookieGen, generation, 'the gaps had room')

    // Three names between neighbours two positions apart: the directory is renumbered once.
    const fields = listedDirFields(owner, Date.now())
    const low = inodes.child(ROOT_INO, 'g')!.seq
    inodes.add(ROOT_INO, 'h', fields, low + 10)
    inodes.add(ROOT_INO, 'j', fields, low + 13)
    writer = new ListingWriter(cache, ROOT_INO, owner)
    writer.applyPage(['i2', 'i0', 'i1'].map(object))
    assert.deepEqual(listed(), ['a', 'b0', 'b1', 'b2', 'b3', 'b4', 'c', 'e', 'f', 'g', 'h', 'i0', 'i1', 'i2', 'j'])
    assert.equal(inodes.get(ROOT_INO)!.cookieGen, generation + 1)

    // Names JSON escapes, and characters whose UTF-16 and UTF-8 orders differ: placed in UTF-8 byte order.
    const odd = ['q"uote', 'back\\slash', 'new\nline', '\u{1F600}', '\uFFFD', 'k\u00e9']
    writer = new ListingWriter(cache, ROOT_INO, owner)
    writer.applyPage(odd.map(object))
    const all = listed()
    const byBytes = [...all].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    assert.deepEqual(all, byBytes)
    for (const name of odd) assert.ok(all.includes(name), name)
    cache.close()
  })
})

describe('cache: range sets', () => {
  it('merges, clips and finds gaps', () => {
    let list = addRange([], 10, 20)
    list = addRange(list, 30, 40)
    list = addRange(list, 20, 25)
    assert.deepEqual(list, [[10, 25], [30, 40]])
    assert.deepEqual(addRange(list, 0, 100), [[0, 100]])
    assert.deepEqual(addRange(list, 26, 28), [[10, 25], [26, 28], [30, 40]])
    assert.deepEqual(addRange(list, 0, 5), [[0, 5], [10, 25], [30, 40]])
    assert.deepEqual(gapsIn(list, 0, 50), [[0, 10], [25, 30], [40, 50]])
    assert.deepEqual(gapsIn(list, 12, 24), [])
    assert.deepEqual(clipRanges(list, 35), [[10, 25], [30, 35]])
    assert.equal(intersectsRange(list, 25, 30), false)
    assert.equal(intersectsRange(list, 24, 30), true)
    assert.deepEqual(unionRanges([[0, 2]], [[2, 4], [8, 9]]), [[0, 4], [8, 9]])
  })
})
