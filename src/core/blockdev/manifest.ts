import {fsError} from '../errors.js'
import {isStoreError} from '../store/errors.js'
import type {ObjectStore} from '../store/object-store.js'
import {manifestKey} from './layout.js'

/** What a device is, stored as JSON in its manifest object. */
export interface Manifest {
  format: typeof MANIFEST_FORMAT
  /** Bytes the device offers. */
  size: number
  /** Bytes per chunk object; fixed once the device exists. Every chunk object is exactly this long. */
  chunkSize: number
}

export const MANIFEST_FORMAT = 1

export const MIN_CHUNK_SIZE = 4096
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024

/** Thrown (as a RangeError) for a manifest body zerofs cannot use; fsck reports it. */
export function parseManifest(body: string): Manifest {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    throw new RangeError('the manifest is not JSON')
  }
  const {format, size, chunkSize} = (value ?? {}) as Partial<Record<keyof Manifest, unknown>>
  if (format !== MANIFEST_FORMAT) throw new RangeError(`unknown manifest format ${JSON.stringify(format)} (this zerofs reads ${MANIFEST_FORMAT})`)
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid size ${JSON.stringify(size)}`)
  if (typeof chunkSize !== 'number' || !isValidChunkSize(chunkSize)) throw new RangeError(`invalid chunk size ${JSON.stringify(chunkSize)}`)
  return {format, size, chunkSize}
}

export function isValidChunkSize(chunkSize: number): boolean {
  return Number.isSafeInteger(chunkSize) && chunkSize >= MIN_CHUNK_SIZE && chunkSize <= MAX_CHUNK_SIZE && (chunkSize & (chunkSize - 1)) === 0
}

/** The number of chunks a device of this size spans. */
export function chunkCount(manifest: Pick<Manifest, 'size' | 'chunkSize'>): number {
  return Math.ceil(manifest.size / manifest.chunkSize)
}

/** The device's manifest, or undefined when the device does not exist; EIO when it cannot be parsed. */
export async function readManifest(store: ObjectStore, name: string): Promise<Manifest | undefined> {
  let body: string
  try {
    const chunks: Buffer[] = []
    for await (const chunk of await store.get(manifestKey(name))) chunks.push(chunk as Buffer)
    body = Buffer.concat(chunks).toString('utf8')
  } catch (error) {
    if (isStoreError(error, 'NotFound')) return undefined
    throw error
  }
  try {
    return parseManifest(body)
  } catch (error) {
    throw fsError('EIO', 'open', name, {detail: `manifest ${manifestKey(name)}: ${(error as Error).message}`, cause: error})
  }
}

export async function writeManifest(store: ObjectStore, name: string, manifest: Manifest): Promise<void> {
  await store.put(manifestKey(name), Buffer.from(`${JSON.stringify(manifest)}\n`), {contentType: 'application/json'})
}
