import {homedir} from 'node:os'
import {isAbsolute, join} from 'node:path'

import {FileStore} from './file-store.js'
import type {ObjectStore} from './object-store.js'
import type {ChecksumMode} from './s3-client.js'
import {parseStoreLocation} from './store-location.js'

export {parseStoreLocation, storeUrl, type StoreLocation} from './store-location.js'

/** The store flags every command shares (`--endpoint`, `--region`, `--path-style`, `--checksum-mode`); S3 only. */
export interface StoreOptions {
  endpoint?: string
  region?: string
  pathStyle?: boolean
  checksumMode?: ChecksumMode
  /** Concurrent connections to the S3 endpoint (default 64). */
  maxSockets?: number
}

/**
 * Opens the store a location names: `s3://BUCKET[/PREFIX]` as an S3Store, `file:///DIR` or a plain
 * path as a FileStore. It does not contact the store; `check()` does.
 */
export async function openStore(location: string, options: StoreOptions = {}): Promise<ObjectStore> {
  const parsed = parseStoreLocation(location)
  if (parsed.kind === 'file') return new FileStore(parsed.dir)
  // The AWS SDK takes a good part of a command's start-up to load: only S3 stores pay for it.
  const {S3Store} = await import('./s3-store.js')
  return S3Store.open(parsed.bucket, parsed.prefix, options)
}

/** The embedded default store: `$XDG_DATA_HOME/zerofs/default`, else `~/.local/share/zerofs/default`. */
export function defaultStoreDir(): string {
  // The XDG spec: a relative XDG_DATA_HOME is invalid and must be ignored.
  const dataHome = process.env.XDG_DATA_HOME
  const base = dataHome !== undefined && isAbsolute(dataHome) ? dataHome : join(homedir(), '.local', 'share')
  return join(base, 'zerofs', 'default')
}
