import {mkdir, stat} from 'node:fs/promises'
import {dirname, join, relative, sep} from 'node:path'

import {StoreError} from './errors.js'
import {defaultStoreDir, parseStoreLocation, storeUrl} from './open-store.js'

/**
 * Splits what a user types after a command (`s3://bucket/a/b`, `file:///srv/data/a/b`, `./data/a`,
 * or nothing) into the store to open and the path inside it.
 */
export interface Located {
  /** The store to open: `s3://BUCKET` (the bucket root) or an absolute directory. */
  store: string
  /** The POSIX path inside the store, normalised and never above its root: `/` or `/a/b`. */
  path: string
  /**
   * The rest of the location as written, for raw key listings: `a//b/` stays `a//b/`. For a
   * local path, the path relative to the store root, with a trailing '/' kept when one was typed.
   */
  keyPrefix: string
}

/** The directory that marks a local directory as a zerofs store (the FileStore keeps its own files in it). */
const STORE_MARKER = '.zerofs'

/**
 * - `s3://BUCKET/PATH...`: the store is the bucket root and the rest is the path inside it.
 * - `file:///DIR...` or a plain path: the store is the nearest ancestor directory (itself included)
 *   holding a `.zerofs` directory, else the path itself.
 * - nothing: the embedded default store, created if missing so that a fresh machine lists it empty.
 */
export async function locate(location?: string): Promise<Located> {
  if (location === undefined || location === '') {
    const store = defaultStoreDir()
    await mkdir(store, {recursive: true})
    return {store, path: '/', keyPrefix: ''}
  }
  const parsed = parseStoreLocation(location)
  if (parsed.kind === 's3') {
    const afterScheme = location.slice(location.indexOf('://') + 3)
    const slash = afterScheme.indexOf('/')
    const rest = slash === -1 ? '' : afterScheme.slice(slash + 1)
    return {store: `s3://${parsed.bucket}`, path: normalisePath(rest), keyPrefix: rest}
  }
  const store = (await nearestStoreRoot(parsed.dir)) ?? parsed.dir
  const inside = relative(store, parsed.dir).split(sep).join('/')
  const trailingSlash = inside !== '' && /\/$/.test(location) ? '/' : ''
  return {store, path: normalisePath(inside), keyPrefix: inside + trailingSlash}
}

/**
 * For commands that take a whole store (serve, fsck): `s3://BUCKET/PREFIX` is a store scoped to
 * PREFIX (what migrate and verify write to), so its root is the prefix; a local path is located as
 * by `locate` (a path inside a store is the caller's to refuse or use).
 */
export async function locateStore(location?: string): Promise<Located> {
  if (location !== undefined && location !== '') {
    const parsed = parseStoreLocation(location)
    if (parsed.kind === 's3') {
      if (parsed.prefix !== '' && parsed.prefix.split('/').some((component) => component === '' || component === '.' || component === '..')) {
        throw new StoreError('Failed', `invalid store location "${location}": the prefix has an empty, "." or ".." component`)
      }
      return {store: storeUrl(parsed), path: '/', keyPrefix: ''}
    }
  }
  return locate(location)
}

/** `a//b/./c/../d/` → `/a/b/d`; `..` at the root stays at the root, as in POSIX path resolution. */
export function normalisePath(path: string): string {
  const components: string[] = []
  for (const component of path.split('/')) {
    if (component === '' || component === '.') continue
    if (component === '..') components.pop()
    else components.push(component)
  }
  return `/${components.join('/')}`
}

async function nearestStoreRoot(dir: string): Promise<string | undefined> {
  for (let candidate = dir; ; candidate = dirname(candidate)) {
    if (await isDirectory(join(candidate, STORE_MARKER))) return candidate
    if (dirname(candidate) === candidate) return undefined
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}
