import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmod, lstat, mkdir, rm, truncate, unlink, utimes, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {before, it} from 'node:test'

import {classifyKey, DIRECTORY_CONTENT_TYPE} from '../../src/core/layout/keys.js'
import {parseAttributes} from '../../src/core/layout/metadata.js'
import {S_IFDIR, S_IFLNK, S_IFREG} from '../../src/core/layout/mode.js'
import type {ObjectStore} from '../../src/core/store/object-store.js'
import {assertSameTree, FIFO, HARD_LINK, LARGE_FILE, largeContent, makeFixtureTree, OWNER, snapshotTree} from './fixture-tree.js'
import {describeOnStores, listKeys, runMigration, type World} from './worlds.js'

/**
 * The migrate engine on both stores (a FileStore, and a bucket prefix on a real s3rver): a tree
 * with every kind of entry goes up with its attributes, a second run copies nothing, changes are
 * found, the tree comes back by restore exactly as it was, and filters, --delete, --dry-run,
 * --checksum, --bwlimit and the entries that cannot be copied behave as documented.
 */

const PART_SIZE = 5 * 1024 * 1024

const FILES = [
  'docs/empty.txt', 'docs/readme.txt', 'docs/run.sh', 'hard/first.bin', HARD_LINK, LARGE_FILE, 'private/secret.txt',
  'readonly/fixed.txt', 'deep/a/b/leaf.txt', 'sort/a-b.txt', 'sort/a.txt', 'sort/a/inside.txt', 'sort/a0',
  'ünïcødé/café crème.txt', 'ünïcødé/日本語.txt',
]
const SYMLINKS = ['links/absolute', 'links/dangling', 'links/relative', 'links/to-dir']
const DIRECTORIES = [
  'deep', 'deep/a', 'deep/a/b', 'docs', 'empty-dir', 'hard', 'links', 'media', 'private', 'readonly', 'sort', 'sort/a',
  'special', 'ünïcødé',
]
const ENTRIES = FILES.length + SYMLINKS.length + DIRECTORIES.length

