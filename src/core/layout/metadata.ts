import type {FileType, Timestamp} from '../fs/types.js'
import type {UserMetadata} from '../store/object-store.js'
import {fileTypeOfMode, makeMode, PERMISSION_BITS, S_IFMT} from './mode.js'
import {formatEpochSeconds, parseEpochSeconds, timestampFromMs} from './timestamp.js'

/**
 * Attributes travel as user metadata in the s3fs convention: `mode` (st_mode in decimal, type bits
 * included), `uid`, `gid`, `mtime` (seconds since the epoch, fractional allowed, as rclone writes),
 * `atime`/`ctime` when present, `rdev` for device nodes.
 */
export interface ObjectAttributes {
  type: FileType
  /** Full st_mode, type bits included. */
  mode: number
  uid: number
  gid: number
  rdev: number
  mtime: Timestamp
  atime: Timestamp
  ctime: Timestamp
}

export interface AttributeDefaults {
  uid: number
  gid: number
}

/** The names of metadata entries this convention uses. */
export type AttributeName = 'mode' | 'uid' | 'gid' | 'mtime' | 'atime' | 'ctime' | 'rdev'

export interface ParsedAttributes {
  attributes: ObjectAttributes
  /** Entries that were present but unusable (so the defaults were taken); fsck reports them. */
  invalid: AttributeName[]
}

export const DEFAULT_FILE_PERMISSIONS = 0o644
export const DEFAULT_DIR_PERMISSIONS = 0o755
export const DEFAULT_SYMLINK_PERMISSIONS = 0o777

const UINT32_MAX = 0xffff_ffff

/**
 * Reads attributes from an object's metadata. `kind` says what the key is: a marker (`a/`) is
 * always a directory; an object is whatever type its mode carries, a regular file by default.
 */
export function parseAttributes(
  metadata: UserMetadata,
  kind: 'object' | 'marker',
  lastModified: Date,
  defaults: AttributeDefaults,
): ParsedAttributes {
  const invalid: AttributeName[] = []
  const integer = (name: AttributeName, max: number): number | undefined => {
    const text = metadata[name]
    if (text === undefined) return undefined
    const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN
    if (Number.isSafeInteger(value) && value <= max) return value
    invalid.push(name)
    return undefined
  }
  const time = (name: AttributeName): Timestamp | undefined => {
    const text = metadata[name]
    if (text === undefined) return undefined
    const value = parseEpochSeconds(text)
    if (value === undefined) invalid.push(name)
    return value
  }

  const defaultType: FileType = kind === 'marker' ? 'dir' : 'file'
  let mode = defaultMode(defaultType)
  const rawMode = integer('mode', UINT32_MAX)
  if (rawMode !== undefined) {
    const typed = (rawMode & S_IFMT) === 0 ? makeMode(defaultType, rawMode) : rawMode
    const type = fileTypeOfMode(typed)
    // A marker is a directory and an object never is: a mode saying otherwise is not used.
    if (type !== undefined && (type === 'dir') === (kind === 'marker')) mode = typed
    else invalid.push('mode')
  }
  const type = fileTypeOfMode(mode) ?? defaultType
  const mtime = time('mtime') ?? timestampFromMs(lastModified.getTime())
  const rdev = integer('rdev', Number.MAX_SAFE_INTEGER)
  return {
    attributes: {
      type,
      mode,
      uid: integer('uid', UINT32_MAX) ?? defaults.uid,
      gid: integer('gid', UINT32_MAX) ?? defaults.gid,
      rdev: type === 'chardev' || type === 'blockdev' ? rdev ?? 0 : 0,
      mtime,
      atime: time('atime') ?? mtime,
      ctime: time('ctime') ?? mtime,
    },
    invalid,
  }
}

/** The metadata zerofs writes for an object or marker (besides `sha256`, which the store adds). */
export function formatAttributes(attributes: ObjectAttributes): UserMetadata {
  const metadata: UserMetadata = {
    mode: String(attributes.mode),
    uid: String(attributes.uid),
    gid: String(attributes.gid),
    mtime: formatEpochSeconds(attributes.mtime),
    atime: formatEpochSeconds(attributes.atime),
    ctime: formatEpochSeconds(attributes.ctime),
  }
  if (attributes.type === 'chardev' || attributes.type === 'blockdev') metadata.rdev = String(attributes.rdev)
  return metadata
}

/** Permission bits a new object of this type gets when its metadata says nothing. */
export function defaultMode(type: FileType): number {
  const permissions = type === 'dir' ? DEFAULT_DIR_PERMISSIONS : type === 'symlink' ? DEFAULT_SYMLINK_PERMISSIONS : DEFAULT_FILE_PERMISSIONS
  return makeMode(type, permissions & PERMISSION_BITS)
}
