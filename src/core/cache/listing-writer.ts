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

/** What applyPage knows while it goes through a page. */
interface PageState {
  /** The rows the page's names had when it began (minus those replaced since). */
  rows: Map<string, InodeRow>
  /** Entries to insert at the end of the page, by name, with their positions. */
  added: Map<string, {name: string; seq: number; fields: InodeFields}>
  /** Positions for the names that had no row. */
  positions: Map<string, number>
  now: number
}

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

  /**
   * Records one page: the page's existing rows are read with one query and its new entries placed
   * with one more (per entry, those were three statements).
   */
  applyPage(children: ListedChild[]): void {
    if (children.length === 0) return
    this.cache.transaction(() => {
      const {inodes} = this.cache
      const names = children.map((child) => child.name)
      // Positions first: making room renumbers the directory, which changes the rows' positions.
      const positions = inodes.positionsFor(this.dir, names)
      const page: PageState = {rows: inodes.childrenNamed(this.dir, names), added: new Map(), positions, now: Date.now()}
      for (const child of children) {
        if (child.kind === 'object') this.applyObject(child, page)
        else this.applyDir(child.name, page)
      }
      for (const {name, seq, fields} of page.added.values()) inodes.add(this.dir, name, fields, seq)
    })
  }

  private applyObject(object: ListedObject, page: PageState): void {
    const {inodes, staging} = this.cache
    const {now} = page
    // Already added by this page: only as a directory (S3 lists an object `a` before the prefix `a/`), which wins.
    if (page.added.has(object.name)) return
    const row = page.rows.get(object.name)
    if (!row) {
      this.addInPage(page, object.name, this.objectFields(object, now))
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
        this.replace(page, row, fields)
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

  private applyDir(name: string, page: PageState): void {
    const {inodes, staging} = this.cache
    const {now} = page
    const added = page.added.get(name)
    if (added) {
      // An object `a` this page added: the directory `a/` wins.
      added.fields = listedDirFields(this.owner, now)
      return
    }
    const row = page.rows.get(name)
    if (row?.type === 'dir') {
      inodes.update(row.ino, {seenAt: now})
      return
    }
    if (!row) {
      this.addInPage(page, name, listedDirFields(this.owner, now))
      return
    }
    if (staging.get(row.ino)) return
    this.replace(page, row, listedDirFields(this.owner, now))
  }

  /** A new entry of the page, inserted with the others at the end of the page. */
  private addInPage(page: PageState, name: string, fields: InodeFields): void {
    page.added.set(name, {name, seq: page.positions.get(name)!, fields})
    this.changed = true
  }

  /** An entry that changed its kind: a new number (the old one goes stale) at the old position. */
  private replace(page: PageState, row: InodeRow, fields: InodeFields): void {
    this.cache.inodes.deleteSubtree(row.ino)
    page.rows.delete(row.name)
    page.added.set(row.name, {name: row.name, seq: row.seq, fields})
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
