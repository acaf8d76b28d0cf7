import {fsError} from '../errors.js'
import {isDetached, type InodeRow} from '../cache/inode-table.js'
import type {MetaCache} from '../cache/meta-cache.js'
import {addRange, clipRanges, gapsIn, unionRanges} from '../cache/range-set.js'
import type {StagedFile} from '../cache/staging-journal.js'
import {displayPath} from '../layout/keys.js'
import {formatAttributes, type ObjectAttributes} from '../layout/metadata.js'
import {timestampNow} from '../layout/timestamp.js'
import type {Logger} from '../logger.js'
import {isStoreError} from '../store/errors.js'
import type {ObjectStore} from '../store/object-store.js'
import {applyAttributeChanges} from './attribute-changes.js'
import type {Catalog} from './catalog.js'
import {toFsError} from './errno.js'
import type {KeyedMutex} from './locks.js'
import {getRange} from './ranged-get.js'
import type {ReadAhead} from './read-ahead.js'
import {SequentialDigests} from './sequential-digests.js'
import type {StagingFiles} from './staging-files.js'
import type {Ino, SetAttr} from './types.js'
import type {Uploader} from './uploader.js'

const RETRY_MAX_MS = 60_000

export interface StagingAreaOptions {
  store: ObjectStore
  cache: MetaCache
  catalog: Catalog
  files: StagingFiles
  uploader: Uploader
  readAhead: ReadAhead
  /** Serialises everything that changes or uploads one inode's staged data. */
  inoLocks: KeyedMutex<Ino>
  logger: Logger
  flushDelayMs: number
  /** No background uploads (a read-only Fs). */
  passive: boolean
  /** Runs a background upload the way a caller's operation would run (under the namespace lock). */
  runInBackground: (fn: () => Promise<void>) => Promise<void>
}

/**
 * Staged files: writes land in `staging/<ino>` and the journal, and are uploaded on demand, after an
 * idle delay, or on flush. An upload holds the inode's mutex, so writes to that inode wait for it.
 */
export class StagingArea {
  private readonly timers = new Map<Ino, NodeJS.Timeout>()
  private readonly retryDelays = new Map<Ino, number>()
  private readonly digests = new SequentialDigests()
  private closed = false

  constructor(private readonly options: StagingAreaOptions) {}

  private get cache(): MetaCache {
    return this.options.cache
  }

  get(ino: Ino): StagedFile | undefined {
    return this.cache.staging.get(ino)
  }

  /** Creates the (empty) data file of a file whose journal entry was just written, and schedules its upload. */
  async created(ino: Ino): Promise<void> {
    await this.options.files.create(ino, 0)
    this.scheduleFlush(ino)
  }

  /** Makes a missing data file anew, sparse, with the journaled length (recovery). */
  async recreate(ino: Ino, size: number): Promise<void> {
    await this.options.files.create(ino, size)
  }

  /** Writes client data (under the inode's mutex) and schedules the upload. */
  async write(row: InodeRow, offset: number, data: Buffer): Promise<StagedFile> {
    const staged = await this.options.inoLocks.run(row.ino, async () => {
      const current = await this.stage(row)
      try {
        await this.options.files.write(row.ino, offset, data)
      } catch (error) {
        this.digests.forget(row.ino)
        throw error
      }
      this.digests.written(current, offset, data)
      const now = timestampNow()
      const updated: StagedFile = {
        ...current,
        written: addRange(current.written, offset, offset + data.length),
        size: Math.max(current.size, offset + data.length),
        mtime: now,
        ctime: now,
      }
      this.cache.staging.put(updated)
      return updated
    })
    this.scheduleFlush(row.ino)
    return staged
  }

  /** Truncates or extends, and folds attribute changes into the pending upload (caller holds the inode's mutex). */
  async setAttributes(row: InodeRow, changes: SetAttr): Promise<StagedFile> {
    let staged = await this.stage(row)
    const now = timestampNow()
    if (changes.size !== undefined && changes.size !== staged.size) {
      if (changes.size < staged.size) {
        staged = {
          ...staged,
          written: clipRanges(staged.written, changes.size),
          fetched: clipRanges(staged.fetched, changes.size),
          baseLimit: Math.min(staged.baseLimit, changes.size),
        }
      }
      await this.options.files.truncate(row.ino, changes.size)
      this.digests.forget(row.ino)
      staged = {...staged, size: changes.size, mtime: now}
    }
    staged = {...staged, ...applyAttributeChanges(staged, changes, now)}
    this.cache.staging.put(staged)
    this.scheduleFlush(row.ino)
    return staged
  }

  /** The staged bytes `[offset, offset + length)`: local data, the base object's bytes elsewhere, zeros past it. */
  async read(staged: StagedFile, offset: number, length: number): Promise<Buffer> {
    const end = Math.min(offset + length, staged.size)
    if (end <= offset) return Buffer.alloc(0)
    const buffer = await this.options.files.read(staged.ino, offset, end - offset)
    if (staged.base) {
      const local = unionRanges(staged.written, staged.fetched)
      for (const [start, stop] of gapsIn(local, offset, Math.min(end, staged.baseLimit))) {
        let position = start - offset
        for await (const chunk of getRange(this.options.store, staged.base.key, start, stop - start, staged.base.etag)) {
          position += chunk.copy(buffer, position)
        }
      }
    }
    return buffer
  }

