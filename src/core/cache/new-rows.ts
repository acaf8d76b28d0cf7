import {defaultMode, parseAttributes} from '../layout/metadata.js'
import {timestampFromMs} from '../layout/timestamp.js'
import type {ObjectHead} from '../store/object-store.js'
import type {InodeFields, InodeRow} from './inode-table.js'

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

/**
 * A row for what the store says of an object or a directory's marker, metadata included (a HEAD, or
 * a listing that carries metadata). A symlink's target is kept from `existing` while its content is the same.
 */
export function headFields(head: ObjectHead, kind: 'object' | 'marker', existing: InodeRow | undefined, owner: OwnerDefaults, now: number): InodeFields {
  const {attributes} = parseAttributes(head.metadata, kind, head.lastModified, owner)
  const sameContent = existing?.etag === head.etag
  return {
    type: attributes.type,
    typeKnown: true,
    marker: kind === 'marker' ? true : undefined,
    size: kind === 'marker' ? 0 : head.size,
    etag: head.etag,
    lastModified: head.lastModified.getTime(),
    mode: attributes.mode,
    uid: attributes.uid,
    gid: attributes.gid,
    rdev: attributes.rdev,
    mtime: attributes.mtime,
    atime: attributes.atime,
    ctime: attributes.ctime,
    target: sameContent ? existing?.target : undefined,
    seenAt: now,
    attrsAt: now,
  }
}

/**
 * Whether a row keeps its inode number when the store now says `fields`: unless the entry changed its
 * kind (a file became a directory, a symlink a file...). A type guessed from a listing may still change.
 */
export function keepsNumber(existing: InodeRow, fields: InodeFields): boolean {
  return existing.type === fields.type || (!existing.typeKnown && existing.type !== 'dir' && fields.type !== 'dir')
}
