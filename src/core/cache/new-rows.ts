import {defaultMode} from '../layout/metadata.js'
import {timestampFromMs} from '../layout/timestamp.js'
import type {InodeFields} from './inode-table.js'

/** Owner of entries whose metadata says nothing (the serving process by default). */
export interface OwnerDefaults {
  uid: number
  gid: number
}

/** A row for an object seen in a listing: a regular file until its metadata is read. */
export function listedObjectFields(object: {size: number; etag: string; lastModified: number}, owner: OwnerDefaults, now: number): InodeFields {
  const time = timestampFromMs(object.lastModified)
  return {
    type: 'file',
    typeKnown: false,
    size: object.size,
    etag: object.etag,
    lastModified: object.lastModified,
    mode: defaultMode('file'),
    uid: owner.uid,
    gid: owner.gid,
    rdev: 0,
    mtime: time,
    atime: time,
    ctime: time,
    seenAt: now,
  }
}

/** A row for a directory seen as a common prefix (marker not known yet: implicit until looked at). */
export function listedDirFields(owner: OwnerDefaults, now: number): InodeFields {
  const time = timestampFromMs(now)
  return {
    type: 'dir',
    typeKnown: true,
    size: 0,
    mode: defaultMode('dir'),
    uid: owner.uid,
    gid: owner.gid,
    rdev: 0,
    mtime: time,
    atime: time,
    ctime: time,
    seenAt: now,
  }
}
