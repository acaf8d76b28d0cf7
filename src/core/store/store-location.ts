import {resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {StoreError} from './errors.js'

/** Where a store lives: an S3 bucket (and a prefix inside it, without slashes at its ends) or a local directory. */
export type StoreLocation =
  | {kind: 's3'; bucket: string; prefix: string}
  | {kind: 'file'; dir: string}

/**
 * Reads `s3://BUCKET[/PREFIX]`, `file:///DIR` or a plain path (relative to the working directory).
 * An S3 prefix is kept as written (S3 keys are plain strings: `a//b` is a prefix of its own) except
 * for the slashes at its end; percent signs are not decoded, as in the AWS CLI.
 */
export function parseStoreLocation(location: string): StoreLocation {
  if (location === '') throw invalid(location, 'the store location is empty')
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(location)?.[1]?.toLowerCase()
  if (scheme === undefined) return {kind: 'file', dir: resolve(location)}
  if (scheme === 's3') {
    const rest = location.slice('s3://'.length)
    const slash = rest.indexOf('/')
    const bucket = slash === -1 ? rest : rest.slice(0, slash)
    if (bucket === '') throw invalid(location, 'the bucket name is missing')
    const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '')
    return {kind: 's3', bucket, prefix}
  }
  if (scheme === 'file') {
    try {
      return {kind: 'file', dir: resolve(fileURLToPath(location))}
    } catch (error) {
      throw invalid(location, `not a local file URL (${(error as Error).message})`)
    }
  }
  throw invalid(location, `unsupported scheme "${scheme}://"`)
}

/**
 * The canonical URL of a store, which also keys its cache directory: `s3://bucket/prefix` (no
 * trailing slash) or `file:///abs/dir` (percent-encoded as a file URL).
 */
export function storeUrl(location: string | StoreLocation): string {
  const parsed = typeof location === 'string' ? parseStoreLocation(location) : location
  if (parsed.kind === 'file') return pathToFileURL(parsed.dir).href
  return parsed.prefix === '' ? `s3://${parsed.bucket}` : `s3://${parsed.bucket}/${parsed.prefix}`
}

function invalid(location: string, why: string): StoreError {
  return new StoreError('Failed',
    `invalid store location "${location}": ${why} (expected s3://BUCKET[/PREFIX], file:///DIR or a local path)`)
}
