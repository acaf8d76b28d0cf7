import type PQueue from 'p-queue'
import {fsError} from '../errors.js'
import {isDetached, type InodeFields, type InodeRow} from '../cache/inode-table.js'
import {ListingWriter, type ListedChild} from '../cache/listing-writer.js'
import type {MetaCache} from '../cache/meta-cache.js'
import {headFields, keepsNumber, type OwnerDefaults} from '../cache/new-rows.js'
import type {StagedFile} from '../cache/staging-journal.js'
import {classifyName, dirPrefix, displayPath, joinPath, markerKey, RESERVED_NAME} from '../layout/keys.js'
import {defaultMode} from '../layout/metadata.js'
import {maxTimestamp, timestampFromMs} from '../layout/timestamp.js'
import type {Logger} from '../logger.js'
import type {ListEntry, ObjectHead, ObjectStore} from '../store/object-store.js'
import {ROOT_INO, type Attr, type Ino} from './types.js'

/** What the store holds at a path. */
export type Probe =
  | {kind: 'object'; head: ObjectHead}
  | {kind: 'marker'; head: ObjectHead}
  | {kind: 'implicit'}
  | {kind: 'absent'}

export interface CatalogOptions {
  store: ObjectStore
  cache: MetaCache
  ttlMs: number
  exclusive: boolean
  owner: OwnerDefaults
  logger: Logger
  /** Bounds the HEAD requests of attribute-hungry listings. */
  headQueue: PQueue
}

const LISTING_BATCH = 1000

/**
 * The cache-backed view of the store's namespace: rows for paths, refreshed from the store when
 * their time-to-live has passed, and directory listings streamed into SQLite. No locking here:
 * callers hold the namespace lock.
 */
export class Catalog {
  private readonly listings = new Map<Ino, Promise<void>>()

  constructor(private readonly options: CatalogOptions) {}

  private get cache(): MetaCache {
    return this.options.cache
  }

  fresh(at: number | undefined): boolean {
    return at !== undefined && (this.options.exclusive || Date.now() - at < this.options.ttlMs)
  }

  /** The row of an inode, or ESTALE when the inode is gone (deleted, or replaced by another type). */
  row(ino: Ino, syscall: string): InodeRow {
    const row = this.cache.inodes.get(ino)
    if (!row) throw fsError('ESTALE', syscall, `<inode ${ino}>`)
    return row
  }

  /** The relative path of a row ('' for the root). */
  path(row: InodeRow): string {
    const path = this.cache.inodes.pathOf(row.ino)
    if (path === undefined) throw fsError('ESTALE', 'path', `<inode ${row.ino}>`)
    return path
  }

  display(row: InodeRow): string {
    return displayPath(this.cache.inodes.pathOf(row.ino) ?? `<inode ${row.ino}>`)
  }

  /**
   * What clients see of a row: its attributes with the staged ones on top. `staged` spares the journal
   * read when the caller knows the entry (null: nothing is staged).
   */
  attrOf(row: InodeRow, staged: StagedFile | null = this.cache.staging.get(row.ino) ?? null): Attr {
    const dir = row.type === 'dir'
    let mtime = staged?.mtime ?? row.mtime
    let ctime = staged?.ctime ?? row.ctime
    if (dir && row.changedAt !== undefined) {
      const changed = timestampFromMs(row.changedAt)
      mtime = maxTimestamp(mtime, changed)
      ctime = maxTimestamp(ctime, changed)
    }
    return {
      ino: row.ino,
      generation: this.cache.epoch,
      type: row.type,
      mode: staged?.mode ?? row.mode,
      nlink: dir ? 2 : isDetached(row) ? 0 : 1,
      uid: staged?.uid ?? row.uid,
      gid: staged?.gid ?? row.gid,
      size: dir ? 0 : staged?.size ?? row.size,
      rdev: row.rdev,
      atime: staged?.atime ?? row.atime,
      mtime,
      ctime,
    }
  }

  /** Whether the row's attributes can be answered without the store. */
  attrsCurrent(row: InodeRow): boolean {
    return row.ino === ROOT_INO || this.fresh(row.attrsAt) || this.cache.staging.get(row.ino) !== undefined
  }

  /** Looks up a child: from the cache while fresh, else from the store. Undefined when absent. */
  async child(parent: InodeRow, name: string): Promise<InodeRow | undefined> {
    if (name === '.') return parent
    if (name === '..') return parent.ino === ROOT_INO ? parent : this.row(parent.parent, 'lookup')
    if (classifyName(name) !== undefined || (parent.ino === ROOT_INO && name === RESERVED_NAME)) return undefined
    const row = this.cache.inodes.child(parent.ino, name)
    if (row) return this.attrsCurrent(row) ? row : this.refresh(row)
    if (this.fresh(parent.listedAt)) return undefined
    const path = this.childPath(parent, name)
    const probe = await this.probe(path)
    if (probe.kind === 'absent') return undefined
    return this.record(parent.ino, name, probe)
  }

