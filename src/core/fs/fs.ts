import {existsSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {Readable} from 'node:stream'
import PQueue from 'p-queue'
import {fsError, isFsError, type FsError} from '../errors.js'
import {isDetached, type ChildEntry, type InodeRow} from '../cache/inode-table.js'
import {MetaCache} from '../cache/meta-cache.js'
import type {PendingRename} from '../cache/rename-journal.js'
import {byteLength, checkNewName, dirPrefix, DIRECTORY_CONTENT_TYPE, displayPath, joinPath, markerKey, NAME_MAX} from '../layout/keys.js'
import {formatAttributes, type ObjectAttributes} from '../layout/metadata.js'
import {fileTypeOfMode, makeMode, S_IFMT} from '../layout/mode.js'
import {timestampNow} from '../layout/timestamp.js'
import {silentLogger, type Logger} from '../logger.js'
import {relayStream} from '../relay-stream.js'
import {maxKeyBytes} from '../store/key-limit.js'
import type {ObjectStore} from '../store/object-store.js'
import {Catalog} from './catalog.js'
import {toFsError} from './errno.js'
import {KeyedMutex, ReadWriteLock} from './locks.js'
import {OpenFiles} from './open-files.js'
import {grantedAccess} from './permissions.js'
import {copyPrefix, deletePrefix} from './prefix-mover.js'
import {joinPieces, piecesLength} from './pieces.js'
import {DEFAULT_READ_AHEAD, ReadAhead, type ReadAheadOptions} from './read-ahead.js'
import {StagingArea} from './staging-area.js'
import {StagingFiles} from './staging-files.js'
import {applyAttributeChanges} from './attribute-changes.js'
import {DEFAULT_UPLOADER, Uploader, type UploaderOptions} from './uploader.js'
import {
  ACCESS_WRITE, ROOT_INO,
  type Attr, type Caller, type CreateOptions, type DirEntry, type FileType, type Ino, type PosixFs,
  type ReadDirPage, type SetAttr, type StatFs,
} from './types.js'

export interface FsOptions {
  store: ObjectStore
  /** Holds meta.db and staging/ (see defaultCacheDir). */
  cacheDir: string
  /** How long cached attributes and listings are trusted. Default 5000 ms. */
  cacheTtlMs?: number
  /** This process is the store's only writer: cached attributes and listings never expire. */
  exclusive?: boolean
  /** Owner of entries whose metadata names none. Default: this process's uid/gid. */
  uid?: number
  gid?: number
  /** Every mutation fails with EROFS; no owner lock is taken and no journal is recovered. */
  readOnly?: boolean
  /** Staged data is uploaded this long after the last write to a file. Default 1000 ms. */
  flushDelayMs?: number
  logger?: Logger
  /** Parallel HEADs for listings with attributes (default DEFAULT_HEAD_CONCURRENCY). */
  headConcurrency?: number
  readAhead?: Partial<ReadAheadOptions>
  upload?: Partial<UploaderOptions>
}

/** S3's largest object. */
const MAX_FILE_SIZE = 5 * 1024 ** 4
const SYMLINK_MAX = 4095
const MAX_SYMLINK_HOPS = 40
const STREAM_CHUNK = 1024 * 1024
const MOVE_CONCURRENCY = 16
/**
 * HEADs in flight for a listing with attributes. On s3rver, which answers one request at a time,
 * 1,000 HEADs took 540 ms at 64 and 660 ms at 32 (it spends less per request when more are queued).
 */
const DEFAULT_HEAD_CONCURRENCY = 64

/**
 * The POSIX filesystem over an object store. Namespace and attributes come from the metadata cache
 * (refreshed from the store after their time-to-live); writes are staged in local files, journaled,
 * and uploaded as whole objects on fsync, after an idle delay, or on flushAll/close.
 *
 * Creating a file stages it rather than putting an empty object at once: it is visible through this
 * Fs immediately, and the store sees it with its data at the first upload (saving a PUT per file).
 *
 * Locking: every operation that touches the store holds the namespace lock shared; a directory
 * rename holds it exclusively (it moves many keys). Entry changes in a directory hold that
 * directory's mutex; staged data of an inode is changed and uploaded under the inode's mutex.
 */
export class Fs implements PosixFs {
  readonly root: Ino = ROOT_INO

  private readonly catalog: Catalog
  private readonly staging: StagingArea
  private readonly readAhead: ReadAhead
  private readonly namespace = new ReadWriteLock()
  private readonly dirLocks = new KeyedMutex<Ino>()
  private readonly inoLocks = new KeyedMutex<Ino>()
  private readonly openFiles = new OpenFiles()
  private readonly store: ObjectStore
  private readonly readOnly: boolean
  private readonly maxKeyBytes: number
  private readonly logger: Logger
  private closed = false

  private constructor(private readonly cache: MetaCache, options: FsOptions) {
    this.store = options.store
    this.readOnly = options.readOnly ?? false
    this.logger = options.logger ?? silentLogger
    this.maxKeyBytes = maxKeyBytes(options.store.url)
    const owner = {uid: options.uid ?? process.getuid?.() ?? 0, gid: options.gid ?? process.getgid?.() ?? 0}
    this.catalog = new Catalog({
      store: this.store,
      cache,
      ttlMs: options.cacheTtlMs ?? 5000,
      exclusive: options.exclusive ?? false,
      owner,
      logger: this.logger,
      headQueue: new PQueue({concurrency: options.headConcurrency ?? DEFAULT_HEAD_CONCURRENCY}),
    })
    this.readAhead = new ReadAhead(this.store, {...DEFAULT_READ_AHEAD, ...options.readAhead})
    const files = new StagingFiles((ino) => cache.stagingFile(ino))
    this.staging = new StagingArea({
      store: this.store,
      cache,
      catalog: this.catalog,
      files,
      uploader: new Uploader(this.store, files, (staged) => cache.staging.put(staged), this.logger, {...DEFAULT_UPLOADER, ...options.upload}),
      readAhead: this.readAhead,
      inoLocks: this.inoLocks,
      logger: this.logger,
      flushDelayMs: options.flushDelayMs ?? 1000,
      passive: this.readOnly,
      runInBackground: (fn) => this.shared('flush', fn),
    })
    this.initRoot(owner)
  }

  /**
   * Opens the cache (taking the owner lock unless read-only), then finishes directory renames and
   * uploads staged writes left by an earlier process before returning.
   */
  static async open(options: FsOptions): Promise<Fs> {
    const readOnly = options.readOnly ?? false
    const cache = MetaCache.open(options.cacheDir, {owner: !readOnly})
    const fs = new Fs(cache, options)
    if (!readOnly) {
      try {
        await fs.recover()
      } catch (error) {
        cache.close()
        throw error
      }
    }
    return fs
  }

  // ── lookups and attributes ────────────────────────────────────────────────────────────────────

  lookup(parent: Ino, name: string): Promise<Attr> {
    return this.shared('lookup', async () => {
      const dir = this.dirRow(parent, 'lookup')
      if (byteLength(name) > NAME_MAX) throw fsError('ENAMETOOLONG', 'lookup', displayPath(joinPath(this.catalog.path(dir), name)))
      return this.catalog.attrOf(await this.childOrThrow(dir, name, 'lookup'))
    })
  }

  getattr(ino: Ino): Promise<Attr> {
    return this.shared('getattr', async () => {
      const row = await this.currentRow(ino, 'getattr')
      // Row and staged entry are read in one tick: an upload that finished while this awaited
      // dropped the staged entry and updated the row together.
      return this.catalog.attrOf(this.cache.inodes.get(ino) ?? row)
    })
  }

  setattr(ino: Ino, changes: SetAttr): Promise<Attr> {
    return this.shared('setattr', async () => {
      this.checkWritable('setattr', ino)
      const current = await this.currentRow(ino, 'setattr')
      if (changes.size !== undefined) {
        if (current.type === 'dir') throw fsError('EISDIR', 'setattr', this.catalog.display(current))
        if (current.type !== 'file') throw fsError('EINVAL', 'setattr', this.catalog.display(current))
        if (changes.size < 0 || changes.size > MAX_FILE_SIZE) throw fsError('EFBIG', 'setattr', this.catalog.display(current))
      }
      return this.inoLocks.run(ino, async () => {
        // An upload may have finished while this waited: take the row as it is now.
        const row = this.cache.inodes.get(ino) ?? current
        const staged = this.cache.staging.get(ino)
        // Truncating to the current size changes nothing (POSIX: times change only with the size).
        const effective = changes.size === (staged?.size ?? row.size) ? {...changes, size: undefined} : changes
        if (staged || effective.size !== undefined) return this.catalog.attrOf(row, await this.staging.setAttributes(row, effective))
        if (Object.values(effective).every((value) => value === undefined)) return this.catalog.attrOf(row)
        return this.setStoredAttributes(row, effective)
      })
    })
  }

  access(ino: Ino, caller: Caller, mask: number): Promise<number> {
    return this.shared('access', async () => {
      const granted = grantedAccess(this.catalog.attrOf(await this.currentRow(ino, 'access')), caller, mask)
      return this.readOnly ? granted & ~ACCESS_WRITE : granted
    })
  }

  resolve(path: string, options: {follow?: boolean} = {}): Promise<Attr> {
    return this.shared('resolve', async () => this.catalog.attrOf(await this.walk(path, options.follow ?? false)))
  }

  pathOf(ino: Ino): string {
    const path = this.cache.inodes.pathOf(ino)
    return path === undefined ? `<inode ${ino}>` : displayPath(path)
  }

  statfs(): Promise<StatFs> {
    // An object store has no meaningful capacity: report a large, constant one.
    const total = 2 ** 50
    return Promise.resolve({
      totalBytes: total, freeBytes: total, availBytes: this.readOnly ? 0 : total,
      totalFiles: 2 ** 40, freeFiles: 2 ** 40, nameMax: NAME_MAX, blockSize: 4096,
    })
  }

  // ── directories ───────────────────────────────────────────────────────────────────────────────

  readdir(dir: Ino, cookie: bigint, count: number, options: {attributes?: boolean} = {}): Promise<ReadDirPage> {
    return this.shared('readdir', async () => {
      const row = this.dirRow(dir, 'readdir')
      await this.catalog.ensureListing(row, cookie === 0n)
      const limit = Math.max(1, count)
      const toEntry = (child: ChildEntry): DirEntry => ({name: child.name, ino: child.ino, type: child.type, cookie: BigInt(child.seq)})
      let entries: DirEntry[]
      let eof: boolean
      if (options.attributes) {
        const rows = this.cache.inodes.children(dir, Number(cookie), limit + 1)
        eof = rows.length <= limit
        const listed = rows.slice(0, limit)
        const headed = this.catalog.attributesCurrent(listed) ? undefined : await this.catalog.withAttributes(listed)
        const staged = new Set(this.cache.staging.inos())
        // After HEADs the rows are read again with the staged set, in one tick: an upload may have
        // finished meanwhile. Without them nothing was awaited since the rows were read.
        const current = (child: InodeRow): InodeRow => (headed ? this.cache.inodes.get(child.ino) ?? child : child)
        entries = (headed ?? listed).map((child) => {
          const entry: DirEntry = toEntry(child)
          entry.attr = this.catalog.attrOf(current(child), staged.has(child.ino) ? undefined : null)
          return entry
        })
      } else {
        const children = this.cache.inodes.childEntries(dir, Number(cookie), limit + 1)
        eof = children.length <= limit
        entries = children.slice(0, limit).map(toEntry)
      }
      const verifier = (BigInt(this.cache.epoch) << 32n) | BigInt(this.cache.inodes.get(dir)?.cookieGen ?? 0)
      return {entries, eof, verifier}
    })
  }

  mkdir(parent: Ino, name: string, options: CreateOptions): Promise<Attr> {
    return this.inDirectory('mkdir', parent, name, {directory: true}, async (dir, path) => {
      const attributes = newAttributes('dir', options)
      const result = await this.store.put(markerKey(path), Buffer.alloc(0), {metadata: formatAttributes(attributes), contentType: DIRECTORY_CONTENT_TYPE})
      const now = Date.now()
      const row = this.cache.transaction(() => {
        this.catalog.touchDir(dir.ino, now)
        return this.cache.inodes.upsert(dir.ino, name, {
          ...attributes, typeKnown: true, marker: true, size: 0, etag: result.etag,
          seenAt: now, attrsAt: now, listedAt: now,
        })
      })
      return this.catalog.attrOf(row)
    })
  }

  rmdir(parent: Ino, name: string): Promise<void> {
    return this.shared('rmdir', async () => {
      this.checkWritable('rmdir', parent)
      if (name === '.') throw fsError('EINVAL', 'rmdir', this.pathOf(parent))
      if (name === '..') throw fsError('ENOTEMPTY', 'rmdir', this.pathOf(parent))
      const first = await this.childOrThrow(this.dirRow(parent, 'rmdir'), name, 'rmdir')
      await this.dirLocks.runAll([parent, first.ino], async () => {
        const row = await this.childOrThrow(this.dirRow(parent, 'rmdir'), name, 'rmdir')
        if (row.type !== 'dir') throw fsError('ENOTDIR', 'rmdir', this.catalog.display(row))
        const path = this.catalog.path(row)
        if (!(await this.isEmptyDir(row, path))) throw fsError('ENOTEMPTY', 'rmdir', displayPath(path))
        await this.store.delete([markerKey(path)])
        this.cache.transaction(() => {
          this.cache.inodes.deleteSubtree(row.ino)
          this.catalog.touchDir(parent)
        })
      })
    })
  }

  // ── files, links and nodes ────────────────────────────────────────────────────────────────────

  create(parent: Ino, name: string, options: CreateOptions & {exclusive?: boolean}): Promise<Attr> {
    return this.inDirectory('create', parent, name, {allowExisting: !options.exclusive}, async (dir, path, existing) => {
      if (existing) {
        if (existing.type === 'dir') throw fsError('EISDIR', 'create', displayPath(path))
        return this.catalog.attrOf(existing)
      }
      const attributes = newAttributes('file', options)
      const now = Date.now()
      const row = this.cache.transaction(() => {
        this.catalog.touchDir(dir.ino, now)
        const inserted = this.cache.inodes.upsert(dir.ino, name, {...attributes, typeKnown: true, size: 0, seenAt: now, attrsAt: now})
        this.cache.staging.put({
          ino: inserted.ino, size: 0, written: [], fetched: [], baseLimit: 0, stagedAt: now,
          mode: attributes.mode, uid: attributes.uid, gid: attributes.gid,
          mtime: attributes.mtime, atime: attributes.atime, ctime: attributes.ctime,
        })
        return inserted
      })
      await this.staging.created(row.ino)
      return this.catalog.attrOf(row)
    })
  }

  mknod(parent: Ino, name: string, options: CreateOptions & {rdev?: number}): Promise<Attr> {
    const type = fileTypeOfMode(options.mode)
    if ((options.mode & S_IFMT) === 0 || type === 'file') return this.create(parent, name, {...options, exclusive: true})
    if (type !== 'fifo' && type !== 'socket' && type !== 'chardev' && type !== 'blockdev') {
      return Promise.reject(fsError('EINVAL', 'mknod', this.pathOf(parent), {detail: 'unsupported file type'}))
    }
    return this.inDirectory('mknod', parent, name, {}, async (dir, path) => {
      const attributes = {...newAttributes(type, options), rdev: type === 'chardev' || type === 'blockdev' ? options.rdev ?? 0 : 0}
      const result = await this.store.put(path, Buffer.alloc(0), {metadata: formatAttributes(attributes)})
      return this.catalog.attrOf(this.insertObjectRow(dir.ino, name, attributes, {size: 0, etag: result.etag}))
    })
  }

  symlink(parent: Ino, name: string, target: string, options: Omit<CreateOptions, 'mode'>): Promise<Attr> {
    return this.inDirectory('symlink', parent, name, {}, async (dir, path) => {
      if (target === '') throw fsError('ENOENT', 'symlink', displayPath(path), {detail: 'empty target'})
      if (byteLength(target) > SYMLINK_MAX || target.includes('\0')) throw fsError('ENAMETOOLONG', 'symlink', displayPath(path))
      const attributes = newAttributes('symlink', {...options, mode: 0o777})
      const body = Buffer.from(target, 'utf8')
      const result = await this.store.put(path, body, {metadata: formatAttributes(attributes)})
      return this.catalog.attrOf(this.insertObjectRow(dir.ino, name, attributes, {size: body.length, etag: result.etag, target}))
    })
  }

  readlink(ino: Ino): Promise<string> {
    return this.shared('readlink', async () => {
      const row = await this.currentRow(ino, 'readlink')
      if (row.type !== 'symlink') throw fsError('EINVAL', 'readlink', this.catalog.display(row), {detail: 'not a symbolic link'})
      return this.targetOf(row)
    })
  }

  unlink(parent: Ino, name: string): Promise<void> {
    return this.shared('unlink', async () => {
      this.checkWritable('unlink', parent)
      await this.dirLocks.run(parent, async () => {
        const row = await this.childOrThrow(this.dirRow(parent, 'unlink'), name, 'unlink')
        if (row.type === 'dir') throw fsError('EISDIR', 'unlink', this.catalog.display(row))
        await this.inoLocks.run(row.ino, async () => {
          const path = this.catalog.path(row)
          const keep = this.keptOpen(row)
          if (keep) await this.staging.keepWithoutObject(row)
          // The object goes first: if that fails, nothing has changed.
          await this.store.delete([path])
          this.cache.transaction(() => {
            if (keep) this.cache.inodes.detach(row.ino)
            else this.forgetRow(row.ino)
            this.catalog.touchDir(parent)
          })
          if (!keep) await this.staging.discard(row.ino)
          this.readAhead.forget(row.ino)
        })
      })
    })
  }

  rename(fromParent: Ino, fromName: string, toParent: Ino, toName: string): Promise<void> {
    return this.guard('rename', undefined, async () => {
      this.checkWritable('rename', fromParent)
      const source = await this.namespace.read(async () => this.childOrThrow(this.dirRow(fromParent, 'rename'), fromName, 'rename'))
      if (fromName === '.' || fromName === '..' || source.ino === ROOT_INO) throw fsError('EINVAL', 'rename', this.catalog.display(source))
      if (source.type === 'dir') {
        await this.namespace.write(() => this.renameDirectory(fromParent, fromName, toParent, toName))
      } else {
        await this.namespace.read(() => this.dirLocks.runAll([fromParent, toParent], () => this.renameFile(fromParent, fromName, toParent, toName)))
      }
    })
  }

  // ── data ──────────────────────────────────────────────────────────────────────────────────────

  openFile(ino: Ino): void {
    if (this.closed) throw fsError('EIO', 'open', undefined, {detail: 'the filesystem is closed'})
    this.catalog.row(ino, 'open')
    this.openFiles.open(ino)
  }

  closeFile(ino: Ino): Promise<void> {
    return this.shared('close', async () => {
      if (!this.openFiles.close(ino)) return
      await this.inoLocks.run(ino, async () => {
        const row = this.cache.inodes.get(ino)
        if (!row || !isDetached(row)) return
        this.cache.transaction(() => this.forgetRow(ino))
        await this.staging.discard(ino)
      })
    })
  }

  async read(ino: Ino, offset: number, length: number): Promise<{data: Buffer; eof: boolean}> {
    const {pieces, eof} = await this.readPieces(ino, offset, length)
    return {data: joinPieces(pieces), eof}
  }

  readPieces(ino: Ino, offset: number, length: number): Promise<{pieces: Buffer[]; eof: boolean}> {
    return this.shared('read', async () => {
      if (offset < 0 || length < 0) throw fsError('EINVAL', 'read', this.pathOf(ino))
      for (;;) {
        const fetched = await this.fileRow(ino, 'read')
        // In one tick, as in getattr: an old row without its staged entry would cut the file short.
        const row = this.cache.inodes.get(ino) ?? fetched
        const staged = this.cache.staging.get(ino)
        try {
          const size = staged?.size ?? row.size
          const pieces = staged
            ? [await this.staging.read(staged, offset, length)]
            : await this.readAhead.read({ino, key: this.catalog.path(row), etag: row.etag ?? '', size}, offset, length)
          return {pieces, eof: offset + piecesLength(pieces) >= size}
        } catch (error) {
          // The upload finished and removed the staging file meanwhile: read the object instead.
          if (staged && (error as NodeJS.ErrnoException).code === 'ENOENT' && !this.cache.staging.get(ino)) continue
          throw error
        }
      }
    })
  }

  /** An uploaded file streams from one GET, straight through; a staged one chunk by chunk through read(). */
  readStream(ino: Ino, range: {offset: number; length?: number} = {offset: 0}): Readable {
    return relayStream(this.openStream(ino, range.offset, range.length), {
      highWaterMark: STREAM_CHUNK,
      mapError: (error) => toFsError(error, 'read', this.pathOf(ino)),
    })
  }

  write(ino: Ino, offset: number, data: Buffer, options: {stable?: boolean} = {}): Promise<Attr> {
    return this.shared('write', async () => {
      this.checkWritable('write', ino)
      if (offset < 0) throw fsError('EINVAL', 'write', this.pathOf(ino))
      if (offset + data.length > MAX_FILE_SIZE) throw fsError('EFBIG', 'write', this.pathOf(ino))
      const row = await this.fileRow(ino, 'write')
      const staged = await this.staging.write(row, offset, data)
      if (options.stable) await this.staging.upload(ino, 'write')
      return this.catalog.attrOf(this.cache.inodes.get(ino) ?? row, options.stable ? undefined : staged)
    })
  }

  fsync(ino: Ino): Promise<void> {
    return this.shared('fsync', async () => {
      this.catalog.row(ino, 'fsync')
      await this.staging.upload(ino, 'fsync')
    })
  }

  /** Uploads everything staged; fails with EIO (the first failure) if any upload failed, keeping the data staged. */
  flushAll(): Promise<void> {
    return this.shared('flushAll', async () => {
      if (this.readOnly) return
      const failures: FsError[] = []
      const queue = new PQueue({concurrency: 4})
      await Promise.all(this.cache.staging.inos().map((ino) => queue.add(() => this.staging.upload(ino, 'flush').catch((error: FsError) => {
        failures.push(error)
      }))))
      if (failures.length > 0) throw failures[0]
    })
  }

  /** Uploads what is staged, then releases the cache (and its lock). The store stays open: it is the caller's. */
  async close(): Promise<void> {
    if (this.closed) return
    try {
      if (!this.readOnly) await this.flushAll()
    } finally {
      this.closed = true
      await this.staging.close()
      this.cache.close()
    }
  }

  // ── internals: locking, rows ──────────────────────────────────────────────────────────────────

  private async guard<T>(syscall: string, ino: Ino | undefined, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw fsError('EIO', syscall, undefined, {detail: 'the filesystem is closed'})
    try {
      return await fn()
    } catch (error) {
      throw toFsError(error, syscall, ino === undefined ? undefined : this.pathOf(ino))
    }
  }

  private shared<T>(syscall: string, fn: () => Promise<T>): Promise<T> {
    return this.guard(syscall, undefined, () => this.namespace.read(fn))
  }

  private checkWritable(syscall: string, ino: Ino): void {
    if (this.readOnly) throw fsError('EROFS', syscall, this.pathOf(ino))
  }

  private dirRow(ino: Ino, syscall: string): InodeRow {
    const row = this.catalog.row(ino, syscall)
    if (row.type !== 'dir') throw fsError('ENOTDIR', syscall, this.catalog.display(row))
    return row
  }

  private async fileRow(ino: Ino, syscall: string): Promise<InodeRow> {
    const row = await this.currentRow(ino, syscall)
    if (row.type === 'dir') throw fsError('EISDIR', syscall, this.catalog.display(row))
    if (row.type !== 'file') throw fsError('EINVAL', syscall, this.catalog.display(row), {detail: `not a regular file (${row.type})`})
    return row
  }

  /** A file that a client holds open lives on, detached, when unlinked or replaced (POSIX unlink(2)). */
  private keptOpen(row: InodeRow): boolean {
    return row.type === 'file' && this.openFiles.isOpen(row.ino)
  }

  /** Deletes a row, what is below it and its journal entry (in the caller's transaction; the staged data goes after). */
  private forgetRow(ino: Ino): void {
    this.cache.staging.delete(ino)
    this.cache.inodes.deleteSubtree(ino)
  }

  /** The row of an inode with attributes within their time-to-live; ESTALE when it is gone. */
  private async currentRow(ino: Ino, syscall: string): Promise<InodeRow> {
    const row = this.catalog.row(ino, syscall)
    if (this.catalog.attrsCurrent(row)) return row
    const current = await this.catalog.refresh(row)
    if (!current || current.ino !== ino) throw fsError('ESTALE', syscall, this.catalog.display(row))
    return current
  }

  private async childOrThrow(dir: InodeRow, name: string, syscall: string): Promise<InodeRow> {
    const row = await this.catalog.child(dir, name)
    if (!row) throw fsError('ENOENT', syscall, displayPath(joinPath(this.catalog.path(dir), name)))
    return row
  }

  /** Resolves a path from the root; with `follow`, symbolic links on the way (and at the end) are followed. */
  private async walk(path: string, follow: boolean): Promise<InodeRow> {
    const root = this.catalog.row(ROOT_INO, 'resolve')
    const pending = splitPath(path)
    // Errors name the path as asked for, in the core's form ('/a/b'), whatever its slashes were.
    const shown = displayPath(pending.join('/'))
    let current = root
    let hops = 0
    while (pending.length > 0) {
      const name = pending.shift()!
      if (current.type !== 'dir') throw fsError('ENOTDIR', 'resolve', shown)
      const child = await this.childOrThrow(current, name, 'resolve')
      if (follow && child.type === 'symlink') {
        if (++hops > MAX_SYMLINK_HOPS) throw fsError('ELOOP', 'resolve', shown)
        const target = await this.targetOf(child)
        pending.unshift(...splitPath(target))
        if (target.startsWith('/')) current = root
        continue
      }
      current = child
    }
    return current
  }

  private async targetOf(row: InodeRow): Promise<string> {
    if (row.target !== undefined) return row.target
    const chunks: Buffer[] = []
    for await (const chunk of await this.store.get(this.catalog.path(row))) chunks.push(chunk as Buffer)
    const target = Buffer.concat(chunks).toString('utf8')
    this.cache.inodes.update(row.ino, {target})
    return target
  }

  /**
   * Runs a creation in a directory under its mutex, after the name checks: EEXIST when the name
   * exists (unless `allowExisting`, which hands the existing row to `fn`).
   */
  private inDirectory<T>(
    syscall: string, parent: Ino, name: string, options: {directory?: boolean; allowExisting?: boolean},
    fn: (dir: InodeRow, path: string, existing: InodeRow | undefined) => Promise<T>,
  ): Promise<T> {
    return this.shared(syscall, async () => {
      this.checkWritable(syscall, parent)
      return this.dirLocks.run(parent, async () => {
        const dir = this.dirRow(parent, syscall)
        const dirPath = this.catalog.path(dir)
        checkNewName(dirPath, name, syscall, {directory: options.directory, maxKeyBytes: this.maxKeyBytes})
        const path = joinPath(dirPath, name)
        const existing = await this.catalog.child(dir, name)
        if (existing && !options.allowExisting) throw fsError('EEXIST', syscall, displayPath(path))
        return fn(dir, path, existing)
      })
    })
  }

  private insertObjectRow(parent: Ino, name: string, attributes: ObjectAttributes, content: {size: number; etag: string; target?: string}): InodeRow {
    const now = Date.now()
    return this.cache.transaction(() => {
      this.catalog.touchDir(parent, now)
      return this.cache.inodes.upsert(parent, name, {...attributes, ...content, typeKnown: true, seenAt: now, attrsAt: now})
    })
  }

  /** Nothing below the directory but its marker, in the store or staged here. */
  private async isEmptyDir(row: InodeRow, path: string): Promise<boolean> {
    if ([...this.catalog.protectedInos()].some((ino) => ino !== row.ino && this.cache.inodes.get(ino)?.parent === row.ino)) return false
    const prefix = dirPrefix(path)
    for await (const entry of this.store.list({prefix, pageSize: 2})) {
      if (entry.kind === 'object' && entry.key === prefix) continue
      return false
    }
    return true
  }

  private initRoot(owner: {uid: number; gid: number}): void {
    const root = this.cache.inodes.get(ROOT_INO)!
    if (root.attrsAt !== undefined) return
    const now = timestampNow()
    this.cache.inodes.update(ROOT_INO, {uid: owner.uid, gid: owner.gid, mtime: now, atime: now, ctime: now, attrsAt: Date.now()})
  }

  // ── internals: attributes ─────────────────────────────────────────────────────────────────────

  /** chmod/chown/utimes of an uploaded entry: the object (or marker) is copied onto itself with new metadata. */
  private async setStoredAttributes(row: InodeRow, changes: SetAttr): Promise<Attr> {
    const now = timestampNow()
    // From the attributes as reported: a directory's times include its last entry change, which this
    // change keeps, or replaces with an explicit mtime that then stands until the next entry change.
    const updated = applyAttributeChanges(this.catalog.attrOf(row), changes, now)
    if (row.ino !== ROOT_INO) {
      const path = this.catalog.path(row)
      const key = row.type === 'dir' ? markerKey(path) : path
      const metadata = formatAttributes({...updated, type: row.type, rdev: row.rdev})
      const head = row.type === 'dir' && row.marker === false ? undefined : await this.store.head(key)
      if (head) {
        await this.store.copy(key, key, {metadata: {...head.metadata, ...metadata}, contentType: head.contentType})
      } else if (row.type === 'dir') {
        // An implicit directory gets a marker to carry its attributes.
        await this.store.put(key, Buffer.alloc(0), {metadata, contentType: DIRECTORY_CONTENT_TYPE})
      } else {
        throw fsError('ESTALE', 'setattr', displayPath(path))
      }
    }
    this.cache.inodes.update(row.ino, {
      ...updated,
      ...(row.type === 'dir' ? {marker: row.ino === ROOT_INO ? false : true, changedAt: undefined} : {}),
      lastModified: undefined,
      attrsAt: Date.now(),
    })
    return this.catalog.attrOf(this.cache.inodes.get(row.ino)!)
  }

  // ── internals: staging and uploads ────────────────────────────────────────────────────────────

  private async openStream(ino: Ino, offset: number, length: number | undefined): Promise<Readable> {
    const fetched = await this.namespace.read(() => this.fileRow(ino, 'read'))
    const row = this.cache.inodes.get(ino) ?? fetched // with the staged entry, in one tick (see read)
    if (this.cache.staging.get(ino)) return Readable.from(this.stagedChunks(ino, offset, length))
    const end = length === undefined ? row.size : Math.min(row.size, offset + length)
    if (offset >= end) return Readable.from([])
    return this.store.get(this.catalog.path(row), {offset, length: end - offset})
  }

  private async *stagedChunks(ino: Ino, offset: number, length: number | undefined): AsyncGenerator<Buffer> {
    const end = length === undefined ? Number.POSITIVE_INFINITY : offset + length
    for (let position = offset; position < end;) {
      const {data, eof} = await this.read(ino, position, Math.min(STREAM_CHUNK, end - position))
      if (data.length > 0) yield data
      position += data.length
      if (eof || data.length === 0) return
    }
  }

  // ── internals: renames ────────────────────────────────────────────────────────────────────────

  private async renameFile(fromParent: Ino, fromName: string, toParent: Ino, toName: string): Promise<void> {
    const toDir = this.dirRow(toParent, 'rename')
    const source = await this.childOrThrow(this.dirRow(fromParent, 'rename'), fromName, 'rename')
    if (source.type === 'dir') throw fsError('EAGAIN', 'rename', this.catalog.display(source), {detail: 'changed during the rename'})
    const toDirPath = this.catalog.path(toDir)
    checkNewName(toDirPath, toName, 'rename', {maxKeyBytes: this.maxKeyBytes})
    const toPath = joinPath(toDirPath, toName)
    const target = await this.catalog.child(toDir, toName)
    if (target?.ino === source.ino) return
    if (target?.type === 'dir') throw fsError('EISDIR', 'rename', displayPath(toPath))
    const inos = target ? [source.ino, target.ino] : [source.ino]
    await this.inoLocks.runAll(inos, async () => {
      const keepTarget = target !== undefined && this.keptOpen(target)
      if (keepTarget) await this.staging.keepWithoutObject(target)
      const fromPath = this.catalog.path(source)
      const staged = this.cache.staging.get(source.ino)
      const move = {ino: source.ino, fromPrefix: fromPath, toPrefix: toPath, toParent, toName}
      let journaled: PendingRename | undefined
      if (staged && !staged.base) {
        // Nothing uploaded yet: the journal entry just follows the inode. A replaced object goes.
        if (target) await this.store.delete([toPath])
      } else {
        journaled = this.cache.renames.begin({kind: 'file', ...move})
        try {
          const head = await this.store.head(fromPath)
          if (!head) throw fsError('ENOENT', 'rename', displayPath(fromPath), {detail: 'the object vanished from the store'})
          await this.store.copy(fromPath, toPath, {metadata: head.metadata, contentType: head.contentType})
        } catch (error) {
          // Nothing deleted yet (a copy replaces its target whole): the rename did not happen.
          this.cache.renames.finish(journaled.id)
          throw error
        }
        // From here on the rename can only go forward: a failure leaves it journaled for the next open.
        await this.store.delete([fromPath])
      }
      const replaced = this.moveFileRow(move, journaled?.id, {detachReplaced: keepTarget})
      if (replaced !== undefined && !keepTarget) {
        await this.staging.discard(replaced)
        this.readAhead.forget(replaced)
      }
      this.readAhead.forget(source.ino)
      if (staged) this.staging.scheduleFlush(source.ino)
    })
  }

  /**
   * The cache's side of a file rename once the store's is done: the row moves (keeping its number),
   * a row it replaces goes with its staged data (or is detached, when a client holds it open), a staged base follows its object, and the journal
   * entry (if any) is closed. Returns the number of the replaced row.
   */
  private moveFileRow(
    move: {ino: Ino; fromPrefix: string; toPrefix: string; toParent: Ino; toName: string}, journalId?: number, options: {detachReplaced?: boolean} = {},
  ): Ino | undefined {
    return this.cache.transaction(() => {
      const {inodes, staging} = this.cache
      if (journalId !== undefined) this.cache.renames.finish(journalId)
      const row = inodes.get(move.ino)
      if (!row || !inodes.get(move.toParent)) return undefined
      const occupant = inodes.child(move.toParent, move.toName)
      const replaced = occupant && occupant.ino !== move.ino ? occupant.ino : undefined
      if (replaced !== undefined) {
        if (options.detachReplaced) inodes.detach(replaced)
        else this.forgetRow(replaced)
      }
      const staged = staging.get(move.ino)
      if (staged?.base?.key === move.fromPrefix) staging.put({...staged, base: {...staged.base, key: move.toPrefix}})
      inodes.move(move.ino, move.toParent, move.toName)
      if (!staged) inodes.update(move.ino, {lastModified: undefined, ctime: timestampNow()})
      this.catalog.touchDir(row.parent)
      this.catalog.touchDir(move.toParent)
      return replaced
    })
  }

  /** Under the exclusive namespace lock: copies every key under the old prefix, deletes them, then moves the row. */
  private async renameDirectory(fromParent: Ino, fromName: string, toParent: Ino, toName: string): Promise<void> {
    const toDir = this.dirRow(toParent, 'rename')
    const source = await this.childOrThrow(this.dirRow(fromParent, 'rename'), fromName, 'rename')
    if (source.type !== 'dir') throw fsError('EAGAIN', 'rename', this.catalog.display(source), {detail: 'changed during the rename'})
    if ((this.cache.inodes.ancestry(toParent) ?? []).some((row) => row.ino === source.ino)) {
      throw fsError('EINVAL', 'rename', this.catalog.display(source), {detail: 'cannot move a directory into itself'})
    }
    const toDirPath = this.catalog.path(toDir)
    checkNewName(toDirPath, toName, 'rename', {directory: true, maxKeyBytes: this.maxKeyBytes})
    const toPath = joinPath(toDirPath, toName)
    const target = await this.catalog.child(toDir, toName)
    if (target?.ino === source.ino) return
    if (target) {
      if (target.type !== 'dir') throw fsError('ENOTDIR', 'rename', displayPath(toPath))
      if (!(await this.isEmptyDir(target, toPath))) throw fsError('ENOTEMPTY', 'rename', displayPath(toPath))
      await this.store.delete([markerKey(toPath)])
      this.cache.transaction(() => this.cache.inodes.deleteSubtree(target.ino))
    }
    const fromPath = this.catalog.path(source)
    const pending = this.cache.renames.begin({
      kind: 'dir', ino: source.ino, fromPrefix: dirPrefix(fromPath), toPrefix: dirPrefix(toPath), toParent, toName,
    })
    try {
      await copyPrefix(this.store, pending.fromPrefix, pending.toPrefix, MOVE_CONCURRENCY)
    } catch (error) {
      // Nothing deleted yet: take the copies back and forget the rename.
      await deletePrefix(this.store, pending.toPrefix).catch(() => undefined)
      this.cache.renames.finish(pending.id)
      throw error
    }
    // From here on the rename can only go forward: a failure leaves it journaled for the next open.
    await deletePrefix(this.store, pending.fromPrefix)
    this.finishDirectoryRename(pending)
  }

  private finishDirectoryRename(pending: PendingRename): void {
    this.cache.transaction(() => {
      const {inodes} = this.cache
      this.cache.staging.rebase(pending.fromPrefix, pending.toPrefix)
      const row = inodes.get(pending.ino)
      if (row && inodes.get(pending.toParent)) {
        inodes.move(pending.ino, pending.toParent, pending.toName)
        this.catalog.touchDir(row.parent)
        this.catalog.touchDir(pending.toParent)
      } else if (row) {
        inodes.deleteSubtree(pending.ino)
      }
      this.cache.renames.finish(pending.id)
    })
    this.logger.info('renamed directory', {from: pending.fromPrefix, to: pending.toPrefix})
  }

  // ── recovery ──────────────────────────────────────────────────────────────────────────────────

  /** Finishes what a previous owner left: renames first (staged bases may have moved), then staged uploads. */
  private async recover(): Promise<void> {
    for (const ino of this.cache.inodes.detached()) {
      this.logger.info('dropping a file that was unlinked while open when the last process stopped', {ino})
      this.cache.transaction(() => this.forgetRow(ino))
    }
    for (const pending of this.cache.renames.pending()) {
      this.logger.warn(`finishing an interrupted ${pending.kind === 'dir' ? 'directory' : 'file'} rename`, {from: pending.fromPrefix, to: pending.toPrefix})
      if (pending.kind === 'dir') {
        await copyPrefix(this.store, pending.fromPrefix, pending.toPrefix, MOVE_CONCURRENCY)
        await deletePrefix(this.store, pending.fromPrefix)
        this.finishDirectoryRename(pending)
        continue
      }
      // Copying again is harmless; without a source the copy was done and its source deleted.
      const head = await this.store.head(pending.fromPrefix)
      if (head) {
        await this.store.copy(pending.fromPrefix, pending.toPrefix, {metadata: head.metadata, contentType: head.contentType})
        await this.store.delete([pending.fromPrefix])
      }
      this.moveFileRow(pending, pending.id)
    }
    const staged = new Set(this.cache.staging.inos().map(String))
    for (const file of await readdir(this.cache.stagingDir)) {
      if (!staged.has(file)) await this.staging.discard(BigInt(file)).catch(() => undefined)
    }
    for (const ino of this.cache.staging.inos()) {
      if (!existsSync(this.cache.stagingFile(ino))) {
        // A crash right after create() journaled a new, empty file: its data file is all there is to redo.
        this.logger.warn('a staged file had no data file; recreating it empty', {ino, path: this.pathOf(ino)})
        await this.staging.recreate(ino, this.cache.staging.get(ino)!.size)
      }
      try {
        await this.shared('recover', () => this.staging.upload(ino, 'recover'))
        this.logger.info('recovered staged data', {ino, path: this.pathOf(ino)})
      } catch (error) {
        if (!isFsError(error)) throw error
        this.logger.error('could not upload recovered data; it stays staged and is retried', {ino, path: this.pathOf(ino), error: error.message})
        this.staging.scheduleFlush(ino)
      }
    }
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((component) => component !== '')
}

/** The attributes of a new entry: permission bits from the request, times now. */
function newAttributes(type: FileType, options: CreateOptions): ObjectAttributes {
  const now = timestampNow()
  return {type, mode: makeMode(type, options.mode), uid: options.uid, gid: options.gid, rdev: 0, mtime: now, atime: now, ctime: now}
}

