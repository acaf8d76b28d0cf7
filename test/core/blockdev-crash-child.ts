/**
 * The process the block device crash tests kill: opens a device, writes a known pattern (and
 * flushes it, in the 'flushed' scenario), prints one JSON line when it is ready to be killed, and waits.
 */
import {ChunkDevice} from '../../src/core/blockdev/chunk-device.js'
import {FileStore} from '../../src/core/store/file-store.js'
import type {ObjectStore} from '../../src/core/store/object-store.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {S3RVER_CREDENTIALS} from '../helpers/s3rver.js'
import {CRASH_DEVICE, crashPattern, type BlockdevCrashConfig} from './blockdev-crash-pattern.js'
import type {StoreLocation} from './fs-stores.js'

async function openStore(config: StoreLocation): Promise<ObjectStore> {
  return config.kind === 'file'
    ? new FileStore(config.dir)
    : S3Store.open(config.bucket, config.prefix, {endpoint: config.endpoint, credentials: S3RVER_CREDENTIALS})
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as BlockdevCrashConfig
  const store = await openStore(config.store)
  // No background uploads: the kill must not cut one (s3rver would keep the partial body of such a
  // PUT and write it later over what the next open uploads; S3 never stores a short PUT).
  const device = await ChunkDevice.open({store, cacheDir: config.cacheDir, ...CRASH_DEVICE, idleUploadMs: 3_600_000})
  for (const {offset, data} of crashPattern(1)) await device.write(offset, data)
  if (config.scenario === 'flushed') await device.flush()
  process.stdout.write(`${JSON.stringify({ready: true})}\n`)
  await new Promise(() => undefined)
}

await main()
