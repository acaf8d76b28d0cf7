import {fsError} from '../errors.js'

/**
 * Paths and keys. A path is relative to the store root without leading or trailing slash ('' is the
 * root, 'a/b' a nested entry). A file at path `a/b` is the object `a/b`; a directory at `a/b` is the
 * zero-byte marker `a/b/`; the root has no marker.
 */

/** The reserved top-level name: `.zerofs/` holds zerofs's own objects and is never shown. */
export const RESERVED_NAME = '.zerofs'
export const RESERVED_PREFIX = `${RESERVED_NAME}/`
export const NAME_MAX = 255
/** S3's limit on a whole key, in UTF-8 bytes. */
export const KEY_MAX = 1024
export const DIRECTORY_CONTENT_TYPE = 'application/x-directory'

/** UTF-8 bytes of `text`, an unpaired surrogate counted as the 3 of U+FFFD (counted, not encoded: listings call it per entry). */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** Whether a string holds more UTF-8 bytes than `limit`, counting them only when it could. */
function longerThan(text: string, limit: number): boolean {
  // A UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair, two units, is 4).
  return text.length * 3 > limit && byteLength(text) > limit
}

/** A JS string that no UTF-8 byte sequence produces (a key decoded from invalid UTF-8 may be one). */
function hasLoneSurrogate(text: string): boolean {
  return /\p{Cs}/u.test(text)
}

export function joinPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`
}

/** The key prefix of a directory's children: '' for the root, 'a/b/' for 'a/b'. */
export function dirPrefix(path: string): string {
  return path === '' ? '' : `${path}/`
}

/** The marker object of a directory (never the root). */
export function markerKey(path: string): string {
  if (path === '') throw new Error('the root directory has no marker')
  return `${path}/`
}

/** '/a/b' for messages. */
export function displayPath(path: string): string {
  return `/${path}`
}

/** Why a key found in the store cannot be shown as a POSIX path. */
export type InvalidKeyReason =
  | 'empty-component'      // '', 'a//b', '/a'
  | 'dot-component'        // 'a/./b', '../a'
  | 'name-too-long'        // a component over 255 UTF-8 bytes
  | 'nul'                  // a NUL character
  | 'invalid-utf8'         // unpaired surrogates: the key was not valid UTF-8
  | 'shadowed-by-directory' // a file `a` while `a/` has children: the directory wins (decided by listings)

export type KeyClass =
  | {kind: 'file'; path: string}
  | {kind: 'marker'; path: string}
  | {kind: 'reserved'}
  | {kind: 'invalid'; reason: InvalidKeyReason}

/** Why a single path component found in the store cannot be shown, or undefined when it can. */
export function classifyName(name: string): InvalidKeyReason | undefined {
  if (name === '') return 'empty-component'
  if (name === '.' || name === '..') return 'dot-component'
  if (name.includes('\0')) return 'nul'
  if (hasLoneSurrogate(name)) return 'invalid-utf8'
  if (longerThan(name, NAME_MAX)) return 'name-too-long'
  return undefined
}

/**
 * What a key found in the store is: a file object, a directory marker, zerofs's reserved space,
 * or something no POSIX path can name. (Whether a file is shadowed by a directory of the same name
 * depends on other keys; listings decide that.)
 */
export function classifyKey(key: string): KeyClass {
  if (key === RESERVED_NAME || key.startsWith(RESERVED_PREFIX)) return {kind: 'reserved'}
  const marker = key.endsWith('/')
  const path = marker ? key.slice(0, -1) : key
  for (const component of path.split('/')) {
    const reason = classifyName(component)
    if (reason) return {kind: 'invalid', reason}
  }
  return marker ? {kind: 'marker', path} : {kind: 'file', path}
}

/**
 * Checks a name a client wants to create in directory `parent`: EINVAL for '', '.', '..', '/' or
 * NUL; ENAMETOOLONG over 255 bytes or when the resulting key (a directory's marker included) would
 * exceed `maxKeyBytes`; EACCES for the reserved `.zerofs` at the root.
 */
export function checkNewName(parent: string, name: string, syscall: string, options: {directory?: boolean; maxKeyBytes?: number} = {}): void {
  const path = joinPath(parent, name)
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || hasLoneSurrogate(name)) {
    throw fsError('EINVAL', syscall, displayPath(path), {detail: 'invalid file name'})
  }
  if (byteLength(name) > NAME_MAX) throw fsError('ENAMETOOLONG', syscall, displayPath(path))
  const key = options.directory ? markerKey(path) : path
  if (byteLength(key) > (options.maxKeyBytes ?? KEY_MAX)) {
    throw fsError('ENAMETOOLONG', syscall, displayPath(path), {detail: 'key longer than the store allows'})
  }
  if (parent === '' && name === RESERVED_NAME) {
    throw fsError('EACCES', syscall, displayPath(path), {detail: `${RESERVED_NAME} is reserved for zerofs`})
  }
}
