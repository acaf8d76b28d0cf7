import {stat} from 'node:fs/promises'
import {resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

import type {ObjectStore} from '../store/object-store.js'
import {describeError, TransferError} from './errors.js'

/** One side of a transfer or comparison: a local directory tree, or a store. */
export type Endpoint =
  | {kind: 'local'; dir: string}
  | {kind: 'store'; store: ObjectStore}

/** How an endpoint is named in reports: the directory, or the store's URL. */
export function endpointLabel(endpoint: Endpoint): string {
  return endpoint.kind === 'local' ? resolve(endpoint.dir) : endpoint.store.url
}

/** A stable name for an endpoint, for the journal: a file URL or the store's URL. */
export function endpointId(endpoint: Endpoint): string {
  return endpoint.kind === 'local' ? pathToFileURL(resolve(endpoint.dir)).href : endpoint.store.url
}

/** How the journal names a migration from a local tree into a store (see TransferDatabase.claim). */
export function uploadPairDescription(source: Endpoint, destination: Endpoint): string {
  return `upload ${endpointId(source)} -> ${endpointId(destination)}`
}

/** How the journal names a restore from a store into a local tree. */
export function restorePairDescription(source: Endpoint, destination: Endpoint): string {
  return `restore ${endpointId(source)} -> ${endpointId(destination)}`
}

/**
 * Fails before any work when an endpoint cannot be used: a store that is missing, refuses the
 * credentials or cannot be reached (StoreError), a directory that is missing or is not one
 * (TransferError Usage).
 */
export async function checkEndpoint(endpoint: Endpoint, signal?: AbortSignal): Promise<void> {
  if (endpoint.kind === 'store') {
    await endpoint.store.check(signal)
    return
  }
  let isDirectory: boolean
  try {
    isDirectory = (await stat(endpoint.dir)).isDirectory()
  } catch (error) {
    throw new TransferError('Usage', `${endpoint.dir} cannot be read: ${describeError(error)}`, {cause: error})
  }
  if (!isDirectory) throw new TransferError('Usage', `${endpoint.dir} is not a directory`)
}
