import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'
import PQueue from 'p-queue'

import {CacheError} from '../cache/errors.js'
import {acquireOwnerLock, type OwnerLock} from '../cache/owner-lock.js'
import {fsError} from '../errors.js'
import {KeyedMutex} from '../fs/locks.js'
import {StagingFiles} from '../fs/staging-files.js'
import {silentLogger, type Logger} from '../logger.js'
import {startDigestThread} from '../store/digest-thread.js'
import {isStoreError} from '../store/errors.js'
import {FileStore} from '../store/file-store.js'
import type {ObjectStore} from '../store/object-store.js'
import {BufferPool} from './buffer-pool.js'
import {ChunkPresence} from './chunk-presence.js'
import {FreshChunks} from './fresh-chunks.js'
import {OpenChunkObjects} from './open-chunk-objects.js'
import {chunkFilesDir, deviceCacheDir, dirtyJournalDir} from './device-cache-dir.js'
import {DirtyJournal, listChunkFiles} from './dirty-journal.js'
import {checkDeviceName, chunkKey, chunkName, chunksPrefix, parseChunkName} from './layout.js'
import {chunkCount, isValidChunkSize, MANIFEST_FORMAT, readManifest, writeManifest, type Manifest} from './manifest.js'
import type {BlockDevice} from './types.js'

const MiB = 1024 * 1024

export const DEFAULT_CHUNK_SIZE = 4 * MiB
export const DEFAULT_CACHE_SIZE = 512 * MiB
export const DEFAULT_UPLOAD_CONCURRENCY = 8
/**
 * Uploads to a local store at once, by default: such an upload holds no buffer (the chunk's file is
 * linked in) and mostly waits for its fsync, so more of them keep up with a sequential writer.
 */
const DEFAULT_LOCAL_UPLOAD_CONCURRENCY = 32
/** The cache holds at least this many chunks, whatever its size says, so that uploads and writes can overlap. */
const MIN_CACHED_CHUNKS = 4
const IDLE_UPLOAD_MS = 1000
/**
 * Dirty bytes left to the write-back cache: beyond them, the least recently written chunks are
 * uploaded at once, so that a long sequential write overlaps with its uploads.
 */
const WRITE_BEHIND_BYTES = 32 * MiB
/** Bytes fetched ahead of a sequential reader (whole chunks, at most a quarter of the cache). */
const READ_AHEAD_BYTES = 16 * MiB
/**
 * Fetches for reads at once: enough to keep the store busy, few enough that the chunk a reader
 * waits for is not slowed down by all those fetched ahead at the same time (a server shares its
 * bandwidth among them: a reader would wait for the last of its read-ahead to arrive with the first).
 */
const FETCH_CONCURRENCY = 4
/** Queue priorities of fetches: a chunk a reader waits for goes before chunks fetched ahead. */
const WAITED_FOR = 1
const AHEAD = 0
/** Bytes of fetched chunks also kept in memory, to answer reads without reading their files back. */
const FRESH_BYTES = 32 * MiB
/** Idle buffers kept for fetches, beyond those FreshChunks holds. */
const IDLE_FETCH_BUFFERS = 4
/** A failed background upload is not tried again sooner than this; waiters for space look again as often. */
const RETRY_MS = 1000
const CHUNK_CONTENT_TYPE = 'application/octet-stream'

export interface OpenDeviceOptions {
  store: ObjectStore
  /** The store's cache directory; the device keeps its chunks in `nbd/NAME/` below it. */
  cacheDir: string
  name: string
  /** Creates the device with this size, or grows it to this size; without it the device must exist. */
  size?: number
  /** The chunk size of a device this open creates (an existing device keeps its own). */
  chunkSize?: number
  /** Allows `size` below the current size: the chunks past the new end are deleted. */
  allowShrink?: boolean
  /**
   * Refuses writes, trims and zeroes (EROFS), and any change of the device's size. The device is
   * still locked (its local chunk copies live in the cache directory), and chunks a previous run
   * left staged are still uploaded: those writes were acknowledged.
   */
  readOnly?: boolean
  /** Bytes of local chunk copies (clean and dirty) kept in the cache directory. */
  cacheSize?: number
  /** Uploads at once (default 8; 32 to a local store). */
  uploadConcurrency?: number
  /** Dirty chunks are uploaded once the device has had no change for this long (default 1 s). */
  idleUploadMs?: number
  logger?: Logger
}

