import {Flags} from '@oclif/core'

import {defaultCacheDir} from '../core/cache/cache-dir.js'
import {ChunkDevice, DEFAULT_CACHE_SIZE, DEFAULT_CHUNK_SIZE} from '../core/blockdev/chunk-device.js'
import {checkDeviceName} from '../core/blockdev/layout.js'
import type {Logger} from '../core/logger.js'
import {locateStore} from '../core/store/locate.js'
import {openStore, storeUrl} from '../core/store/open-store.js'
import {parseByteSize} from '../core/transfer/byte-size.js'
import {NbdServer} from '../protocols/nbd/server.js'
import {storeOptions, type BaseFlags} from './base-command.js'

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
  nbd: string
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

/**
 * Opens the store and every device (uploading what a previous run left staged), then listens.
 * stop() closes connections, uploads every dirty chunk and closes the devices and the store.
 */
export async function startNbd(location: string | undefined, flags: BaseFlags & NbdFlags, listen: {host: string; port: number}, logger: Logger): Promise<RunningNbd> {
  const specs = (flags['nbd-device'] ?? []).map(parseDeviceSpec)
  if (specs.length === 0) throw new Error('--nbd needs at least one --nbd-device NAME=SIZE')
  const names = new Set<string>()
  for (const {name} of specs) {
    if (names.has(name)) throw new Error(`the device ${name} is given twice: a device is exported once`)
    names.add(name)
  }
  const chunkSize = parseByteSize(flags['nbd-chunk-size'], '--nbd-chunk-size')
  const cacheSize = parseByteSize(flags['nbd-cache-size'], '--nbd-cache-size')
  const located = await locateStore(location)
  if (located.path !== '/') throw new Error(`serve exports a whole store: give ${located.store}, not a directory inside it (${located.path})`)
  const store = await openStore(located.store, storeOptions(flags))
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
    await store.close()
    if (failure !== undefined) throw failure
  }
  try {
    await store.check()
    const cacheDir = flags['cache-dir'] ?? defaultCacheDir(storeUrl(located.store))
    for (const spec of specs) {
      const device = await ChunkDevice.open({
        store, cacheDir, name: spec.name, size: spec.size, chunkSize, cacheSize, allowShrink: flags['nbd-allow-shrink'], readOnly: flags['read-only'], logger,
      })
      devices.push(device)
      if (device.chunkSize !== chunkSize) logger.info(`device ${device.name} keeps its chunk size of ${device.chunkSize} bytes`)
    }
    server = new NbdServer({exports: new Map(devices.map((device) => [device.name, device])), logger})
    const bound = await server.listen(listen.port, listen.host)
    const host = bound.address.includes(':') ? `[${bound.address}]` : bound.address
    logger.info(`serving ${located.store} over NBD on ${host}:${bound.port}: ${devices.map((device) => `${device.name} (${device.size} bytes${device.readOnly ? ', read-only' : ''})`).join(', ')}`)
    for (const device of devices) {
      logger.info(`nbd-client -N ${device.name} ${host} ${bound.port} /dev/nbd0  |  nbdinfo nbd://${host}:${bound.port}/${device.name}`)
    }
    return {stop}
  } catch (error) {
    await stop().catch(() => undefined)
    throw error
  }
}