describeOnStores('migrate a tree into a store and back', (world) => {
  let source: string

  before(async () => {
    source = join(world().scratch, 'source')
    await makeFixtureTree(source)
  })

  const upload = (options: {store?: ObjectStore; dir?: string; cacheDir?: string} & Record<string, unknown> = {}) => runMigration({
    source: {kind: 'local', dir: options.dir ?? source},
    destination: {kind: 'store', store: options.store ?? world().store},
    cacheDir: options.cacheDir ?? world().cacheDir,
    partSize: PART_SIZE,
    ...options,
  })

  it('copies every file, symlink and directory with its attributes, and lists what it skipped', async () => {
    const {report, notes} = await upload()
    assert.deepEqual(report.copied, {files: FILES.length, directories: DIRECTORIES.length, symlinks: SYMLINKS.length, bytes: report.scanned.bytes})
    assert.deepEqual({failed: report.failed, invalid: report.invalid, special: report.special, hardLinks: report.hardLinks, unchanged: report.unchanged},
      {failed: 0, invalid: 0, special: 1, hardLinks: 2, unchanged: 0})
    assert.deepEqual(notes.special.map((note) => note.path), [FIFO])
    assert.match(notes.special[0].reason, /fifo/)
    assert.deepEqual(notes['hard-link'].map((note) => note.path), ['hard/first.bin', HARD_LINK])
    assert.equal(notes['hard-link'][0].group, notes['hard-link'][1].group)

    const keys = [...(await listKeys(world().store)).keys()].sort()
    const expected = [...FILES, ...SYMLINKS, ...DIRECTORIES.map((dir) => `${dir}/`)].sort()
    assert.deepEqual(keys, expected)
  })

  it('writes the objects serve would: s3fs attributes, SHA-256, markers, symlink objects', async () => {
    const store = world().store
    const attributesOf = async (key: string) => {
      const head = await store.head(key)
      assert.ok(head, `${key} is missing`)
      const kind = classifyKey(key).kind === 'marker' ? 'marker' : 'object'
      return {head, attributes: parseAttributes(head.metadata, kind, head.lastModified, {uid: 0, gid: 0}).attributes}
    }
    const localMtime = async (path: string) => {
      const stats = await lstat(join(source, path), {bigint: true})
      return {sec: Number(stats.mtimeNs / 1_000_000_000n), nsec: Number(stats.mtimeNs % 1_000_000_000n)}
    }

    const readme = await attributesOf('docs/readme.txt')
    assert.deepEqual({mode: readme.attributes.mode, uid: readme.attributes.uid, gid: readme.attributes.gid}, {mode: S_IFREG | 0o640, ...OWNER})
    assert.deepEqual(readme.attributes.mtime, await localMtime('docs/readme.txt'))
    assert.equal(readme.head.metadata.sha256, createHash('sha256').update('read me\n').digest('hex'))

    const privateDir = await attributesOf('private/')
    assert.equal(privateDir.head.contentType, DIRECTORY_CONTENT_TYPE)
    assert.deepEqual({mode: privateDir.attributes.mode, uid: privateDir.attributes.uid}, {mode: S_IFDIR | 0o700, uid: OWNER.uid})
    assert.deepEqual(privateDir.attributes.mtime, await localMtime('private'))
    assert.equal((await attributesOf('empty-dir/')).attributes.mode, S_IFDIR | 0o755)

    const link = await attributesOf('links/dangling')
    assert.equal(link.attributes.type, 'symlink')
    assert.equal(link.attributes.mode, S_IFLNK | 0o777)
    assert.equal(link.attributes.uid, OWNER.uid)
    assert.equal(await readObject(store, 'links/dangling'), 'nowhere/at/all')

    const large = await attributesOf(LARGE_FILE)
    assert.equal(large.head.size, largeContent().length)
    assert.equal(large.head.metadata.sha256, createHash('sha256').update(largeContent()).digest('hex'))
    // Uploaded in parts on S3; a FileStore writes every object in one piece.
    if (world().kind === 's3') assert.equal(large.head.metadata['part-size'], String(PART_SIZE))
  })

  it('copies nothing on a second run, and says so', async () => {
    const before = await listKeys(world().store)
    const {report} = await upload()
    assert.deepEqual(report.copied, {files: 0, directories: 0, symlinks: 0, bytes: 0})
    assert.equal(report.unchanged, ENTRIES)
    assert.equal(report.updated, 0)
    assert.deepEqual(await listKeys(world().store), before)
  })

  it('copies a changed file, and rewrites changed attributes without copying the content', async () => {
    await writeFile(join(source, 'docs/run.sh'), '#!/bin/sh\necho changed\n')
    await chmod(join(source, 'docs/readme.txt'), 0o604)
    const before = await listKeys(world().store)
    const {report} = await upload()
    assert.deepEqual({files: report.copied.files, updated: report.updated, unchanged: report.unchanged}, {files: 1, updated: 1, unchanged: ENTRIES - 2})
    assert.equal(await readObject(world().store, 'docs/run.sh'), '#!/bin/sh\necho changed\n')
    const readme = await world().store.head('docs/readme.txt')
    assert.equal(readme?.metadata.mode, String(S_IFREG | 0o604))
    assert.equal(readme?.metadata.sha256, createHash('sha256').update('read me\n').digest('hex'))
    const after = await listKeys(world().store)
    assert.deepEqual(after.get(LARGE_FILE), before.get(LARGE_FILE))
  })

  it('restores the tree exactly: contents, modes (0700 and 0555 directories included), owners, mtimes, symlinks', async () => {
    const restored = join(world().scratch, 'restored')
    const {report} = await runMigration({source: {kind: 'store', store: world().store}, destination: {kind: 'local', dir: restored}, cacheDir: world().cacheDir})
    assert.equal(report.direction, 'restore')
    assert.deepEqual({failed: report.failed, invalid: report.invalid, warnings: report.warnings}, {failed: 0, invalid: 0, warnings: []})
    const original = await snapshotTree(source, {skip: (path) => path === FIFO})
    const fileBytes = Object.values(original).filter((entry) => entry.type === 'file').reduce((sum, entry) => sum + entry.size, 0)
    assert.deepEqual(report.copied, {files: FILES.length, directories: DIRECTORIES.length, symlinks: SYMLINKS.length, bytes: fileBytes})
    assertSameTree(await snapshotTree(restored), await snapshotTree(source, {skip: (path) => path === FIFO}))

    const again = await runMigration({source: {kind: 'store', store: world().store}, destination: {kind: 'local', dir: restored}, cacheDir: world().cacheDir})
    assert.deepEqual(again.report.copied, {files: 0, directories: 0, symlinks: 0, bytes: 0})
    assert.equal(again.report.unchanged, ENTRIES)
    assertSameTree(await snapshotTree(restored), await snapshotTree(source, {skip: (path) => path === FIFO}))
  })

  it('a restore --dry-run lists what it would copy and creates nothing', async () => {
    const nowhere = join(world().scratch, 'not-restored')
    const {report, notes} = await runMigration({source: {kind: 'store', store: world().store}, destination: {kind: 'local', dir: nowhere}, cacheDir: world().cacheDir, dryRun: true})
    assert.equal(notes['would-copy'].length, ENTRIES)
    assert.deepEqual(report.copied, {files: FILES.length, directories: DIRECTORIES.length, symlinks: SYMLINKS.length, bytes: report.copied.bytes})
    await assert.rejects(lstat(nowhere), {code: 'ENOENT'})
  })

  it('--dry-run lists what it would copy and delete, and changes nothing', async () => {
    await writeFile(join(source, 'docs/new.txt'), 'new\n')
    await unlink(join(source, 'sort/a0'))
    const before = await listKeys(world().store)
    const {report, notes} = await upload({dryRun: true, delete: true})
    // The directories' own mtimes changed with their contents: their markers would be written again.
    assert.deepEqual(notes['would-copy'].map((note) => note.path), ['docs/', 'docs/new.txt', 'sort/'])
    assert.deepEqual(notes['would-delete'].map((note) => note.path), ['sort/a0'])
    assert.deepEqual({dryRun: report.dryRun, files: report.copied.files, directories: report.copied.directories, deleted: report.deleted},
      {dryRun: true, files: 1, directories: 2, deleted: 1})
    assert.deepEqual(await listKeys(world().store), before)
  })

  it('--delete removes what the source no longer has, and only with the flag', async () => {
    await upload()
    assert.ok((await listKeys(world().store)).has('sort/a0'), 'deleted without --delete')
    const {report} = await upload({delete: true})
    assert.equal(report.deleted, 1)
    const keys = await listKeys(world().store)
    assert.ok(!keys.has('sort/a0'))
    assert.ok(keys.has('docs/new.txt'))
  })

  it('--checksum finds content changed behind the same size and mtime', async () => {
    // A whole-second mtime, which utimes can set back exactly.
    const path = join(source, 'sort/a.txt')
    const {mtime} = await lstat(path)
    await writeFile(path, 'DOT\n')
    await utimes(path, mtime, mtime)
    assert.equal((await upload()).report.copied.files, 0, 'size and mtime are the same: a plain run cannot tell')
    const {report} = await upload({checksum: true})
    assert.equal(report.copied.files, 1)
    assert.equal(await readObject(world().store, 'sort/a.txt'), 'DOT\n')
    assert.equal((await upload({checksum: true})).report.copied.files, 0)
  })

  it('takes only what the filters let through', async () => {
    const {store} = await world().freshStore('filtered')
    await upload({store, filter: {exclude: ['*.txt', 'links/', '/media']}})
    const keys = [...(await listKeys(store)).keys()]
    assert.ok(keys.every((key) => !key.endsWith('.txt') && !key.startsWith('links/') && !key.startsWith('media/')), keys.join(', '))
    assert.ok(keys.includes('docs/run.sh') && keys.includes('sort/a/') && keys.includes(HARD_LINK))

    const {store: binaries} = await world().freshStore('binaries')
    await upload({store: binaries, filter: {include: ['*.bin']}})
    const files = [...(await listKeys(binaries)).keys()].filter((key) => !key.endsWith('/'))
    assert.deepEqual(files.sort(), ['hard/first.bin', HARD_LINK, LARGE_FILE].sort())
  })

  it('copies correctly under a bandwidth limit', async () => {
    const {store} = await world().freshStore('limited')
    const {report} = await upload({store, bytesPerSecond: 256 * 1024 * 1024})
    assert.equal(report.failed, 0)
    const large = await store.head(LARGE_FILE)
    assert.equal(large?.metadata.sha256, createHash('sha256').update(largeContent()).digest('hex'))
    assert.equal(createHash('sha256').update(await readBytes(store, LARGE_FILE)).digest('hex'), large?.metadata.sha256)
  })

  it('lists names that cannot be stored and files that change while read, and copies the rest', async () => {
    const dir = join(world().scratch, 'awkward')
    await mkdir(dir)
    await writeFile(join(dir, 'fine.txt'), 'fine\n')
    await writeFile(join(dir, Buffer.from([0x62, 0x61, 0x64, 0xff, 0x2e, 0x74, 0x78, 0x74]).toString('latin1')), 'x')
    // Not UTF-8: made through a Buffer path.
    await writeFile(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x6e, 0xe9, 0x2e, 0x74, 0x78, 0x74])]), 'latin-1 name\n')
    let deep = dir
    for (let level = 0; level < 5; level++) {
      deep = join(deep, String(level).repeat(200))
      await mkdir(deep)
    }
    // 1005 bytes of directories and a 30-byte name: over S3's 1024 (the markers on the way fit).
    await writeFile(join(deep, `${'t'.repeat(26)}.txt`), 'x')
    const growing = join(dir, 'growing.log')
    // Larger than a part: its read spans the whole upload, so the writer surely gets in between.
    await writeFile(growing, Buffer.alloc(PART_SIZE + 1024 * 1024, 1))
    const writer = spawn(process.execPath, ['-e', `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(growing)}, 'a'); for (;;) fs.writeSync(fd, 'more')`], {stdio: 'ignore'})
    try {
      // A new process can take a while to start on a busy machine: go on once it writes.
      for (let polls = 0; (await lstat(growing)).size === PART_SIZE + 1024 * 1024; polls++) {
        assert.ok(polls < 300, 'the writer did not start within 30 s')
        await sleep(100)
      }
      const {store} = await world().freshStore('awkward')
      const {report, notes} = await upload({store, dir, cacheDir: join(world().scratch, 'awkward-cache')})
      assert.deepEqual(notes.invalid.map((note) => note.path).sort(), [
        `${'0'.repeat(200)}/${'1'.repeat(200)}/${'2'.repeat(200)}/${'3'.repeat(200)}/${'4'.repeat(200)}/${'t'.repeat(26)}.txt`,
        'n\\xe9.txt',
      ])
      assert.match(notes.invalid.find((note) => note.path === 'n\\xe9.txt')!.reason, /not valid UTF-8/)
      assert.match(notes.invalid.find((note) => note.path.endsWith('.txt') && note.path.length > 1000)!.reason, /longer than the store allows/)
      assert.deepEqual(notes.failed.map((note) => note.path), ['growing.log'])
      assert.match(notes.failed[0].reason, /changed while it was read/)
      assert.deepEqual({failed: report.failed, invalid: report.invalid}, {failed: 1, invalid: 2})
      const keys = await listKeys(store)
      assert.ok(keys.has('fine.txt') && keys.has('badÿ.txt'))
    } finally {
      writer.kill('SIGKILL')
      await new Promise((resolve) => writer.once('close', resolve))
    }
  })

  it('fails before copying anything when the source is not a directory', async () => {
    const file = join(world().scratch, 'a-file')
    await writeFile(file, 'x')
    await assert.rejects(upload({dir: file}), {name: 'TransferError', message: /is not a directory/})
    await truncate(file)
    await rm(file)
  })
})

async function readBytes(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

async function readObject(store: ObjectStore, key: string): Promise<string> {
  return (await readBytes(store, key)).toString('utf8')
}

export type {World}