/** What the cache knows of one chunk. The store holds everything written up to `storedGen`. */
interface ChunkState {
  /** A local file holds the chunk's bytes; a dirty chunk without one is to be deleted from the store. */
  cached: boolean
  /** The dirty journal has a marker for the chunk. */
  marked: boolean
  /** Changes are numbered from one device-wide clock, so a chunk's numbers only ever grow. */
  gen: number
  storedGen: number
  /**
   * How far the chunk has been written from its start, in order, by the latest run of writes that
   * began at its start: a sequential writer (a copy, mkfs) that reaches the end is done with it.
   */
  inOrder: number
  upload?: Promise<void>
  failedAt?: number
}

function isDirty(state: ChunkState): boolean {
  return state.gen > state.storedGen
}

interface Piece {
  index: number
  /** Offset within the chunk. */
  offset: number
  length: number
  /** Offset within the request. */
  at: number
}

function* piecesOf(offset: number, length: number, chunkSize: number): Generator<Piece> {
  for (let at = 0; at < length;) {
    const index = Math.floor((offset + at) / chunkSize)
    const within = (offset + at) % chunkSize
    const piece = Math.min(chunkSize - within, length - at)
    yield {index, offset: within, length: piece, at}
    at += piece
  }
}

/**
 * A block device stored as chunk objects, with a bounded write-back cache of whole chunks in local
 * files. Writes change the local copy (read first from the store when the write covers only part
 * of a chunk); dirty chunks are uploaded whole, in the background when the cache fills up or the
 * device goes idle, and on flush. One lock per chunk orders changes against the snapshot an upload
 * takes. The device is open in one process at a time (an owner lock in its cache directory).
 */
export class ChunkDevice implements BlockDevice {
  private readonly states = new Map<number, ChunkState>()
  /** The dirty chunks, least recently changed first. */
  private readonly dirty = new Set<number>()
  private readonly locks = new KeyedMutex<number>()
  private readonly queue: PQueue
  private readonly files: StagingFiles<number>
  private readonly journal: DirtyJournal
  private readonly capacity: number
  private readonly logger: Logger
  private readonly idleUploadMs: number
  private occupied = 0
  private clock = 0
  private waiters: Array<() => void> = []
  private idleTimer?: NodeJS.Timeout
  private lastChange = 0
  private zeros?: Buffer
  private closed = false
  /**
   * Clean chunks being fetched into memory for reads (not into the local cache): each is fetched
   * once. A change to a chunk forgets its fetch, whose answer is then not kept.
   */
  private readonly fetching = new Map<number, Promise<Buffer | undefined>>()
  private readonly fetchQueue = new PQueue({concurrency: FETCH_CONCURRENCY})
  /** The queue ids of the fetches that have not started yet, by chunk. */
  private readonly queuedFetches = new Map<number, string>()
  private fetchIds = 0
  readonly readOnly: boolean
  /** Whole-chunk buffers of upload snapshots. */
  private readonly buffers: BufferPool
  /** Whole-chunk buffers that fetches fill, given back when FreshChunks drops them. */
  private readonly fetchBuffers: BufferPool
  private readonly fresh: FreshChunks
  /**
   * The store when its objects are local files: chunks the cache does not hold are read straight
   * from their objects instead of being copied into the cache first.
   */
  private readonly local?: FileStore
  /** The objects of a local store's chunks, open for those reads. */
  private readonly objects?: OpenChunkObjects

  private constructor(
    private readonly store: ObjectStore,
    readonly name: string,
    private manifest: Manifest,
    private readonly presence: ChunkPresence,
    private readonly dir: string,
    private readonly lock: OwnerLock,
    options: OpenDeviceOptions,
  ) {
    this.logger = options.logger ?? silentLogger
    this.readOnly = options.readOnly ?? false
    this.idleUploadMs = options.idleUploadMs ?? IDLE_UPLOAD_MS
    this.capacity = Math.max(MIN_CACHED_CHUNKS, Math.floor((options.cacheSize ?? DEFAULT_CACHE_SIZE) / manifest.chunkSize))
    const uploadConcurrency = options.uploadConcurrency ?? (store instanceof FileStore ? DEFAULT_LOCAL_UPLOAD_CONCURRENCY : DEFAULT_UPLOAD_CONCURRENCY)
    this.queue = new PQueue({concurrency: uploadConcurrency})
    this.buffers = new BufferPool(manifest.chunkSize, uploadConcurrency)
    this.fetchBuffers = new BufferPool(manifest.chunkSize, IDLE_FETCH_BUFFERS)
    this.fresh = new FreshChunks(Math.max(1, Math.floor(FRESH_BYTES / manifest.chunkSize)), this.fetchBuffers)
    this.files = new StagingFiles<number>((index) => join(chunkFilesDir(dir), chunkName(index)))
    this.journal = new DirtyJournal(dirtyJournalDir(dir))
    if (store instanceof FileStore) {
      this.local = store
      this.objects = new OpenChunkObjects(store, (index) => chunkKey(name, index))
    }
  }

