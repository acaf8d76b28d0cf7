import {readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {cacheOwner} from '../cache/owner-lock.js'
import {ChunkDevice} from '../blockdev/chunk-device.js'
import {DEVICES_CACHE_DIR, deviceCacheDir, dirtyJournalDir} from '../blockdev/device-cache-dir.js'
import {listChunkFiles} from '../blockdev/dirty-journal.js'
import {chunkObjects, deviceNames} from '../blockdev/device-list.js'
import {manifestKey} from '../blockdev/layout.js'
import {chunkCount, readManifest, type Manifest} from '../blockdev/manifest.js'
import type {Logger} from '../logger.js'
import type {ObjectStore} from '../store/object-store.js'
import {asLiveOwnersWork, type Problem} from './problem.js'

export interface DeviceCheckOptions {
  store: ObjectStore
  cacheDir: string
  /** Upload the dirty chunks a stopped serve left staged. */
  repairing: boolean
  logger: Logger
  report: (problem: Problem) => void
}

/**
 * NBD devices: each manifest against its chunk objects (a manifest that does not parse, chunks past
 * the device's end, chunks of another size than the manifest's), then the dirty chunks staged in
 * the cache directory, which a repair uploads (as the next serve of the device would).
 */
export async function checkDevices(options: DeviceCheckOptions): Promise<void> {
  for await (const name of deviceNames(options.store)) await checkDevice(options, name)
  await checkStagedChunks(options)
}

async function checkDevice(options: DeviceCheckOptions, name: string): Promise<void> {
  const {store, report} = options
  let manifest: Manifest | undefined
  try {
    manifest = await readManifest(store, name)
    if (manifest === undefined) {
      report({kind: 'nbd-invalid-manifest', severity: 'error', key: manifestKey(name), detail: `device ${name} has objects but no manifest`, repaired: false})
    }
  } catch (error) {
    report({kind: 'nbd-invalid-manifest', severity: 'error', key: manifestKey(name), detail: (error as Error).message, repaired: false})
  }
  if (manifest === undefined) return
  const count = chunkCount(manifest)
  for await (const chunk of chunkObjects(store, name)) {
    if (chunk.index === undefined || chunk.index >= count) {
      const detail = chunk.index === undefined
        ? `not a chunk name of device ${name}`
        : `chunk ${chunk.index} of device ${name}, which has ${count} chunks (${manifest.size} bytes)`
      report({kind: 'nbd-chunk-beyond-size', severity: 'warning', key: chunk.key, detail, repaired: false})
    } else if (chunk.size !== manifest.chunkSize) {
      report({kind: 'nbd-chunk-wrong-size', severity: 'error', key: chunk.key, detail: `${chunk.size} bytes; device ${name} has chunks of ${manifest.chunkSize}`, repaired: false})
    }
  }
}

async function checkStagedChunks(options: DeviceCheckOptions): Promise<void> {
  const {store, cacheDir, repairing, logger, report} = options
  let names: string[]
  try {
    names = await readdir(join(cacheDir, DEVICES_CACHE_DIR))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  for (const name of names.sort()) {
    const deviceDir = deviceCacheDir(cacheDir, name)
    const dirty = await listChunkFiles(dirtyJournalDir(deviceDir))
    if (dirty.length === 0) continue
    const owner = cacheOwner(deviceDir)
    const problem: Problem = {
      kind: 'nbd-dirty-chunks', severity: 'error', path: dirtyJournalDir(deviceDir), repaired: false,
      detail: `${dirty.length} chunk(s) of device ${name} written and not yet in the bucket`,
    }
    if (!repairing || owner !== undefined) {
      report(asLiveOwnersWork(problem, owner))
      continue
    }
    try {
      const device = await ChunkDevice.open({store, cacheDir, name, logger})
      await device.close()
      report({...problem, detail: `${problem.detail}; uploaded`, repaired: true})
    } catch (error) {
      report({...problem, detail: `${problem.detail}; the upload failed: ${(error as Error).message}`})
    }
  }
}
