import {RESERVED_PREFIX} from '../layout/keys.js'

/**
 * Where a block device lives in a store: `.zerofs/nbd/NAME/manifest.json` (what the device is) and
 * `.zerofs/nbd/NAME/chunks/<16 hex digits of the chunk index>` (its bytes, one object per chunk, so
 * that keys sort in chunk order). A chunk without an object reads as zeros.
 */

export const DEVICES_PREFIX = `${RESERVED_PREFIX}nbd/`

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const CHUNK_NAME_PATTERN = /^[0-9a-f]{16}$/

/** Device names are one key component: letters, digits, `.`, `_`, `-`, at most 64, not starting with a dot. */
export function checkDeviceName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new RangeError(`invalid device name "${name}": use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.', '_' or '-'`)
  }
  return name
}

export function deviceRoot(name: string): string {
  return `${DEVICES_PREFIX}${name}/`
}

export function manifestKey(name: string): string {
  return `${deviceRoot(name)}manifest.json`
}

export function chunksPrefix(name: string): string {
  return `${deviceRoot(name)}chunks/`
}

/** The chunk file or object name of an index: 16 lower-case hex digits. */
export function chunkName(index: number): string {
  return index.toString(16).padStart(16, '0')
}

export function chunkKey(name: string, index: number): string {
  return `${chunksPrefix(name)}${chunkName(index)}`
}

/** The index a chunk file or object name stands for; undefined for anything else. */
export function parseChunkName(text: string): number | undefined {
  if (!CHUNK_NAME_PATTERN.test(text)) return undefined
  const index = Number.parseInt(text, 16)
  return Number.isSafeInteger(index) ? index : undefined
}