  /** Opens (and creates, grows or shrinks) a device; uploads what a previous run left dirty before it returns. */
  static async open(options: OpenDeviceOptions): Promise<ChunkDevice> {
    const name = checkDeviceName(options.name)
    const dir = deviceCacheDir(options.cacheDir, name)
    await mkdir(dir, {recursive: true})
    const lock = lockDevice(dir, name)
    try {
      const manifest = (await readManifest(options.store, name)) ?? (await createManifest(options))
      if (options.readOnly && options.size !== undefined && options.size !== manifest.size) {
        throw fsError('EROFS', 'open', name, {detail: `the device has ${manifest.size} bytes, not ${options.size}: a read-only open does not resize it`})
      }
      const presence = new ChunkPresence(chunkCount({size: Math.max(manifest.size, options.size ?? 0), chunkSize: manifest.chunkSize}))
      const device = new ChunkDevice(options.store, name, manifest, presence, dir, lock, options)
      // Chunk uploads are hashed there (a file store's linked files, an S3 store's bodies); a thread
      // that fails to start fails those hashes, not the open.
      if (!device.readOnly) await startDigestThread().catch(() => undefined)
      await device.recover()
      if (options.size !== undefined && options.size !== manifest.size) await device.resize(options.size, options.allowShrink ?? false)
      return device
    } catch (error) {
      lock.release()
      throw error
    }
  }

  get size(): number {
    return this.manifest.size
  }

  get chunkSize(): number {
    return this.manifest.chunkSize
  }

  /** `length` bytes from `offset` on, in a buffer of their own. */
  async read(offset: number, length: number): Promise<Buffer> {
    const data = Buffer.allocUnsafe(length)
    await this.readInto(offset, data)
    return data
  }

  async readInto(offset: number, target: Buffer): Promise<void> {
    const length = target.length
    this.check('read', offset, length)
    // A read whose previous chunk is cached continues a sequential reader (one per connection of a
    // multi-connection client, each in its own region): the chunks after it are fetched ahead.
    const first = Math.floor(offset / this.chunkSize)
    const sequential = length > 0 && (first === 0 || this.states.get(first - 1)?.cached === true || this.fresh.has(first - 1))
    if (sequential && this.objects === undefined) this.readAhead(Math.floor((offset + length - 1) / this.chunkSize) + 1)
    const pieces = [...piecesOf(offset, length, this.chunkSize)]
    if (pieces.length === 1) return this.readPiece(pieces[0], target)
    // Every piece settled, not just the first failed: none may still fill `target` after the call.
    await allSettledOrThrow(pieces.map((piece) => this.readPiece(piece, target.subarray(piece.at, piece.at + piece.length))))
  }

  private async readPiece(piece: Piece, into: Buffer): Promise<void> {
    if (this.readsAsZeros(piece.index)) {
      into.fill(0)
      return
    }
    if (this.states.get(piece.index)?.cached !== true) {
      // Not in the local cache, so clean (a dirty chunk without a local copy reads as zeros): read
      // from its object, or from its bytes fetched into memory; only writes bring chunks into the cache.
      if (this.objects !== undefined) return this.readStored(this.objects, piece, into)
      const data = await this.fetchForReading(piece.index)
      if (data === undefined) into.fill(0)
      else data.copy(into, 0, piece.offset, piece.offset + piece.length)
      return
    }
    await this.withCachedChunk(piece.index, 'fetch', async () => {
      const fresh = this.fresh.slice(piece.index, piece.offset, piece.length)
      if (fresh !== undefined) fresh.copy(into)
      else await this.files.readInto(piece.index, piece.offset, into)
    })
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.check('write', offset, data.length)
    // Every piece settled, not just the first failed: none may still be reading `data` after the call.
    try {
      await allSettledOrThrow([...piecesOf(offset, data.length, this.chunkSize)].map((piece) =>
        this.writePiece(piece, data.subarray(piece.at, piece.at + piece.length))))
    } finally {
      this.changed()
    }
  }