  /**
   * Copies every byte the file still takes from its object into its staged data, and lets go of the
   * object (about to be deleted while a client holds the file open). Under the inode's mutex.
   */
  async keepWithoutObject(row: InodeRow): Promise<void> {
    const staged = await this.stage(row)
    const filled = await this.options.uploader.fill(staged, 0, staged.size)
    this.cancelFlush(row.ino)
    this.cache.staging.put({...filled, base: undefined, baseLimit: 0})
  }

  /** Drops the staged data of an inode that is gone (caller holds the inode's mutex and removed the journal entry). */
  async discard(ino: Ino): Promise<void> {
    this.cancelFlush(ino)
    this.digests.forget(ino)
    this.retryDelays.delete(ino)
    await this.options.files.remove(ino)
  }

  /** Uploads the staged data of an inode; EIO when the upload fails (the data stays staged). */
  upload(ino: Ino, syscall: string): Promise<void> {
    return this.options.inoLocks.run(ino, async () => {
      this.cancelFlush(ino)
      const staged = this.cache.staging.get(ino)
      if (!staged) return
      const row = this.cache.inodes.get(ino)
      if (!row) {
        // The file was removed: its staged data has no home.
        this.cache.staging.delete(ino)
        await this.discard(ino)
        return
      }
      // Unlinked while open: its data lives here until the last close, and never goes to the store.
      if (isDetached(row)) return
      const path = this.options.catalog.path(row)
      const attributes: ObjectAttributes = {
        type: row.type, mode: staged.mode, uid: staged.uid, gid: staged.gid, rdev: row.rdev,
        mtime: staged.mtime, atime: staged.atime, ctime: staged.ctime,
      }
      let result
      try {
        result = await this.options.uploader.upload(staged, path, formatAttributes(attributes), this.digests.sha256(staged))
      } catch (error) {
        // The next attempt hashes the file itself.
        this.digests.forget(ino)
        const cause = toFsError(error, syscall, displayPath(path))
        if (isStoreError(error, 'PreconditionFailed')) {
          // Filling the unwritten ranges from the new version would mix two versions in one object.
          this.options.logger.error('the object was replaced by another writer since this file was staged; not uploaded, data kept staged', {
            ino, path: displayPath(path), base: staged.base?.etag, error: error.message,
          })
        }
        throw fsError('EIO', syscall, displayPath(path), {cause, detail: `upload failed, data kept staged: ${cause.message}`})
      }
      const now = Date.now()
      this.cache.transaction(() => {
        this.cache.staging.delete(ino)
        this.cache.inodes.update(ino, {
          ...attributes, typeKnown: true, size: staged.size, etag: result.etag, lastModified: undefined,
          target: undefined, seenAt: now, attrsAt: now,
        })
      })
      await this.discard(ino)
      this.options.logger.debug('uploaded', {ino, path: displayPath(path), size: staged.size})
    })
  }

  scheduleFlush(ino: Ino, delay = this.options.flushDelayMs): void {
    if (this.options.passive || this.closed) return
    this.cancelFlush(ino)
    const timer = setTimeout(() => {
      this.timers.delete(ino)
      this.options.runInBackground(() => this.upload(ino, 'flush')).catch((error: unknown) => {
        if (this.closed) return
        const retry = Math.min((this.retryDelays.get(ino) ?? this.options.flushDelayMs) * 2, RETRY_MAX_MS)
        this.retryDelays.set(ino, retry)
        this.options.logger.warn('background upload failed; will retry', {ino, retryMs: retry, error: String(error)})
        if (this.cache.staging.get(ino)) this.scheduleFlush(ino, retry)
      })
    }, delay)
    timer.unref()
    this.timers.set(ino, timer)
  }

  cancelFlush(ino: Ino): void {
    const timer = this.timers.get(ino)
    if (timer) clearTimeout(timer)
    this.timers.delete(ino)
  }

  /** Stops background uploads and closes the data files. */
  async close(): Promise<void> {
    this.closed = true
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    await this.options.files.closeAll()
  }

  /** The staged entry of a file, staging it (its current object becomes the base) if needed. Under the inode's mutex. */
  private async stage(given: InodeRow): Promise<StagedFile> {
    const existing = this.cache.staging.get(given.ino)
    if (existing) return existing
    // The caller took its row before it waited for the mutex: an upload that finished meanwhile
    // replaced the object (a new ETag and size), and only the cache's row says so.
    const row = this.cache.inodes.get(given.ino) ?? given
    const path = this.options.catalog.path(row)
    const staged: StagedFile = {
      ino: row.ino,
      size: row.size,
      written: [],
      fetched: [],
      base: row.etag === undefined ? undefined : {key: path, etag: row.etag, size: row.size},
      baseLimit: row.etag === undefined ? 0 : row.size,
      mode: row.mode,
      uid: row.uid,
      gid: row.gid,
      mtime: row.mtime,
      atime: row.atime,
      ctime: row.ctime,
      stagedAt: Date.now(),
    }
    await this.options.files.create(row.ino, row.size)
    this.cache.staging.put(staged)
    this.options.readAhead.forget(row.ino)
    return staged
  }
}
