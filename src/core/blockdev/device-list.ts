import type {ObjectStore} from '../store/object-store.js'
import {chunksPrefix, DEVICES_PREFIX, parseChunkName} from './layout.js'
import {readManifest, type Manifest} from './manifest.js'

/** The devices of a store, as `ls --devices` and fsck see them. */

export interface ChunkObject {
  key: string
  /** Undefined for a key under `chunks/` that is not a chunk name. */
  index?: number
  size: number
}

export interface DeviceSummary {
  name: string
  /** Undefined when the manifest is missing or cannot be read (see `manifestError`). */
  manifest?: Manifest
  manifestError?: string
  chunks: number
  storedBytes: number
}

/** The names under `.zerofs/nbd/`, in key order, one listing page at a time. */
export async function* deviceNames(store: ObjectStore): AsyncGenerator<string> {
  for await (const entry of store.list({prefix: DEVICES_PREFIX, delimiter: '/'})) {
    if (entry.kind === 'prefix') yield entry.prefix.slice(DEVICES_PREFIX.length, -1)
  }
}

export async function* chunkObjects(store: ObjectStore, name: string): AsyncGenerator<ChunkObject> {
  const prefix = chunksPrefix(name)
  for await (const entry of store.list({prefix})) {
    if (entry.kind === 'object') yield {key: entry.key, index: parseChunkName(entry.key.slice(prefix.length)), size: entry.size}
  }
}

/** The manifest (or why there is none) and what the chunk objects add up to. */
export async function describeDevice(store: ObjectStore, name: string): Promise<DeviceSummary> {
  const summary: DeviceSummary = {name, chunks: 0, storedBytes: 0}
  try {
    summary.manifest = await readManifest(store, name)
    if (summary.manifest === undefined) summary.manifestError = 'no manifest'
  } catch (error) {
    summary.manifestError = (error as Error).message
  }
  for await (const chunk of chunkObjects(store, name)) {
    summary.chunks++
    summary.storedBytes += chunk.size
  }
  return summary
}