  async trim(offset: number, length: number): Promise<void> {
    await this.zero(offset, length)
  }

  async zero(offset: number, length: number, options: {noHole?: boolean} = {}): Promise<void> {
    this.check('zero', offset, length)
    // NO_HOLE asks for allocated zeros: every chunk of the range gets an object, never-written ones too.
    await Promise.all([...piecesOf(offset, length, this.chunkSize)].map(async (piece) => {
      if (!options.noHole && piece.length === this.chunkSize) return this.dropChunk(piece.index)
      if (!options.noHole && this.readsAsZeros(piece.index)) return
      this.zeros ??= Buffer.alloc(this.chunkSize)
      return this.writePiece(piece, this.zeros.subarray(0, piece.length))
    }))
    this.changed()
  }

  async flush(range?: {offset: number; length: number}): Promise<void> {
    const first = range === undefined ? 0 : Math.floor(range.offset / this.chunkSize)
    const last = range === undefined ? Infinity : Math.floor((range.offset + Math.max(range.length, 1) - 1) / this.chunkSize)
    await allSettledOrThrow([...this.dirty]
      .filter((index) => index >= first && index <= last)
      .map((index) => this.ensureStored(index, this.states.get(index)!.gen)))
  }

  /** Uploads everything dirty and gives up the device; a failed upload stays journaled for the next open. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.idleTimer)
    try {
      await this.flush()
    } finally {
      await this.files.closeAll()
      await this.objects?.forgetAll()
      this.lock.release()
    }
  }

  private check(operation: 'read' | 'write' | 'zero', offset: number, length: number): void {
    if (this.closed) throw fsError('EIO', operation, this.name, {detail: 'the device is closed'})
    if (this.readOnly && operation !== 'read') throw fsError('EROFS', operation, this.name, {detail: 'the device is open read-only'})
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw fsError('EINVAL', operation, this.name, {detail: `bytes ${offset}+${length} are beyond the device's ${this.size}`})
    }
  }

  /** True when the chunk is zeros without looking at it: no object and no local copy, or a pending delete. */
  private readsAsZeros(index: number): boolean {
    const state = this.states.get(index)
    return state === undefined || (!state.cached && !isDirty(state)) ? !this.presence.has(index) : !state.cached
  }

  /** Starts fetching the chunks from `first` on that are in the store and not cached, into memory (in the background). */
  private readAhead(first: number): void {
    const count = Math.max(1, Math.min(Math.floor(READ_AHEAD_BYTES / this.chunkSize), Math.floor(this.capacity / 4)))
    const end = Math.min(first + count, chunkCount(this.manifest))
    for (let index = first; index < end; index++) {
      if (this.readsAsZeros(index) || this.states.get(index)?.cached === true) continue
      this.fetchForReading(index, AHEAD)
        .catch((error: unknown) => this.logger.debug(`device ${this.name}: read-ahead of chunk ${index}: ${(error as Error).message}`))
    }
  }

  /**
   * A clean chunk's bytes for reads (undefined: it has no object after all), from memory or
   * fetched into it (FreshChunks), without a local copy: reading a device costs no disk writes.
   */
  private fetchForReading(index: number, priority = WAITED_FOR): Promise<Buffer | undefined> {
    const fresh = this.fresh.get(index)
    if (fresh !== undefined) return Promise.resolve(fresh)
    const running = this.fetching.get(index)
    const queued = this.queuedFetches.get(index)
    if (running !== undefined) {
      if (queued !== undefined && priority === WAITED_FOR) this.fetchQueue.setPriority(queued, WAITED_FOR)
      return running
    }
    const id = String(this.fetchIds++)
    this.queuedFetches.set(index, id)
    const fetching = this.fetchQueue.add(() => {
      if (this.queuedFetches.get(index) === id) this.queuedFetches.delete(index)
      return this.fetch(index)
    }, {priority, id})
    this.fetching.set(index, fetching)
    fetching.then((data) => {
      if (this.fetching.get(index) !== fetching) return // the chunk changed meanwhile: these bytes are stale
      this.fetching.delete(index)
      if (data !== undefined && this.states.get(index)?.cached !== true) this.fresh.set(index, data)
    }, () => {
      if (this.fetching.get(index) === fetching) this.fetching.delete(index)
    })
    return fetching
  }