  /** The current row for a row's path after asking the store; undefined (row forgotten) when gone. */
  async refresh(row: InodeRow): Promise<InodeRow | undefined> {
    // The root has no marker, and staged data is newer than anything the store has.
    if (row.ino === ROOT_INO || this.cache.staging.get(row.ino)) return row
    const probe = await this.look(row, this.path(row))
    return this.cache.transaction(() => this.apply(row, probe))
  }

  /** What the store holds at a known row's path: the object (or marker) the row was first. */
  private async look(row: InodeRow, path: string): Promise<Probe> {
    if (row.type !== 'dir') {
      const head = await this.options.store.head(path)
      if (head) return {kind: 'object', head}
    } else {
      // A directory stays one while it has a marker or anything below it (it wins over a file `a`).
      const head = row.marker === false ? undefined : await this.options.store.head(markerKey(path))
      if (head) return {kind: 'marker', head}
      if (await this.hasChildren(path)) return {kind: 'implicit'}
    }
    return this.probe(path)
  }

  /** Records what `look` found for a row (in the caller's transaction); undefined when it is gone. */
  private apply(row: InodeRow, probe: Probe): InodeRow | undefined {
    if (probe.kind !== 'absent') return this.recordIn(row.parent, row.name, probe)
    this.forgetIn(row)
    return this.cache.inodes.get(row.ino)
  }

  /**
   * Asks the store what is at a path. A directory (a marker, or anything below the path) wins over
   * an object of the same name. One round trip for files (HEAD and a one-key LIST in parallel), a
   * second HEAD for a directory's marker.
   */
  async probe(path: string): Promise<Probe> {
    const {store} = this.options
    const prefix = dirPrefix(path)
    const [object, first] = await Promise.all([store.head(path), this.firstKeyBelow(prefix)])
    if (first === prefix) {
      const marker = await store.head(markerKey(path))
      if (marker) return {kind: 'marker', head: marker}
    }
    if (first !== undefined) return {kind: 'implicit'}
    return object ? {kind: 'object', head: object} : {kind: 'absent'}
  }

  private async firstKeyBelow(prefix: string): Promise<string | undefined> {
    for await (const entry of this.options.store.list({prefix, pageSize: 1})) return entry.kind === 'object' ? entry.key : entry.prefix
    return undefined
  }

  /** Whether any key lies below the path (an implicit directory). */
  private async hasChildren(path: string): Promise<boolean> {
    return (await this.firstKeyBelow(dirPrefix(path))) !== undefined
  }

  /**
   * Stores what a probe found. The inode number is kept unless the entry changed its kind (a file
   * became a directory, a symlink a file...): then the old number goes stale and a new one is given.
   */
  record(parent: Ino, name: string, probe: Exclude<Probe, {kind: 'absent'}>): InodeRow {
    return this.cache.transaction(() => this.recordIn(parent, name, probe))
  }

  private recordIn(parent: Ino, name: string, probe: Exclude<Probe, {kind: 'absent'}>): InodeRow {
    const {inodes} = this.cache
    const existing = inodes.child(parent, name)
    const fields = this.fieldsOf(probe, existing, Date.now())
    if (existing && keepsNumber(existing, fields)) {
      inodes.update(existing.ino, fields)
      return {...existing, ...fields}
    }
    if (existing) inodes.deleteSubtree(existing.ino)
    return inodes.insert(parent, name, fields)
  }

  private fieldsOf(probe: Exclude<Probe, {kind: 'absent'}>, existing: InodeRow | undefined, now: number): InodeFields {
    const {owner} = this.options
    if (probe.kind === 'implicit') {
      const time = existing?.type === 'dir' ? existing.mtime : timestampFromMs(now)
      return {
        type: 'dir', typeKnown: true, marker: false, size: 0, etag: undefined, lastModified: undefined,
        mode: defaultMode('dir'), uid: owner.uid, gid: owner.gid, rdev: 0,
        mtime: time, atime: time, ctime: time, seenAt: now, attrsAt: now,
      }
    }
    return headFields(probe.head, probe.kind, existing, owner, now)
  }

  /** Notes a change among a directory's entries (its mtime and ctime show it). */
  touchDir(dir: Ino, now = Date.now()): void {
    this.cache.inodes.update(dir, {changedAt: now})
  }

