import type {FileType, Timestamp} from '../fs/types.js'

/**
 * Entries of the two kinds of tree a transfer or comparison walks: a local directory tree and a
 * store. Both are walked in one order, the store's key order (UTF-8 bytes of the key, where a
 * directory's key ends with '/'), so that two walks merge like two sorted lists.
 */

/** Attributes read from a local file with lstat. */
export interface LocalStats {
  type: FileType
  size: number
  /** Full st_mode, type bits included. */
  mode: number
  uid: number
  gid: number
  rdev: number
  mtime: Timestamp
  atime: Timestamp
  ctime: Timestamp
  dev: number
  ino: number
  nlink: number
}

export interface LocalEntry {
  side: 'local'
  /** The key this entry has in a store: `a/b` for a file, `a/b/` for a directory. */
  key: string
  /** Relative to the tree's root, no leading or trailing slash. */
  path: string
  /** Absolute path on disk. */
  absolute: string
  stats: LocalStats
}

export interface StoreEntry {
  side: 'store'
  key: string
  path: string
  /** 'object' for a key without a trailing slash: a file, symlink or special file by its metadata. */
  kind: 'object' | 'marker' | 'implicit'
  size: number
  /** Undefined for an implicit directory (no object). */
  etag?: string
  lastModified?: Date
}

export type TreeEntry = LocalEntry | StoreEntry

/** Something a walk met that is not an entry: a name that cannot be a key, a directory it could not read. */
export interface WalkProblem {
  /** As well as it can be shown (bytes that are not UTF-8 as \xNN). */
  path: string
  reason: string
  /** 'invalid-name': the name cannot be stored; 'unreadable': the walk could not read it. */
  kind: 'invalid-name' | 'unreadable'
}

/** How notes name an entry: a directory with a trailing slash. */
export function displayPath(entry: {path: string; key: string}): string {
  return entry.key.endsWith('/') ? entry.key : entry.path
}