  /**
   * A piece of a chunk the cache does not hold, read from its object in a local store (a chunk
   * without one reads as zeros). A change racing the read is a request in flight beside it, which
   * may be seen or not.
   */
  private async readStored(objects: OpenChunkObjects, piece: Piece, into: Buffer): Promise<void> {
    let read: number
    try {
      read = await objects.read(piece.index, piece.offset, into)
    } catch (error) {
      // Deleted by a trim meanwhile: a chunk without an object reads as zeros.
      if (isStoreError(error, 'NotFound')) read = 0
      else throw fsError('EIO', 'read', this.name, {cause: error, detail: `chunk ${piece.index}: ${(error as Error).message}`})
    }
    into.fill(0, read)
  }

  private async writePiece(piece: Piece, data: Buffer): Promise<void> {
    const whole = piece.length === this.chunkSize
    const state = await this.withCachedChunk(piece.index, whole ? 'empty' : 'fetch', async (state) => {
      await this.markDirty(piece.index, state)
      await this.files.write(piece.index, piece.offset, data)
      state.inOrder = piece.offset === 0 || piece.offset === state.inOrder ? piece.offset + piece.length : 0
      return state
    })
    // Written whole from its start: a sequential writer has moved on, so the chunk is stored now
    // instead of waiting in the write-behind window (a FLUSH at the end of a copy then waits for
    // the last chunks only).
    if (state.inOrder === this.chunkSize) {
      state.inOrder = 0
      this.startUpload(piece.index, state)
    }
  }

  /** A whole chunk discarded: its local copy goes, and the upload deletes its object. */
  private async dropChunk(index: number): Promise<void> {
    await this.locks.run(index, async () => {
      const state = this.states.get(index) ?? newState()
      if (!state.cached && !isDirty(state) && !this.presence.has(index)) return
      await this.markDirty(index, state)
      if (state.cached) {
        state.cached = false
        this.occupied--
        await this.files.remove(index)
      }
      this.states.set(index, state)
    })
    this.notify()
  }

  /** The journal marker goes down before the local copy first changes, so a crash cannot hide a change. */
  private async markDirty(index: number, state: ChunkState): Promise<void> {
    // The chunk's bytes in memory, and a fetch of them in flight, are the object's, which this change leaves behind.
    this.fresh.delete(index)
    this.fetching.delete(index)
    if (!state.marked) {
      await this.journal.mark(index)
      state.marked = true
    }
    state.gen = ++this.clock
    this.dirty.delete(index)
    this.dirty.add(index)
  }

  /**
   * Runs `fn` under the chunk's lock with the chunk in a local file, which is filled first when it
   * is not: from the store ('fetch'), or as zeros when `fn` overwrites all of it ('empty'). The
   * cache slot is taken under the lock, so that the requests waiting for one chunk take one slot.
   * (Waiting for a slot while holding an uncached chunk's lock cannot deadlock: slots are freed by
   * evicting clean chunks and uploading dirty cached ones, whose locks no such waiter holds.)
   */
  private async withCachedChunk<T>(index: number, fill: 'fetch' | 'empty', fn: (state: ChunkState) => Promise<T>): Promise<T> {
    try {
      return await this.locks.run(index, async () => {
        let state = this.states.get(index)
        if (state?.cached !== true) {
          await this.reserveSlot()
          try {
            state = await this.fill(index, state, fill)
          } catch (error) {
            this.occupied--
            throw error
          }
        }
        this.touch(index, state)
        return fn(state)
      })
    } finally {
      this.notify()
    }
  }

  private async fill(index: number, current: ChunkState | undefined, fill: 'fetch' | 'empty'): Promise<ChunkState> {
    // Bytes a reader fetched are the object's: a clean chunk's memory copy is dropped on any change.
    const known = this.fresh.take(index)
    const data = fill === 'fetch' && !this.readsAsZeros(index) ? known ?? await this.fetch(index) : undefined
    if (known !== undefined && data !== known) this.fetchBuffers.give(known)
    await this.files.create(index, this.chunkSize)
    if (data !== undefined) {
      await this.files.write(index, 0, data)
      this.fresh.set(index, data)
    }
    const state = current ?? newState()
    state.cached = true
    this.states.set(index, state)
    return state
  }

