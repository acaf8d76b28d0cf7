import type {Ino} from '../fs/types.js'
import type {InodeFields, InodeRow} from './inode-table.js'
import type {MetaCache} from './meta-cache.js'
import type {ObjectHead} from '../store/object-store.js'
import {headFields, keepsNumber, listedDirFields, listedObjectFields, type OwnerDefaults} from './new-rows.js'

/** A child of the listed directory, as the delimiter listing shows it (names already validated). */
export type ListedChild =
  /** `head` when the listing carried the object's metadata: its row is then complete, no HEAD needed. */
  | {kind: 'object'; name: string; size: number; etag: string; lastModified: number; head?: ObjectHead}
  | {kind: 'dir'; name: string}

type ListedObject = Extract<ListedChild, {kind: 'object'}>

/**
 * Streams one directory listing into the inode table, a page per transaction, keeping the inode
 * numbers of entries seen before (readdir cookies stay valid), and at the end forgets the children
 * the store no longer has. Where a file `a` and a directory `a/` both exist, the directory wins.
 */
export class ListingWriter {
  private readonly startedAt = Date.now()
  /** Differences from an earlier complete listing (a first listing only discovers). */
  private changed = false
  private readonly relisting: boolean
  /** Objects met while a not yet confirmed directory of the same name had the row (rare). */
  private readonly shadowed: ListedObject[] = []

  constructor(
    private readonly cache: MetaCache,
    private readonly dir: Ino,
    private readonly owner: OwnerDefaults,
  ) {
    this.relisting = cache.inodes.get(dir)?.listedAt !== undefined
  }

  applyPage(children: ListedChild[]): void {
    this.cache.transaction(() => {
      const now = Date.now()
      for (const child of children) {
        if (child.kind === 'object') this.applyObject(child, now)
        else this.applyDir(child.name, now)
      }
    })
  }

  private applyObject(object: ListedObject, now: number): void {
    const {inodes, staging} = this.cache
    const row = inodes.child(this.dir, object.name)
    if (!row) {
      inodes.add(this.dir, object.name, this.objectFields(object, now))
      this.changed = true
      return
    }
    if (row.type === 'dir') {
      if (row.seenAt < this.startedAt) this.shadowed.push(object)
      return
    }
    if (staging.get(row.ino)) {
      // Local data is newer than anything listed; only its existence is confirmed.
      inodes.update(row.ino, {seenAt: now})
      return
    }
    if (object.head) {
      const fields = headFields(object.head, 'object', row, this.owner, now)
      if (row.etag !== object.etag) this.changed = true
      if (keepsNumber(row, fields)) {
        inodes.update(row.ino, fields)
      } else {
        inodes.deleteSubtree(row.ino)
        inodes.add(this.dir, object.name, fields)
        this.changed = true
      }
      return
    }
    const same = row.etag === object.etag && (row.lastModified === undefined || row.lastModified === object.lastModified)
    if (same) {
      inodes.update(row.ino, {seenAt: now, lastModified: object.lastModified, ...(row.attrsAt === undefined ? {} : {attrsAt: now})})
    } else {
      inodes.update(row.ino, {
        seenAt: now, size: object.size, etag: object.etag, lastModified: object.lastModified,
        typeKnown: false, attrsAt: undefined, target: undefined,
      })
      this.changed = true
    }
  }

  /** A row for a listed object: complete when the listing carried its metadata, a guess otherwise. */
  private objectFields(object: ListedObject, now: number): InodeFields {
    return object.head ? headFields(object.head, 'object', undefined, this.owner, now) : listedObjectFields(object, this.owner, now)
  }

  private applyDir(name: string, now: number): void {
    const {inodes, staging} = this.cache
    const row = inodes.child(this.dir, name)
    if (row?.type === 'dir') {
      inodes.update(row.ino, {seenAt: now})
      return
    }
    if (row) {
      if (staging.get(row.ino)) return
      inodes.deleteSubtree(row.ino)
    }
    inodes.add(this.dir, name, listedDirFields(this.owner, now))
    this.changed = true
  }

  /** Forgets children not seen by this listing (except `keep`) and marks the listing complete. */
  finish(keep: (row: InodeRow) => boolean): void {
    this.cache.transaction(() => {
      const {inodes} = this.cache
      for (const row of inodes.unseenChildren(this.dir, this.startedAt)) {
        if (keep(row)) continue
        inodes.deleteSubtree(row.ino)
        this.changed = true
      }
      for (const object of this.shadowed) {
        if (!inodes.child(this.dir, object.name)) inodes.add(this.dir, object.name, this.objectFields(object, Date.now()))
      }
      inodes.update(this.dir, {listedAt: this.startedAt, ...(this.changed && this.relisting ? {changedAt: Date.now()} : {})})
    })
  }
}