  /**
   * Forgets a row and everything below it (in the caller's transaction), unless staged data lives
   * there (then the local entries stay: they will be uploaded).
   */
  private forgetIn(row: InodeRow): void {
    if (this.protectedInos().has(row.ino)) return
    this.cache.inodes.deleteSubtree(row.ino)
    this.touchDir(row.parent)
  }

  /** Staged inodes and their ancestors: never forgotten because the store does not show them. */
  protectedInos(): Set<Ino> {
    const result = new Set<Ino>()
    for (const ino of this.cache.staging.inos()) {
      for (const row of this.cache.inodes.ancestry(ino) ?? []) result.add(row.ino)
    }
    return result
  }

  /**
   * Makes sure the directory's complete listing is in the cache: `fresh` demands one within the
   * time-to-live, otherwise any complete listing will do (a reader paging through keeps its view).
   */
  async ensureListing(dir: InodeRow, fresh: boolean): Promise<void> {
    if (dir.listedAt !== undefined && (!fresh || this.fresh(dir.listedAt))) return
    let pending = this.listings.get(dir.ino)
    if (!pending) {
      pending = this.list(dir).finally(() => this.listings.delete(dir.ino))
      this.listings.set(dir.ino, pending)
    }
    await pending
  }

  private async list(dir: InodeRow): Promise<void> {
    const prefix = dirPrefix(this.path(dir))
    const writer = new ListingWriter(this.cache, dir.ino, this.options.owner)
    let page: ListedChild[] = []
    for await (const entry of this.options.store.list({prefix, delimiter: '/', withMetadata: true})) {
      const child = listedChild(entry, prefix, dir.ino === ROOT_INO)
      if (child) page.push(child)
      if (page.length >= LISTING_BATCH) {
        writer.applyPage(page)
        page = []
      }
    }
    writer.applyPage(page)
    const keep = this.protectedInos()
    writer.finish((row) => keep.has(row.ino))
    this.options.logger.debug('listed directory', {path: displayPath(prefix.slice(0, -1)), ino: dir.ino})
  }

  /**
   * Brings the attributes of these rows (children of one directory, as a readdir page has them) up
   * to date: HEADs in parallel, then one transaction records them all. Rows that vanished are dropped.
   */
  async withAttributes(rows: InodeRow[]): Promise<InodeRow[]> {
    const stale = this.stale(rows)
    if (stale.length === 0) return rows
    const parentPaths = new Map<Ino, string>()
    const pathOf = (row: InodeRow): string => {
      let parentPath = parentPaths.get(row.parent)
      if (parentPath === undefined) {
        parentPath = this.path(this.row(row.parent, 'readdir'))
        parentPaths.set(row.parent, parentPath)
      }
      return joinPath(parentPath, row.name)
    }
    const {headQueue} = this.options
    const probes = await Promise.all(stale.map((row) => headQueue.add(() => this.look(row, pathOf(row)))))
    const current = this.cache.transaction(() => new Map(stale.map((row, index) => [row.ino, this.apply(row, probes[index])])))
    // A row whose kind changed got a new number (and is not what the listing showed): leave it out.
    return rows
      .map((row) => (current.has(row.ino) ? current.get(row.ino) : row))
      .filter((row, index): row is InodeRow => row !== undefined && row.ino === rows[index].ino)
  }

  /** Whether withAttributes would find every row's attributes current (and ask the store nothing). */
  attributesCurrent(rows: InodeRow[]): boolean {
    return this.stale(rows).length === 0
  }

  private stale(rows: InodeRow[]): InodeRow[] {
    const stale = rows.filter((row) => row.ino !== ROOT_INO && !this.fresh(row.attrsAt))
    if (stale.length === 0) return stale
    const staged = new Set(this.cache.staging.inos())
    return stale.filter((row) => !staged.has(row.ino))
  }

  private childPath(parent: InodeRow, name: string): string {
    return joinPath(this.path(parent), name)
  }
}

/** A listing entry as a child of the listed directory, or undefined when it is not shown. */
function listedChild(entry: ListEntry, prefix: string, atRoot: boolean): ListedChild | undefined {
  const name = entry.kind === 'object' ? entry.key.slice(prefix.length) : entry.prefix.slice(prefix.length, -1)
  if (entry.kind === 'object' && name === '') return undefined // the directory's own marker
  if (classifyName(name) !== undefined || name.includes('/')) return undefined
  if (atRoot && name === RESERVED_NAME) return undefined
  if (entry.kind === 'prefix') return {kind: 'dir', name}
  const {key, size, etag, lastModified, metadata, contentType} = entry
  return {kind: 'object', name, size, etag, lastModified: lastModified.getTime(), head: metadata && {key, size, etag, lastModified, metadata, contentType}}
}