  /** The chunk's bytes; undefined when it has no object after all. */
  private async fetch(index: number): Promise<Buffer | undefined> {
    try {
      return await this.getChunk(chunkKey(this.name, index))
    } catch (error) {
      if (isStoreError(error, 'NotFound')) {
        this.presence.set(index, false)
        return undefined
      }
      throw fsError('EIO', 'read', this.name, {cause: error, detail: `chunk ${index}: ${(error as Error).message}`})
    }
  }

  /**
   * A whole chunk object in one buffer. A plain GET, not a ranged one: chunk objects are exactly a
   * chunk long, and servers answer ranges more slowly (s3rver ~3x); bytes past a chunk are ignored.
   */
  private async getChunk(key: string): Promise<Buffer> {
    // Taken before the request goes out: a buffer just given back is filled only in a later turn.
    const data = this.fetchBuffers.take()
    let filled = 0
    try {
      const body = await this.store.get(key)
      for await (const piece of body) {
        filled += (piece as Buffer).copy(data, filled)
        if (filled === this.chunkSize) break
      }
    } catch (error) {
      this.fetchBuffers.give(data)
      throw error
    }
    data.fill(0, filled)
    return data
  }

  /** Most recently used last: eviction takes the first clean chunk in the map's order. */
  private touch(index: number, state: ChunkState): void {
    this.states.delete(index)
    this.states.set(index, state)
  }

  /** Waits for room for one more local chunk: evicts a clean one, or uploads dirty ones and waits. */
  private async reserveSlot(): Promise<void> {
    for (;;) {
      if (this.occupied < this.capacity) {
        this.occupied++
        return
      }
      if (await this.evictOne()) continue
      this.uploadOldest(0)
      await this.nextChange()
    }
  }

  private async evictOne(): Promise<boolean> {
    const evictable = (index: number, state: ChunkState | undefined): state is ChunkState =>
      state !== undefined && state.cached && !isDirty(state) && state.upload === undefined && !this.locks.isHeld(index)
    for (const [index, state] of this.states) {
      if (!evictable(index, state)) continue
      const evicted = await this.locks.run(index, async () => {
        const current = this.states.get(index)
        if (current === undefined || !current.cached || isDirty(current) || current.upload !== undefined) return false
        this.states.delete(index)
        this.occupied--
        this.fresh.delete(index)
        await this.files.remove(index)
        return true
      })
      if (evicted) return true
    }
    return false
  }

  /** After a change: upload the oldest dirty chunks beyond the write-behind window now, the rest once idle. */
  private changed(): void {
    this.uploadOldest(Math.max(2, Math.min(Math.floor(WRITE_BEHIND_BYTES / this.chunkSize), Math.floor(this.capacity / 2))))
    this.lastChange = Date.now()
    // One timer, moved on when it fires early, rather than one set and cleared per change.
    this.idleTimer ??= this.idleCheck(this.idleUploadMs)
  }

