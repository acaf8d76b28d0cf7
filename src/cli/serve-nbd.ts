import {Flags} from '@oclif/core'

import {ChunkDevice, DEFAULT_CACHE_SIZE, DEFAULT_CHUNK_SIZE} from '../core/blockdev/chunk-device.js'
import {checkDeviceName} from '../core/blockdev/layout.js'
import type {Logger} from '../core/logger.js'
import type {ObjectStore} from '../core/store/object-store.js'
import {parseByteSize} from '../core/transfer/byte-size.js'
import {NbdServer} from '../protocols/nbd/server.js'
import {shownHost} from './listen-address.js'

/** `zerofs serve --nbd`: the NBD side of serve, started and stopped beside (or instead of) NFS. */

const MiB = 1024 * 1024

/** The flags `serve` takes for NBD. */
export const nbdFlags = {
  nbd: Flags.string({summary: 'Serve block devices over NBD on this address (NFS then starts only with --nfs).', helpValue: 'ADDR:PORT'}),
  'nbd-device': Flags.string({summary: 'A device to export, created or grown to SIZE (repeatable): stored under .zerofs/nbd/NAME/.', multiple: true, helpValue: 'NAME=SIZE'}),
  'nbd-chunk-size': Flags.string({summary: 'Bytes per chunk object of a device created now (an existing device keeps its own).', default: `${DEFAULT_CHUNK_SIZE / MiB}M`}),
  'nbd-cache-size': Flags.string({summary: 'Local chunk cache per device (clean and dirty chunks) in the cache directory.', default: `${DEFAULT_CACHE_SIZE / MiB}M`}),
  'nbd-allow-shrink': Flags.boolean({summary: 'Allow a --nbd-device SIZE below the device\'s size: the data past the new end is deleted.'}),
}

export interface NbdFlags {
  'nbd-device'?: string[]
  'nbd-chunk-size': string
  'nbd-cache-size': string
  'nbd-allow-shrink': boolean
  'read-only'?: boolean
}

export interface DeviceSpec {
  name: string
  size: number
}

/** `disk=10G` → {name: 'disk', size: 10 GiB}. */
export function parseDeviceSpec(text: string): DeviceSpec {
  const equals = text.lastIndexOf('=')
  if (equals <= 0) throw new Error(`--nbd-device expects NAME=SIZE (e.g. disk=10G), got ${text}`)
  const name = checkDeviceName(text.slice(0, equals))
  const size = parseByteSize(text.slice(equals + 1), `size of device ${name}`)
  if (size <= 0) throw new Error(`--nbd-device ${text}: the size must be above zero`)
  return {name, size}
}

export interface RunningNbd {
  stop(): Promise<void>
}

/** The served store, as serve opened it: NBD shares its client with NFS and 9P. */
export interface ServedStore {
  store: ObjectStore
  /** How the store is shown in the log. */
  name: string
  cacheDir: string
}

/**
 * Opens every device (uploading what a previous run left staged), then listens. stop() closes
 * connections, uploads every dirty chunk and closes the devices (the store stays open: it is serve's).
 */
export async function startNbd(served: ServedStore, flags: NbdFlags, listen: {host: string; port: number}, logger: Logger): Promise<RunningNbd> {
  const specs = (flags['nbd-device'] ?? []).map(parseDeviceSpec)
  if (specs.length === 0) throw new Error('--nbd needs at least one --nbd-device NAME=SIZE')
  const names = new Set<string>()
  for (const {name} of specs) {
    if (names.has(name)) throw new Error(`the device ${name} is given twice: a device is exported once`)
    names.add(name)
  }
  const chunkSize = parseByteSize(flags['nbd-chunk-size'], '--nbd-chunk-size')
  const cacheSize = parseByteSize(flags['nbd-cache-size'], '--nbd-cache-size')
  const devices: ChunkDevice[] = []
  let server: NbdServer | undefined
  const stop = async (): Promise<void> => {
    await server?.close()
    let failure: unknown
    for (const device of devices) {
      try {
        await device.close()
      } catch (error) {
        logger.error(`device ${device.name}: ${(error as Error).message}; its dirty chunks stay staged for the next start`)
        failure ??= error
      }
    }
    if (failure !== undefined) throw failure
  }
  try {
    for (const spec of specs) {
      const device = await ChunkDevice.open({
        store: served.store, cacheDir: served.cacheDir, name: spec.name, size: spec.size, chunkSize, cacheSize,
        allowShrink: flags['nbd-allow-shrink'], readOnly: flags['read-only'], logger,
      })
      devices.push(device)
      if (device.chunkSize !== chunkSize) logger.info(`device ${device.name} keeps its chunk size of ${device.chunkSize} bytes`)
    }
    server = new NbdServer({exports: new Map(devices.map((device) => [device.name, device])), logger})
    const bound = await server.listen(listen.port, listen.host)
    const host = shownHost(bound.address)
    logger.info(`serving ${served.name} over NBD on ${host}:${bound.port}: ${devices.map((device) => `${device.name} (${device.size} bytes${device.readOnly ? ', read-only' : ''})`).join(', ')}`)
    for (const device of devices) {
      logger.info(`nbd-client -N ${device.name} ${host} ${bound.port} /dev/nbd0  |  nbdinfo nbd://${host}:${bound.port}/${device.name}`)
    }
    return {stop}
  } catch (error) {
    await stop().catch(() => undefined)
    throw error
  }
}
