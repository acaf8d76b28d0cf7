import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {it} from 'node:test'
import {CacheError} from '../../src/core/cache/errors.js'
import {LOST_AND_FOUND_DIR} from '../../src/core/fsck/lost-and-found.js'
import {S_IFREG} from '../../src/core/layout/mode.js'
import {allKeys, describeOnStores, readObject, type FsWorld} from '../core/fs-stores.js'
import {assertClean, assertKinds, assertRepairCycle, counting, editCache, ofKind, runFsck, startWriter} from './fsck-world.js'
import {stagedContent} from './writer-child.js'

async function withExisting(world: FsWorld): Promise<void> {
  await world.store.put('existing.txt', Buffer.from('abcdefgh'), {metadata: {mode: String(S_IFREG | 0o644)}})
}

/** The staging files of a cache, by name, with their contents. */
async function lostAndFound(world: FsWorld): Promise<Map<string, Buffer>> {
  const dir = join(world.cacheDir, LOST_AND_FOUND_DIR)
  const files = new Map<string, Buffer>()
  if (!existsSync(dir)) return files
  for (const name of await readdir(dir)) files.set(name, await readFile(join(dir, name)))
  return files
}

describeOnStores('fsck: the staging area', (newWorld) => {
  it('notes a live owner\'s staged writes, refuses --repair beside it; after a crash reports them, uploads them, then is clean', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await withExisting(world)
    const writer = await startWriter(world, 'staged-writes')
    t.after(() => writer.kill())

    const beside = await runFsck(world)
    assertClean(beside, 'a check beside a live owner')
    const noted = ofKind(beside, 'staging-not-uploaded')
    assert.equal(noted.length, 5, 'three written files, one created empty, one truncated')
    assert.ok(noted.every((problem) => problem.severity === 'info' && problem.detail.includes(`process ${writer.pid}`)), JSON.stringify(noted))
    await assert.rejects(runFsck(world, {repair: true}), (error: unknown) => {
      assert.ok(error instanceof CacheError && error.code === 'Locked')
      assert.match(error.message, new RegExp(`zerofs process ${writer.pid}\\b`))
      return true
    })

    await writer.kill()
    const [check] = await assertRepairCycle(world, ['staging-not-uploaded'])
    assert.deepEqual(ofKind(check, 'staging-not-uploaded').map((problem) => problem.path).sort(),
      ['/docs/empty.txt', '/docs/file0', '/docs/file1', '/docs/file2', '/existing.txt'])
    assert.ok(check.problems.every((problem) => problem.severity !== 'error' || problem.kind === 'staging-not-uploaded'))
    for (let i = 0; i < 3; i++) assert.ok((await readObject(world.store, `docs/file${i}`)).equals(stagedContent(i)), `docs/file${i} uploaded`)
    assert.equal((await readObject(world.store, 'docs/empty.txt')).length, 0)
    assert.equal((await readObject(world.store, 'existing.txt')).toString(), 'abcd')
    assert.equal((await world.store.head('docs/file1'))!.metadata.mode, String(S_IFREG | 0o640))
  })

  it('moves data files no journal entry describes to lost+found, never deleting them', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const fs = await world.open()
    await fs.close()
    await writeFile(join(world.cacheDir, 'staging', '987654'), 'orphaned bytes')
    await writeFile(join(world.cacheDir, 'staging', 'notes.tmp'), 'not ours')
    const [check, repair] = await assertRepairCycle(world, ['staging-stray-file'])
    assert.equal(ofKind(check, 'staging-stray-file').length, 2)
    assert.match(ofKind(repair, 'staging-stray-file')[0].detail, /moved to .*lost\+found/)
    const kept = [...(await lostAndFound(world)).entries()]
    assert.deepEqual(kept.map(([name, data]) => [name.replace(/\.\d{4}-.*$/, ''), data.toString()]).sort(),
      [['staging-987654', 'orphaned bytes'], ['staging-notes.tmp', 'not ours']])
    assert.deepEqual(await readdir(join(world.cacheDir, 'staging')), [])
  })

  it('journal entries whose data file is gone: written data is reported lost, unwritten files are uploaded again', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await withExisting(world)
    const writer = await startWriter(world, 'staged-writes')
    await writer.kill()
    const inos = writer.report.inos as Record<string, string>
    for (const name of ['file0', 'empty.txt', 'existing.txt']) await rm(join(world.cacheDir, 'staging', inos[name]))

    const check = await runFsck(world)
    assertKinds(check, ['staging-missing-file', 'staging-not-uploaded'])
    assert.equal(check.summary.exitCode, 4)
    const missing = ofKind(check, 'staging-missing-file')
    assert.deepEqual(missing.map((problem) => problem.path).sort(), ['/docs/empty.txt', '/docs/file0', '/existing.txt'])
    assert.match(missing.find((problem) => problem.path === '/docs/file0')!.detail, /cannot be recovered/)

    const repair = await runFsck(world, {repair: true})
    assert.equal(repair.summary.exitCode, 1, JSON.stringify(repair.problems))
    assert.ok(counting(repair).every((problem) => problem.repaired))
    // The lost file was never uploaded: with its journal entry gone, its cache entry goes too.
    assertKinds(repair, ['staging-missing-file', 'staging-not-uploaded', 'cache-missing-object'])
    assert.equal((await readObject(world.store, 'existing.txt')).toString(), 'abcd', 'refilled from the object it started from')
    assert.equal((await readObject(world.store, 'docs/empty.txt')).length, 0)
    assert.ok(!(await allKeys(world.store)).includes('docs/file0'))
    assert.ok((await readObject(world.store, 'docs/file1')).equals(stagedContent(1)))
    assertClean(await runFsck(world), 'the run after the repair')
  })

  it('moves the data of a journal entry whose file left the cache tree to lost+found, with a note', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const writer = await startWriter(world, 'staged-writes')
    await writer.kill()
    const ino = (writer.report.inos as Record<string, string>).file1
    editCache(world, (db) => db.prepare('DELETE FROM inodes WHERE ino = ?').run(ino))

    const check = await runFsck(world)
    assertKinds(check, ['staging-lost-entry', 'staging-not-uploaded'])
    assert.equal(check.summary.exitCode, 4)
    const repair = await runFsck(world, {repair: true})
    assertKinds(repair, ['staging-lost-entry', 'staging-not-uploaded'])
    assert.equal(repair.summary.exitCode, 1)
    const kept = await lostAndFound(world)
    const data = [...kept.entries()].find(([name]) => name.startsWith(`inode-${ino}.`) && !name.endsWith('.json'))
    const note = [...kept.entries()].find(([name]) => name.startsWith(`inode-${ino}.`) && name.endsWith('.json'))
    assert.ok(data && data[1].equals(stagedContent(1)), 'the written data is kept')
    assert.equal((JSON.parse(note![1].toString()) as {journal: {size: number}}).journal.size, stagedContent(1).length, 'the note holds the journal entry')
    assert.ok(!(await allKeys(world.store)).includes('docs/file1'))
    assertClean(await runFsck(world), 'the run after the repair')
  })
})