  private idleCheck(delay: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const idle = Date.now() - this.lastChange
      if (idle < this.idleUploadMs) {
        this.idleTimer = this.idleCheck(this.idleUploadMs - idle)
        return
      }
      this.idleTimer = undefined
      this.uploadOldest(0)
    }, delay)
    timer.unref()
    return timer
  }

  /** Starts background uploads of the least recently changed dirty chunks, leaving `keep` dirty ones alone. */
  private uploadOldest(keep: number): void {
    let beyond = this.dirty.size - keep
    for (const index of this.dirty) {
      if (beyond-- <= 0) break
      this.startUpload(index, this.states.get(index)!)
    }
  }

  /** A background upload, unless one runs or the last one failed only just now; a failure is logged. */
  private startUpload(index: number, state: ChunkState): void {
    if (state.upload !== undefined || (state.failedAt !== undefined && Date.now() - state.failedAt < RETRY_MS)) return
    this.upload(index, state).catch((error: unknown) => {
      this.logger.warn(`device ${this.name}: ${(error as Error).message}; the chunk stays staged and is tried again`)
    })
  }

  /** Resolves once the store holds chunk `index` as of change `gen` or later. */
  private async ensureStored(index: number, gen: number): Promise<void> {
    for (;;) {
      const state = this.states.get(index)
      if (state === undefined || !isDirty(state) || state.storedGen >= gen) return
      await (state.upload ?? this.upload(index, state))
    }
  }

  private upload(index: number, state: ChunkState): Promise<void> {
    if (state.upload !== undefined) return state.upload
    const upload = this.queue.add(() => this.uploadNow(index, state)).finally(() => {
      if (state.upload === upload) state.upload = undefined
      this.notify()
    })
    state.upload = upload
    return upload
  }

  /** One whole-chunk PUT (or DELETE) of a snapshot taken under the chunk's lock. */
  private async uploadNow(index: number, state: ChunkState): Promise<void> {
    if (this.local !== undefined) return this.locks.run(index, () => this.storeChunkFile(index, state))
    const snapshot = await this.locks.run(index, async () => ({
      gen: state.gen,
      data: state.cached ? await this.files.readInto(index, 0, this.buffers.take()) : undefined,
    }))
    if (snapshot.gen <= state.storedGen) {
      if (snapshot.data !== undefined) this.buffers.give(snapshot.data)
      return
    }
    const key = chunkKey(this.name, index)
    try {
      if (snapshot.data === undefined) await this.store.delete([key])
      else await this.store.put(key, snapshot.data, {contentType: CHUNK_CONTENT_TYPE, md5: false})
    } catch (error) {
      throw this.uploadFailed(state, key, error)
    } finally {
      if (snapshot.data !== undefined) this.buffers.give(snapshot.data)
    }
    await this.locks.run(index, async () => {
      this.stored(index, state, snapshot.gen, snapshot.data !== undefined)
      await this.clearMarker(index, state)
    })
  }

  /**
   * The upload to a local store, under the chunk's lock from start to end: the chunk's file itself
   * becomes the object (linked in, not copied), so the chunk leaves the cache, and its later reads
   * go to the object.
   */
  private async storeChunkFile(index: number, state: ChunkState): Promise<void> {
    const gen = state.gen
    if (gen <= state.storedGen) return
    const key = chunkKey(this.name, index)
    const present = state.cached
    try {
      if (!present) {
        await this.store.delete([key])
      } else {
        // The store hashes the file (off the main thread) while it syncs it.
        await this.store.put(key, {path: this.files.path(index), final: true}, {contentType: CHUNK_CONTENT_TYPE, md5: false})
      }
    } catch (error) {
      throw this.uploadFailed(state, key, error)
    }
    this.stored(index, state, gen, present)
    if (present) {
      // The object now is the file: the cache lets go of it before anything could change it.
      state.cached = false
      this.occupied--
      this.fresh.delete(index)
      await this.files.remove(index).catch((error: unknown) => this.logger.warn(`device ${this.name}: ${(error as Error).message}`))
    }
    await this.clearMarker(index, state)
  }

  private uploadFailed(state: ChunkState, key: string, error: unknown): Error {
    state.failedAt = Date.now()
    return fsError('EIO', 'flush', this.name, {cause: error, detail: `upload of ${key}: ${(error as Error).message}`})
  }

  /** Under the chunk's lock, once the store holds the chunk as of change `gen` (or has no object for it). */
  private stored(index: number, state: ChunkState, gen: number, present: boolean): void {
    this.objects?.forget(index)
    state.failedAt = undefined
    this.presence.set(index, present)
    state.storedGen = Math.max(state.storedGen, gen)
    if (!isDirty(state)) this.dirty.delete(index)
  }

  /** Under the chunk's lock: a chunk the store holds as written needs no marker, nor a state once uncached. */
  private async clearMarker(index: number, state: ChunkState): Promise<void> {
    if (isDirty(state)) return
    await this.journal.clear(index)
    state.marked = false
    if (!state.cached && this.states.get(index) === state) this.states.delete(index)
  }

  private notify(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }

  /** The next chunk operation or upload to finish, or RETRY_MS, whichever comes first. */
  private nextChange(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, RETRY_MS)
      this.waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /**
   * Finds what the store and the cache directory hold: which chunks have objects, and which local
   * chunks a previous run left dirty (they are uploaded now). Clean local copies are not trusted
   * across runs (one may be torn by a crash while it was filled) and are removed.
   */
  private async recover(): Promise<void> {
    for await (const entry of this.store.list({prefix: chunksPrefix(this.name)})) {
      if (entry.kind !== 'object') continue
      const index = parseChunkName(entry.key.slice(chunksPrefix(this.name).length))
      if (index !== undefined) this.presence.set(index, true)
    }
    await this.journal.open()
    await mkdir(chunkFilesDir(this.dir), {recursive: true})
    const dirty = new Set(await this.journal.list())
    for (const index of await listChunkFiles(chunkFilesDir(this.dir))) {
      if (dirty.has(index)) continue
      await this.files.remove(index)
    }
    const withFiles = new Set(await listChunkFiles(chunkFilesDir(this.dir)))
    for (const index of dirty) {
      const state: ChunkState = {cached: withFiles.has(index), marked: true, gen: ++this.clock, storedGen: 0, inOrder: 0}
      if (state.cached) this.occupied++
      this.states.set(index, state)
      this.dirty.add(index)
    }
    if (dirty.size > 0) {
      this.logger.info(`device ${this.name}: uploading ${dirty.size} chunk(s) a previous run left staged`)
      await this.flush()
    }
  }

  private async resize(size: number, allowShrink: boolean): Promise<void> {
    const from = this.size
    if (size < from && !allowShrink) {
      throw fsError('EINVAL', 'open', this.name, {detail: `the device has ${from} bytes; shrinking it to ${size} drops the data past the new end, which must be allowed explicitly`})
    }
    if (size < from) {
      const tailEnd = Math.min(from, Math.ceil(size / this.chunkSize) * this.chunkSize)
      // Always part of a chunk, which is zeroed if it has data.
      await this.zero(size, tailEnd - size)
      await this.flush()
    }
    this.manifest = {...this.manifest, size}
    await writeManifest(this.store, this.name, this.manifest)
    if (size < from) await this.dropChunksFrom(chunkCount(this.manifest))
    this.logger.info(`device ${this.name}: ${size < from ? 'shrunk' : 'grown'} from ${from} to ${size} bytes`)
  }

  /** Deletes every chunk object and local copy from `first` on (after a shrink). */
  private async dropChunksFrom(first: number): Promise<void> {
    await this.objects?.forgetAll()
    for (const [index, state] of [...this.states]) {
      if (index < first) continue
      if (state.cached) this.occupied--
      this.states.delete(index)
      this.dirty.delete(index)
      this.fresh.delete(index)
      await this.files.remove(index)
      await this.journal.clear(index)
    }
    for (const index of [...this.fetching.keys()]) {
      if (index >= first) this.fetching.delete(index)
    }
    const prefix = chunksPrefix(this.name)
    const store = this.store
    const name = this.name
    async function* beyond(): AsyncGenerator<string> {
      for await (const entry of store.list({prefix, startAfter: first > 0 ? chunkKey(name, first - 1) : undefined})) {
        if (entry.kind === 'object' && (parseChunkName(entry.key.slice(prefix.length)) ?? -1) >= first) yield entry.key
      }
    }
    await this.store.delete(beyond())
  }
}

