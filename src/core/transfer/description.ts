import type {FileType, Timestamp} from '../fs/types.js'
import {parseAttributes, type ObjectAttributes} from '../layout/metadata.js'
import {fileTypeOfMode, PERMISSION_BITS} from '../layout/mode.js'
import {parseEpochSeconds} from '../layout/timestamp.js'
import type {ObjectHead} from '../store/object-store.js'
import type {JournalRecord} from './journal.js'
import type {LocalStats} from './tree-entry.js'

/**
 * What one side of a transfer says about an entry, in a form both sides share. An attribute that is
 * undefined was never recorded there (rclone stores no mode, s3fs no sub-second mtime, an implicit
 * directory nothing at all): that is not a difference, and comparisons say so apart.
 */
export interface Description {
  type: FileType
  /** Bytes of a file, or of a symlink's target. */
  size: number
  /** Permission bits (07777). */
  permissions?: number
  uid?: number
  gid?: number
  mtime?: Timestamp
  /** 'second' when the writer kept whole seconds only (s3fs): compare seconds then. */
  mtimePrecision: 'exact' | 'second'
  /** Symlinks, once read. */
  target?: string
}

export type ComparedAttribute = 'type' | 'size' | 'mtime' | 'mode' | 'uid' | 'gid' | 'target'
export type RecordedAttribute = 'mtime' | 'mode' | 'uid' | 'gid'

export interface Comparison {
  /** Human-readable, one per attribute that differs: `size 10 ≠ 12`. */
  differences: string[]
  differing: ComparedAttribute[]
  /** Attributes one side never recorded, so they could not be compared. */
  notRecorded: RecordedAttribute[]
}

/** A float's worth of rounding: rclone writes mtimes as float64 seconds, exact to well under a microsecond. */
const MTIME_TOLERANCE_NS = 1000

export function describeLocal(stats: LocalStats, target?: string): Description {
  return {
    type: stats.type,
    size: stats.size,
    permissions: stats.mode & PERMISSION_BITS,
    uid: stats.uid,
    gid: stats.gid,
    mtime: stats.mtime,
    mtimePrecision: 'exact',
    target,
  }
}

/** The attributes migrate stores for a local entry (the same layout `serve` writes). */
export function localAttributes(stats: LocalStats): ObjectAttributes {
  return {type: stats.type, mode: stats.mode, uid: stats.uid, gid: stats.gid, rdev: stats.rdev, mtime: stats.mtime, atime: stats.atime, ctime: stats.ctime}
}

/**
 * An object or marker as its metadata describes it (s3fs keys, rclone's mtime), leaving out what
 * the metadata does not hold instead of filling in defaults.
 */
export function describeObject(head: ObjectHead, kind: 'object' | 'marker'): Description & {attributes: ObjectAttributes} {
  const {attributes, invalid} = parseAttributes(head.metadata, kind, head.lastModified, {uid: 0, gid: 0})
  const recorded = (name: 'mode' | 'uid' | 'gid' | 'mtime'): boolean => head.metadata[name] !== undefined && !invalid.includes(name)
  return {
    type: attributes.type,
    size: head.size,
    permissions: recorded('mode') ? attributes.mode & PERMISSION_BITS : undefined,
    uid: recorded('uid') ? attributes.uid : undefined,
    gid: recorded('gid') ? attributes.gid : undefined,
    mtime: recorded('mtime') ? attributes.mtime : undefined,
    mtimePrecision: recorded('mtime') && !head.metadata.mtime.includes('.') ? 'second' : 'exact',
    attributes,
  }
}

/**
 * An object or marker as a journal record describes it: the attributes migrate wrote into its
 * metadata (or found there). Only for an object the listing shows unchanged since.
 */
export function describeRecord(record: JournalRecord, size: number): Description {
  return {
    type: fileTypeOfMode(record.mode) ?? 'file',
    size,
    permissions: record.mode & PERMISSION_BITS,
    uid: record.uid,
    gid: record.gid,
    mtime: parseEpochSeconds(record.mtime),
    mtimePrecision: 'exact',
  }
}

/** A directory that only exists because keys lie below it: nothing about it is recorded. */
export function describeImplicitDirectory(): Description {
  return {type: 'dir', size: 0, mtimePrecision: 'exact'}
}

export function compareDescriptions(source: Description, destination: Description): Comparison {
  const comparison: Comparison = {differences: [], differing: [], notRecorded: []}
  const differ = (attribute: ComparedAttribute, detail: string): void => {
    comparison.differing.push(attribute)
    comparison.differences.push(`${attribute} ${detail}`)
  }
  if (source.type !== destination.type) {
    differ('type', `${source.type} ≠ ${destination.type}`)
    return comparison
  }
  if (source.type !== 'dir' && source.size !== destination.size) differ('size', `${source.size} ≠ ${destination.size}`)
  if (source.type === 'symlink' && source.target !== undefined && destination.target !== undefined && source.target !== destination.target) {
    differ('target', `${JSON.stringify(source.target)} ≠ ${JSON.stringify(destination.target)}`)
  }
  if (source.mtime === undefined || destination.mtime === undefined) comparison.notRecorded.push('mtime')
  else if (!sameMtime(source.mtime, destination.mtime, source.mtimePrecision === 'second' || destination.mtimePrecision === 'second')) {
    differ('mtime', `${formatTime(source.mtime)} ≠ ${formatTime(destination.mtime)}`)
  }
  // A symlink's own permissions are always 0777 on Linux and mean nothing.
  if (source.type !== 'symlink') {
    if (source.permissions === undefined || destination.permissions === undefined) comparison.notRecorded.push('mode')
    else if (source.permissions !== destination.permissions) differ('mode', `${formatMode(source.permissions)} ≠ ${formatMode(destination.permissions)}`)
  }
  for (const owner of ['uid', 'gid'] as const) {
    if (source[owner] === undefined || destination[owner] === undefined) comparison.notRecorded.push(owner)
    else if (source[owner] !== destination[owner]) differ(owner, `${source[owner]} ≠ ${destination[owner]}`)
  }
  return comparison
}

export function sameMtime(a: Timestamp, b: Timestamp, wholeSeconds: boolean): boolean {
  if (wholeSeconds) return a.sec === b.sec
  return Math.abs((a.sec - b.sec) * 1e9 + (a.nsec - b.nsec)) <= MTIME_TOLERANCE_NS
}

/** `2024-05-01T12:00:00.250000000Z`: whole nanoseconds, so that near mtimes show their difference. */
export function formatTime(time: Timestamp): string {
  const seconds = new Date(time.sec * 1000).toISOString().slice(0, 19)
  return time.nsec === 0 ? `${seconds}Z` : `${seconds}.${String(time.nsec).padStart(9, '0')}Z`
}

function formatMode(permissions: number): string {
  return permissions.toString(8).padStart(4, '0')
}
