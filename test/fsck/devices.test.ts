import assert from 'node:assert/strict'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {it} from 'node:test'

import {ChunkDevice} from '../../src/core/blockdev/chunk-device.js'
import {chunkFilesDir, deviceCacheDir, dirtyJournalDir} from '../../src/core/blockdev/device-cache-dir.js'
import {chunkKey, chunkName, manifestKey} from '../../src/core/blockdev/layout.js'
import {describeOnStores, readObject, type FsWorld} from '../core/fs-stores.js'
import {assertClean, assertKinds, assertRepairCycle, ofKind, runFsck} from './fsck-world.js'

const CHUNK = 64 * 1024

async function makeDevice(world: FsWorld, name = 'disk'): Promise<void> {
  const device = await ChunkDevice.open({store: world.store, cacheDir: world.cacheDir, name, size: 8 * CHUNK, chunkSize: CHUNK})
  await device.write(CHUNK - 10, Buffer.alloc(20, 7))
  await device.close()
}

describeOnStores('fsck: NBD devices', (newWorld, kind) => {
  it('a device written and closed is clean', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await makeDevice(world)
    assertClean(await runFsck(world))
  })

  it('nbd-invalid-manifest: a manifest that does not parse, or none beside chunks, is reported and left', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await makeDevice(world)
    await makeDevice(world, 'other')
    await world.store.put(manifestKey('disk'), Buffer.from('{"format": 1, "size": "big"}'))
    await world.store.delete([manifestKey('other')])
    const check = await runFsck(world)
    assertKinds(check, ['nbd-invalid-manifest'])
    // s3rver lists no common prefix for a "directory" that holds only deeper keys (other/chunks/...),
    // so a device without a manifest is found on the file store (and S3) only.
    const expected = kind === 's3' ? [manifestKey('disk')] : [manifestKey('disk'), manifestKey('other')]
    assert.deepEqual(ofKind(check, 'nbd-invalid-manifest').map((problem) => problem.key), expected)
    assert.equal(check.summary.exitCode, 4)
    const repair = await runFsck(world, {repair: true})
    assert.equal(repair.summary.exitCode, 4, 'a user\'s device is never rewritten')
  })

  it('nbd-chunk-beyond-size and nbd-chunk-wrong-size: chunk objects the manifest disagrees with are reported and left', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await makeDevice(world)
    await world.store.put(chunkKey('disk', 8), Buffer.alloc(CHUNK))
    await world.store.put(chunkKey('disk', 3), Buffer.alloc(100))
    const check = await runFsck(world)
    assertKinds(check, ['nbd-chunk-beyond-size', 'nbd-chunk-wrong-size'])
    assert.deepEqual(ofKind(check, 'nbd-chunk-beyond-size').map((problem) => problem.key), [chunkKey('disk', 8)])
    assert.deepEqual(ofKind(check, 'nbd-chunk-wrong-size').map((problem) => problem.key), [chunkKey('disk', 3)])
    assert.equal(check.summary.exitCode, 4)
    assert.equal((await runFsck(world, {repair: true})).summary.exitCode, 4)
  })

  it('nbd-dirty-chunks: chunks a killed serve left staged are uploaded by --repair', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await makeDevice(world)
    // What a serve killed after a write leaves: the journal marker and the chunk's local copy.
    const deviceDir = deviceCacheDir(world.cacheDir, 'disk')
    await mkdir(dirtyJournalDir(deviceDir), {recursive: true})
    await mkdir(chunkFilesDir(deviceDir), {recursive: true})
    await writeFile(join(dirtyJournalDir(deviceDir), chunkName(5)), '')
    await writeFile(join(chunkFilesDir(deviceDir), chunkName(5)), Buffer.alloc(CHUNK, 5))
    await assertRepairCycle(world, ['nbd-dirty-chunks'])
    assert.ok((await readObject(world.store, chunkKey('disk', 5))).equals(Buffer.alloc(CHUNK, 5)))
  })
})