/** Waits for every promise to settle, then throws the first failure, if any. */
async function allSettledOrThrow(promises: Array<Promise<void>>): Promise<void> {
  const failure = (await Promise.allSettled(promises)).find((result) => result.status === 'rejected')
  if (failure !== undefined) throw failure.reason
}

function newState(): ChunkState {
  return {cached: false, marked: false, gen: 0, storedGen: 0, inOrder: 0}
}

function lockDevice(dir: string, name: string): OwnerLock {
  try {
    return acquireOwnerLock(dir)
  } catch (error) {
    if (error instanceof CacheError && error.code === 'Locked') {
      throw new Error(`the device ${name} is already served (${error.message})`, {cause: error})
    }
    throw error
  }
}

async function createManifest(options: OpenDeviceOptions): Promise<Manifest> {
  if (options.size === undefined || options.readOnly) {
    throw fsError('ENOENT', 'open', options.name, {detail: options.readOnly ? 'no such device; a read-only open does not create one' : 'no such device; give a size to create it'})
  }
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  if (!isValidChunkSize(chunkSize)) throw new RangeError(`invalid chunk size ${chunkSize}: a power of two from 4 KiB to 64 MiB`)
  const manifest: Manifest = {format: MANIFEST_FORMAT, size: options.size, chunkSize}
  await writeManifest(options.store, options.name, manifest)
  return manifest
}
