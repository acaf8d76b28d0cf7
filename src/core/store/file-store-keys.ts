import {StoreError} from './errors.js'

/**
 * Keys of a FileStore: a key is a relative path below the store directory, so only keys a directory
 * tree can hold are accepted. Every check is lexical; nothing here touches the disk.
 */

/** Longest file name Linux filesystems hold, in bytes. */
export const NAME_MAX_BYTES = 255

/** The FileStore's own files live in `.zerofs/filestore/`; the rest of `.zerofs/` holds ordinary keys. */
export const INTERNAL_DIR = ['.zerofs', 'filestore'] as const

export interface ParsedKey {
  key: string
  /** The path components: of the file, or for a marker `a/b/` of the directory `a/b`. */
  components: string[]
  /** The key ends with '/': a directory marker, stored as the directory itself. */
  marker: boolean
}

/** Splits a key into path components, or throws StoreError InvalidKey saying why it cannot be a path. */
export function parseKey(key: string): ParsedKey {
  const invalid = (why: string): StoreError =>
    new StoreError('InvalidKey', `key '${key}' cannot be stored in a FileStore: ${why}`, {key})
  if (key === '') throw invalid('the key is empty')
  if (key.startsWith('/')) throw invalid('it is absolute (starts with /)')
  if (key.includes('\0')) throw invalid('it contains a NUL character')
  if (/\p{Cs}/u.test(key)) throw invalid('it is not valid Unicode (unpaired surrogate)')
  const marker = key.endsWith('/')
  const components = (marker ? key.slice(0, -1) : key).split('/')
  for (const component of components) {
    if (component === '') throw invalid('it has an empty path component (//)')
    if (component === '.' || component === '..') throw invalid(`it has a '${component}' path component`)
    if (Buffer.byteLength(component) > NAME_MAX_BYTES) throw invalid(`a path component is longer than ${NAME_MAX_BYTES} bytes`)
  }
  if (isInternal(components)) throw invalid(`'${INTERNAL_DIR.join('/')}/' is reserved for the FileStore's own files`)
  return {key, components, marker}
}

/** Whether the components name the FileStore's internal directory or anything inside it. */
export function isInternal(components: readonly string[]): boolean {
  return components.length >= INTERNAL_DIR.length && INTERNAL_DIR.every((name, i) => components[i] === name)
}
