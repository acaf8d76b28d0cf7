import {createHash, randomBytes} from 'node:crypto'
import {constants, createReadStream, lstatSync, mkdirSync, renameSync, rmdirSync, unlinkSync, type BigIntStats} from 'node:fs'
import {access, type FileHandle, lstat, mkdir, open, readdir, rm, stat, unlink} from 'node:fs/promises'
import {dirname, isAbsolute, join, resolve, sep} from 'node:path'
import {addAbortSignal, Readable} from 'node:stream'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {isStoreError, StoreError} from './errors.js'
import {type FileIdentity, FileStoreCatalog, type ObjectRecord, type UploadRecord} from './file-store-catalog.js'
import {INTERNAL_DIR, parseKey, type ParsedKey} from './file-store-keys.js'
import {GroupCommit} from './group-commit.js'
import {TreeLister, type FoundEntry} from './file-store-list.js'
import {isProcessRunning, isSha256Etag, linkTemp, sweepTemp, writeTemp, type WriteTempOptions, type WrittenTemp} from './file-store-temp.js'
import {
  getOptionsOf,
  type CompletedPart, type CopyOptions, type GetOptions, type ListEntry, type ListOptions, type MultipartUpload, type ObjectHead,
  type ObjectInfo, type ObjectStore, type PutBody, type PutOptions, type PutResult, type Range, type UserMetadata,
} from './object-store.js'

/**
 * A local directory laid out exactly like a bucket: the key `a/b.txt` is the file `DIR/a/b.txt` with
 * the same bytes, the marker `a/` is the directory `DIR/a`. What S3 keeps beside the bytes (ETag,
 * content type, user metadata) lives in a SQLite catalog in `DIR/.zerofs/filestore/`, so that every
 * name a POSIX client can create is a key (no sidecar file steals a name or 255-byte components).
 *
 * Durability: a put writes a temp file, fsyncs it, records its catalog row (synced), renames it into
 * place and fsyncs the directory; a kill -9 at any point leaves the old or the new object whole.
 */

export interface FileStoreOptions {
  /** Create the directory when missing; otherwise every call fails with NoSuchBucket. */
  create?: boolean
}

/** S3's bounds, enforced so that code tested on a FileStore does not fail on a bucket. */
const MIN_PART_SIZE = 5 * 1024 * 1024
const MAX_PART_NUMBER = 10_000
const UPLOADS_PAGE = 1000
const DELETE_BATCH = 256
/** Bytes per read of a get's stream: 16 times fewer reads (and stream pieces) than the default 64 KiB. */
const READ_PIECE = 1024 * 1024

interface Opened {
  catalog: FileStoreCatalog
  tmp: string
  uploads: string
  /** Renames synced temp files into place, those of concurrent puts together. */
  renames: GroupCommit<Rename, void>
}

/** A synced temp file to become the object at `parsed` (at `path`), with the row of its version. */
interface Rename {
  parsed: ParsedKey
  path: string
  temp: WrittenTemp
  identity: FileIdentity
  record: ObjectRecord
}

/** An object's file, open for reads (FileStore.openObjectFile). */
export interface ObjectFile {
  /** Reads the bytes from `offset` into `target`; returns how many were read, fewer than asked at the object's end. */
  read(offset: number, target: Buffer): Promise<number>
  close(): Promise<void>
}

export class FileStore implements ObjectStore {
  readonly url: string
  /** The absolute directory that holds the objects. */
  readonly root: string
  private readonly create: boolean
  private opening?: Promise<Opened>
  private closed = false

  /** `location` is `file:///DIR` or a plain path. */
  constructor(location: string, options: FileStoreOptions = {}) {
    this.root = location.startsWith('file:') ? fileURLToPath(location) : resolve(location)
    if (this.root.length > 1 && this.root.endsWith(sep)) this.root = this.root.slice(0, -1)
    this.url = pathToFileURL(this.root).href
    this.create = options.create ?? false
  }

  async check(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    await this.open()
    try {
      await access(this.root, constants.W_OK)
    } catch (error) {
      throw new StoreError('AccessDenied', `the store directory ${this.root} is not writable`, {cause: error})
    }
  }

  /** pageSize has no meaning for a directory walk: entries stream one by one. */
  async *list(options: ListOptions = {}): AsyncGenerator<ListEntry> {
    const {catalog} = await this.open()
    const lister = new TreeLister(this.root, options.withMetadata
      ? (found) => this.describeHeads(catalog, found)
      : (found) => this.describe(catalog, found))
    try {
      yield* lister.list({prefix: options.prefix ?? '', delimiter: options.delimiter, startAfter: options.startAfter, signal: options.signal})
    } catch (error) {
      throw this.failure(error, 'list', options.prefix ?? '')
    }
  }

  async head(key: string, signal?: AbortSignal): Promise<ObjectHead | undefined> {
    const parsed = parseKey(key)
    signal?.throwIfAborted()
    const {catalog} = await this.open()
    const stats = await lstatIfExists(this.pathOf(parsed))
    return stats === undefined ? undefined : this.describeHead(catalog, parsed.key, stats)
  }

  /**
   * A range that starts at or past the end reads nothing (S3 answers 416 there); so does length 0.
   * `ifMatch` is checked against the version opened, which the stream then reads whatever renames
   * happen meanwhile.
   */
  async get(key: string, range?: Range, options?: GetOptions | AbortSignal): Promise<Readable> {
    const {signal, ifMatch} = getOptionsOf(options)
    const parsed = parseKey(key)
    checkRange(range, key)
    signal?.throwIfAborted()
    const {catalog} = await this.open()
    if (parsed.marker) {
      const head = await this.head(key)
      if (head === undefined) throw notFound(key)
      if (ifMatch !== undefined && head.etag !== ifMatch) throw changedError(key, ifMatch, head.etag)
      return Readable.from([])
    }
    const handle = await this.openObject(parsed)
    try {
      const stats = await handle.stat({bigint: true})
      if (ifMatch !== undefined) {
        const etag = this.describeHead(catalog, parsed.key, stats)?.etag ?? ''
        if (etag !== ifMatch) throw changedError(key, ifMatch, etag)
      }
      const size = Number(stats.size)
      const start = range?.offset ?? 0
      const end = range?.length === undefined ? size : Math.min(size, start + range.length)
      if (start >= end) {
        await handle.close()
        return Readable.from([])
      }
      const stream = handle.createReadStream({start, end: end - 1, highWaterMark: READ_PIECE})
      return signal ? addAbortSignal(signal, stream) : stream
    } catch (error) {
      await handle.close().catch(() => undefined)
      throw this.failure(error, 'read', key)
    }
  }

  /** One positional read into a buffer of the range's length (shorter at the end of the object). */
  async readRange(key: string, range: Range): Promise<Buffer> {
    const parsed = parseKey(key)
    checkRange(range, key)
    await this.open()
    if (parsed.marker) {
      if ((await this.head(key)) === undefined) throw notFound(key)
      return Buffer.alloc(0)
    }
    const handle = await this.openObject(parsed)
    try {
      // Without a length, to the end: the size is needed; with one, a short read tells the end.
      const end = range.length === undefined ? (await handle.stat()).size : range.offset + range.length
      const buffer = Buffer.allocUnsafe(Math.max(0, end - range.offset))
      return buffer.subarray(0, await readFully(handle, buffer, range.offset))
    } catch (error) {
      throw this.failure(error, 'read', key)
    } finally {
      await handle.close()
    }
  }

  /**
   * Opens an object's file for positional reads, for a reader that reads one object many times
   * (no open, stat and close per read). The file reads the version opened, whatever replaces the
   * key later. Throws StoreError NotFound for a missing key (and for a marker, which holds no bytes).
   */
  async openObjectFile(key: string): Promise<ObjectFile> {
    const parsed = parseKey(key)
    await this.open()
    if (parsed.marker) throw notFound(key)
    const handle = await this.openObject(parsed)
    return {
      read: async (offset, target) => {
        checkRange({offset, length: target.length}, key)
        try {
          return await readFully(handle, target, offset)
        } catch (error) {
          throw this.failure(error, 'read', key)
        }
      },
      close: () => handle.close(),
    }
  }

  /** Writes the body in one piece (it is local), so the result never has a partSize. */
  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    const parsed = parseKey(key)
    const opened = await this.open()
    const temp = await this.writeBody(opened, key, body, options)
    if (options.sha256 !== undefined && options.sha256 !== temp.sha256) {
      await rm(temp.path, {force: true})
      throw new StoreError('PreconditionFailed', `the body for "${key}" does not match its expected SHA-256 ${options.sha256} (read ${temp.sha256})`, {key})
    }
    const record: ObjectRecord = {
      etag: temp.etag,
      contentType: options.contentType,
      metadata: {...lowerCaseNames(options.metadata ?? {}), sha256: temp.sha256},
      lastModified: Date.now(),
    }
    await this.publish(opened, parsed, temp, record, options.signal)
    return {etag: temp.etag, size: temp.size, sha256: temp.sha256}
  }

  async copy(sourceKey: string, key: string, options: CopyOptions): Promise<void> {
    const source = parseKey(sourceKey)
    const target = parseKey(key)
    options.signal?.throwIfAborted()
    const opened = await this.open()
    const fresh = {contentType: options.contentType, metadata: lowerCaseNames(options.metadata), lastModified: Date.now()}
    if (sourceKey === key) {
      await this.rewriteRecord(opened.catalog, source, fresh)
      return
    }
    let temp: WrittenTemp
    if (source.marker) {
      if ((await this.head(sourceKey)) === undefined) throw notFound(sourceKey)
      temp = await this.stage(opened, Buffer.alloc(0), 'copy to', key)
    } else {
      const handle = await this.openObject(source)
      try {
        // A copy of an object without an MD5 ETag gets none either: the same content, the same ETag.
        const sourceEtag = this.describeHead(opened.catalog, sourceKey, await handle.stat({bigint: true}))?.etag ?? ''
        temp = await this.stage(opened, handle.createReadStream({autoClose: false}), 'copy to', key,
          {signal: options.signal, md5: !isSha256Etag(sourceEtag)})
      } finally {
        await handle.close()
      }
    }
    await this.publish(opened, target, temp, {...fresh, etag: temp.etag}, options.signal)
  }

  /** Keys a FileStore cannot hold cannot exist, so they are skipped like missing keys. */
  async delete(keys: Iterable<string> | AsyncIterable<string>, signal?: AbortSignal): Promise<void> {
    const {catalog} = await this.open()
    let batch: ParsedKey[] = []
    const flush = async (): Promise<void> => {
      signal?.throwIfAborted()
      let touched: string[]
      try {
        touched = catalog.exclusive(() => batch.flatMap((parsed) => this.removeSync(catalog, parsed)))
      } catch (error) {
        throw this.failure(error, 'delete', batch[0].key)
      }
      batch = []
      await syncDirectories(touched)
    }
    for await (const key of keys) {
      try {
        batch.push(parseKey(key))
      } catch (error) {
        if (!isStoreError(error, 'InvalidKey')) throw error
      }
      if (batch.length >= DELETE_BATCH) await flush()
    }
    if (batch.length > 0) await flush()
  }

  async createMultipartUpload(key: string, options: {metadata?: UserMetadata; contentType?: string} = {}): Promise<string> {
    parseKey(key)
    const {catalog, uploads} = await this.open()
    const uploadId = randomBytes(16).toString('hex')
    await mkdir(join(uploads, uploadId))
    catalog.durably(() => catalog.addUpload({
      uploadId, key, initiated: Date.now(), contentType: options.contentType, metadata: lowerCaseNames(options.metadata ?? {}),
    }))
    return uploadId
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, signal?: AbortSignal): Promise<string> {
    const opened = await this.open()
    this.requireUpload(opened.catalog, key, uploadId)
    checkPartNumber(partNumber, key)
    const temp = await this.stage(opened, body, 'write a part of', key, {signal})
    return this.keepPart(opened, key, uploadId, partNumber, temp)
  }

  async uploadPartCopy(key: string, uploadId: string, partNumber: number, sourceKey: string, range: Range, signal?: AbortSignal): Promise<string> {
    const source = parseKey(sourceKey)
    const opened = await this.open()
    this.requireUpload(opened.catalog, key, uploadId)
    checkPartNumber(partNumber, key)
    checkRange(range, sourceKey)
    if (source.marker) throw invalidRange(sourceKey, range, 0)
    const handle = await this.openObject(source)
    let temp: WrittenTemp
    try {
      const size = Number((await handle.stat()).size)
      const end = range.length === undefined ? size : range.offset + range.length
      if (range.offset >= size || end > size || end <= range.offset) throw invalidRange(sourceKey, range, size)
      temp = await this.stage(opened, handle.createReadStream({start: range.offset, end: end - 1, autoClose: false}), 'copy a part to', key, {signal})
    } finally {
      await handle.close()
    }
    return this.keepPart(opened, key, uploadId, partNumber, temp)
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<string> {
    const parsed = parseKey(key)
    const opened = await this.open()
    const upload = this.requireUpload(opened.catalog, key, uploadId)
    const partFiles = await this.checkParts(opened, key, uploadId, parts)
    const partDigests: Buffer[] = []
    const temp = await this.stage(opened, concatenateParts(partFiles, parts, partDigests, key), 'assemble the parts of', key)
    const etag = `${createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-${parts.length}`
    await this.publish(opened, parsed, temp, {etag, contentType: upload.contentType, metadata: upload.metadata, lastModified: Date.now()})
    await this.dropUpload(opened, uploadId)
    return etag
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const opened = await this.open()
    this.requireUpload(opened.catalog, key, uploadId)
    await this.dropUpload(opened, uploadId)
  }

  async *listMultipartUploads(prefix = ''): AsyncGenerator<MultipartUpload> {
    const {catalog} = await this.open()
    let after
    for (;;) {
      const page = catalog.uploadsPage(prefix, after, UPLOADS_PAGE)
      for (const upload of page) yield {key: upload.key, uploadId: upload.uploadId, initiated: new Date(upload.initiated)}
      if (page.length < UPLOADS_PAGE) return
      after = page[page.length - 1]
    }
  }

  async close(): Promise<void> {
    this.closed = true
    const opening = this.opening
    this.opening = undefined
    if (opening) await opening.then((opened) => opened.catalog.close(), () => undefined)
  }

  // --- opening -------------------------------------------------------------------------------------

  /** Opens the catalog on first use (a missing directory is reported then, not at construction). */
  private open(): Promise<Opened> {
    if (this.closed) return Promise.reject(new StoreError('Failed', `the FileStore ${this.root} is closed`))
    this.opening ??= this.openNow().catch((error: unknown) => {
      this.opening = undefined
      throw error
    })
    return this.opening
  }

  private async openNow(): Promise<Opened> {
    try {
      if (!(await stat(this.root)).isDirectory()) throw new StoreError('NoSuchBucket', `the store ${this.root} is not a directory`)
    } catch (error) {
      if (isStoreError(error)) throw error
      if (errnoOf(error) !== 'ENOENT' || !this.create) throw this.noSuchDirectory(error)
      await mkdir(this.root, {recursive: true})
    }
    const internal = join(this.root, ...INTERNAL_DIR)
    const tmp = join(internal, 'tmp')
    const uploads = join(internal, 'uploads')
    try {
      await mkdir(tmp, {recursive: true})
      await mkdir(uploads, {recursive: true})
      await sweepTemp(tmp)
      const catalog = new FileStoreCatalog(join(internal, 'catalog.db'))
      catalog.settleAbandoned(isProcessRunning)
      await sweepUploads(uploads, catalog)
      return {catalog, tmp, uploads, renames: new GroupCommit((batch) => this.renameBatch(catalog, batch))}
    } catch (error) {
      throw this.failure(error, 'open the catalog of', this.root)
    }
  }

  private noSuchDirectory(cause: unknown): StoreError {
    const code = errnoOf(cause)
    if (code === 'EACCES' || code === 'EPERM') return new StoreError('AccessDenied', `the store directory ${this.root} cannot be read`, {cause})
    return new StoreError('NoSuchBucket', `the store directory ${this.root} does not exist`, {cause})
  }

  // --- reading -------------------------------------------------------------------------------------

  private pathOf(parsed: ParsedKey): string {
    const path = join(this.root, ...parsed.components)
    // parseKey already refuses '..' and absolute keys; this guards the guard.
    if (!path.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep) || !isAbsolute(path)) {
      throw new StoreError('InvalidKey', `key '${parsed.key}' resolves outside the store directory`, {key: parsed.key})
    }
    return path
  }

  /** Opens the regular file of a non-marker key; never follows a symlink at the key. */
  private async openObject(parsed: ParsedKey): Promise<FileHandle> {
    let handle: FileHandle
    try {
      handle = await open(this.pathOf(parsed), constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (error) {
      if (isMissing(error)) throw notFound(parsed.key)
      throw this.failure(error, 'open', parsed.key)
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close()
      throw notFound(parsed.key)
    }
    return handle
  }

  /** The object a stat describes at `key` (a marker key wants a directory, any other a regular file). */
  private describeHead(catalog: FileStoreCatalog, key: string, stats: BigIntStats): ObjectHead | undefined {
    if (!isObjectAt(key, stats)) return undefined
    const identity = identityOf(stats)
    return headOf(key, stats, identity, catalog.find(key, identity))
  }

  /** describeHead of many entries with one catalog query (a listing's batch). */
  private describeHeads(catalog: FileStoreCatalog, found: readonly FoundEntry[]): Array<ObjectHead | undefined> {
    const files = found.map(({key, stats}) => ({key, stats, identity: identityOf(stats)}))
    const records = catalog.findMany(files)
    return files.map(({key, stats, identity}, i) => (isObjectAt(key, stats) ? headOf(key, stats, identity, records[i]) : undefined))
  }

  private describe(catalog: FileStoreCatalog, found: readonly FoundEntry[]): Array<ObjectInfo | undefined> {
    return this.describeHeads(catalog, found).map((head) => head && {key: head.key, size: head.size, etag: head.etag, lastModified: head.lastModified})
  }

  // --- writing -------------------------------------------------------------------------------------

  /** writeTemp with its failures as StoreErrors naming the key. */
  private async stage(opened: Opened, source: AsyncIterable<Uint8Array> | Buffer, action: string, key: string,
    options: WriteTempOptions = {}): Promise<WrittenTemp> {
    try {
      return await writeTemp(opened.tmp, source, options)
    } catch (error) {
      throw this.failure(error, action, key)
    }
  }

  private async writeBody(opened: Opened, key: string, body: PutBody, options: PutOptions): Promise<WrittenTemp> {
    const writeOptions = {signal: options.signal, onProgress: options.onProgress, md5: options.md5}
    if (Buffer.isBuffer(body)) return this.stage(opened, body, 'write', key, writeOptions)
    if (!(body instanceof Readable) && body.final) {
      const linked = await linkTemp(opened.tmp, body.path, {...writeOptions, sha256: options.sha256}).catch((error: unknown) => {
        throw this.failure(error, 'write', key)
      })
      if (linked !== undefined) return linked
    }
    const stream = body instanceof Readable ? body : createReadStream(body.path, {highWaterMark: 1024 * 1024})
    if (options.signal) addAbortSignal(options.signal, stream)
    try {
      return await this.stage(opened, stream, 'write', key, writeOptions)
    } finally {
      stream.destroy()
    }
  }

  /**
   * Makes a synced temp file the object at `parsed`: records its row (synced) first, then, holding the
   * catalog's write lock, creates the parent directories, renames it into place and drops the rows of
   * older versions. A marker's temp file must be empty; the directory itself becomes the object.
   */
  private async publish(opened: Opened, parsed: ParsedKey, temp: WrittenTemp, record: ObjectRecord, signal?: AbortSignal): Promise<void> {
    const {catalog} = opened
    const path = this.pathOf(parsed)
    try {
      signal?.throwIfAborted()
      if (parsed.marker) {
        if (temp.size !== 0) {
          throw new StoreError('InvalidKey', `key '${parsed.key}' ends with '/': it is a directory marker and must be empty, not ${temp.size} bytes`, {key: parsed.key})
        }
        const created = catalog.durably(() => catalog.exclusive(() => {
          const made = this.makeDirectories(parsed, path)
          const stats = lstatSync(path, {bigint: true})
          if (!stats.isDirectory()) throw this.conflict(parsed)
          catalog.forget(parsed.key)
          catalog.record(parsed.key, identityOf(stats), record)
          return made
        }))
        await syncDirectories(created)
        return
      }
      await opened.renames.submit({parsed, path, temp, identity: identityOf(temp.stats), record})
    } catch (error) {
      throw this.failure(error, 'store', parsed.key)
    } finally {
      // Gone once renamed into place (one unlink to learn that, where rm would stat first); left
      // by a marker, whose directory is the object, and by a failure.
      await unlink(temp.path).catch(() => undefined)
    }
  }

  /**
   * Publishes the temp files of concurrent puts together: their rows are recorded in one synced
   * commit, then, holding the catalog's write lock, each is renamed into place (its parent
   * directories created) and the rows of older versions dropped; each directory changed is synced
   * once. A put that fails there fails alone.
   */
  private async renameBatch(catalog: FileStoreCatalog, batch: Rename[]): Promise<Array<PromiseSettledResult<void>>> {
    await catalog.exclusiveDurably(() => {
      for (const {parsed, identity, record} of batch) catalog.recordPending(parsed.key, identity, record)
    })
    const results: Array<PromiseSettledResult<void>> = []
    const created: string[] = []
    try {
      catalog.exclusive(() => {
        for (const {parsed, path, temp, identity} of batch) {
          try {
            created.push(...this.makeDirectories(parsed, dirname(path)))
            this.renameOnto(parsed, temp.path, path, catalog)
            catalog.settle(parsed.key, identity)
            catalog.forget(parsed.key, identity)
            results.push({status: 'fulfilled', value: undefined})
          } catch (error) {
            results.push({status: 'rejected', reason: error})
          }
        }
      })
    } catch (error) {
      // The write lock was not had (or its commit failed): whatever was renamed is settled below.
      results.splice(0, results.length, ...batch.map((): PromiseRejectedResult => ({status: 'rejected', reason: error})))
    }
    for (const [i, {parsed, path, identity}] of batch.entries()) {
      if (results[i].status === 'rejected') this.abandonRow(catalog, parsed.key, path, identity)
    }
    try {
      await syncDirectories(created)
    } catch (error) {
      return batch.map(() => ({status: 'rejected', reason: error}))
    }
    return results
  }

  /** After a failed publish: settle the row if the rename happened after all, else drop it. */
  private abandonRow(catalog: FileStoreCatalog, key: string, path: string, identity: FileIdentity): void {
    try {
      const current = lstatIfExistsSync(path)
      if (current !== undefined && sameIdentity(identityOf(current), identity)) catalog.settle(key, identity)
      else catalog.forgetOne(key, identity)
    } catch {
      // A pending row left here is settled at the next open and then dropped as an orphan.
    }
  }

  /**
   * `mkdir -p` of a directory that a key needs, with a conflict for a file in the way. Returns the
   * directories whose entries changed (to fsync): the parents of the created ones, and `dir` itself.
   */
  private makeDirectories(parsed: ParsedKey, dir: string): string[] {
    let first: string | undefined
    try {
      first = mkdirSync(dir, {recursive: true})
    } catch (error) {
      const code = errnoOf(error)
      if (code === 'EEXIST' || code === 'ENOTDIR') throw this.conflict(parsed)
      throw error
    }
    const changed = [dir]
    if (first !== undefined) {
      for (let created = dir; created.length >= first.length; created = dirname(created)) changed.push(dirname(created))
    }
    return changed
  }

  /** A rename onto a directory replaces it only when it is an empty implicit one (S3 has no empty prefixes). */
  private renameOnto(parsed: ParsedKey, from: string, to: string, catalog: FileStoreCatalog): void {
    try {
      renameSync(from, to)
    } catch (error) {
      if (errnoOf(error) !== 'EISDIR') throw error
      const stats = lstatSync(to, {bigint: true})
      if (catalog.find(`${parsed.key}/`, identityOf(stats)) !== undefined) throw this.conflict(parsed)
      try {
        rmdirSync(to)
      } catch {
        throw this.conflict(parsed)
      }
      renameSync(from, to)
    }
  }

  /** Copy onto itself: a new row for the same file, keeping its ETag (read once for a hand-placed file). */
  private async rewriteRecord(catalog: FileStoreCatalog, parsed: ParsedKey, fresh: Omit<ObjectRecord, 'etag'>): Promise<void> {
    const path = this.pathOf(parsed)
    const stats = await lstatIfExists(path)
    const current = stats && this.describeHead(catalog, parsed.key, stats)
    if (stats === undefined || current === undefined) throw notFound(parsed.key)
    const identity = identityOf(stats)
    let etag = current.etag
    if (!parsed.marker && catalog.find(parsed.key, identity) === undefined) {
      const handle = await this.openObject(parsed)
      try {
        etag = await md5Of(handle.createReadStream({autoClose: false}))
      } finally {
        await handle.close()
      }
    }
    catalog.durably(() => catalog.exclusive(() => {
      const now = lstatIfExistsSync(path)
      if (now === undefined || !sameIdentity(identityOf(now), identity)) {
        throw new StoreError('PreconditionFailed', `'${parsed.key}' changed while its metadata was rewritten`, {key: parsed.key})
      }
      catalog.record(parsed.key, identity, {...fresh, etag})
      catalog.forget(parsed.key, identity)
    }))
  }

  /**
   * Deletes one key inside the catalog's write lock, then removes the directories it leaves empty that
   * carry no marker. Returns the directories whose entries changed.
   */
  private removeSync(catalog: FileStoreCatalog, parsed: ParsedKey): string[] {
    const path = this.pathOf(parsed)
    const stats = lstatIfExistsSync(path)
    catalog.forget(parsed.key)
    if (stats === undefined) return []
    if (parsed.marker) {
      if (!stats.isDirectory()) return []
      try {
        rmdirSync(path)
      } catch (error) {
        // Objects below: the directory stays as an implicit prefix.
        if (errnoOf(error) === 'ENOTEMPTY' || errnoOf(error) === 'EEXIST') return []
        throw error
      }
    } else {
      if (!stats.isFile()) return []
      unlinkSync(path)
    }
    return this.pruneSync(catalog, parsed.components.slice(0, -1))
  }

  /** Removes the empty directories without marker from `components` upwards; returns the directories changed. */
  private pruneSync(catalog: FileStoreCatalog, components: string[]): string[] {
    for (let depth = components.length; depth > 0; depth--) {
      const dir = join(this.root, ...components.slice(0, depth))
      const stats = lstatIfExistsSync(dir)
      const kept = stats === undefined || !stats.isDirectory() ||
        catalog.find(`${components.slice(0, depth).join('/')}/`, identityOf(stats)) !== undefined || !tryRmdirSync(dir)
      if (kept) return [dir]
    }
    return [this.root]
  }

  // --- multipart -----------------------------------------------------------------------------------

  private requireUpload(catalog: FileStoreCatalog, key: string, uploadId: string): UploadRecord {
    const upload = catalog.findUpload(uploadId)
    if (upload === undefined || upload.key !== key) {
      throw new StoreError('NotFound', `no multipart upload ${uploadId} for key '${key}' (NoSuchUpload)`, {key})
    }
    return upload
  }

  private async keepPart(opened: Opened, key: string, uploadId: string, partNumber: number, temp: WrittenTemp): Promise<string> {
    const dir = join(opened.uploads, uploadId)
    try {
      renameSync(temp.path, join(dir, String(partNumber)))
      await syncDirectories([dir])
    } catch (error) {
      await rm(temp.path, {force: true})
      if (isMissing(error)) throw new StoreError('NotFound', `multipart upload ${uploadId} for '${key}' ended while part ${partNumber} was written`, {key})
      throw this.failure(error, 'store a part of', key)
    }
    return temp.etag
  }

  /** S3's rules: at least one part, ascending numbers, each uploaded, all but the last at least 5 MiB. */
  private async checkParts(opened: Opened, key: string, uploadId: string, parts: CompletedPart[]): Promise<string[]> {
    const invalid = (why: string): StoreError => new StoreError('Failed', `cannot complete the upload of '${key}': ${why}`, {key})
    if (parts.length === 0) throw invalid('no parts given')
    const files: string[] = []
    for (const [i, part] of parts.entries()) {
      if (i > 0 && part.partNumber <= parts[i - 1].partNumber) throw invalid('part numbers must ascend (InvalidPartOrder)')
      const file = join(opened.uploads, uploadId, String(part.partNumber))
      const stats = await lstatIfExists(file)
      if (stats === undefined) throw invalid(`part ${part.partNumber} was not uploaded (InvalidPart)`)
      if (i < parts.length - 1 && stats.size < MIN_PART_SIZE) throw invalid(`part ${part.partNumber} is smaller than 5 MiB and not the last (EntityTooSmall)`)
      files.push(file)
    }
    return files
  }

  private async dropUpload(opened: Opened, uploadId: string): Promise<void> {
    opened.catalog.removeUpload(uploadId)
    await rm(join(opened.uploads, uploadId), {recursive: true, force: true})
  }

  // --- errors --------------------------------------------------------------------------------------

  private conflict(parsed: ParsedKey): StoreError {
    // Find what is in the way, for a message that names it.
    for (let depth = 1; depth <= parsed.components.length; depth++) {
      const path = join(this.root, ...parsed.components.slice(0, depth))
      const stats = lstatIfExistsSync(path)
      if (stats === undefined) break
      const prefix = parsed.components.slice(0, depth).join('/')
      if (depth < parsed.components.length || parsed.marker) {
        if (!stats.isDirectory()) return conflictError(parsed.key, `'${prefix}' is an object (a file), not a directory`)
      } else if (stats.isDirectory()) {
        return conflictError(parsed.key, `'${prefix}/' is a directory with keys below it`)
      }
    }
    return conflictError(parsed.key, 'a file or directory is in the way')
  }

  /** Turns a filesystem or abort error into a StoreError that names the key and the store. */
  private failure(error: unknown, action: string, key: string): StoreError {
    if (isStoreError(error)) return error
    if (error instanceof Error && error.name === 'AbortError') return new StoreError('Aborted', `${action} '${key}' was aborted`, {key, cause: error})
    const code = errnoOf(error)
    const where = `cannot ${action} '${key}' in ${this.root}`
    const message = error instanceof Error ? error.message : String(error)
    switch (code) {
      case 'ENOENT': return new StoreError('NotFound', `${where}: ${message}`, {key, cause: error})
      case 'EACCES': case 'EPERM': case 'EROFS':
        return new StoreError('AccessDenied', `${where}: ${message}`, {key, cause: error})
      case 'ENAMETOOLONG': return new StoreError('InvalidKey', `${where}: the path is too long`, {key, cause: error})
      case 'ENOTDIR': case 'EISDIR': case 'EEXIST': case 'ENOTEMPTY':
        return new StoreError('Conflict', `${where}: ${message}`, {key, cause: error})
      default: return new StoreError('Failed', `${where}: ${message}`, {key, cause: error})
    }
  }
}

/** Whether the entry at a key is an object: a regular file, or for a marker key a directory (if it has a record). */
function isObjectAt(key: string, stats: BigIntStats): boolean {
  return key.endsWith('/') ? stats.isDirectory() : stats.isFile()
}

/** The object at a key; a directory is its marker only with a record (a put of the marker left one). */
function headOf(key: string, stats: BigIntStats, identity: FileIdentity, record: ObjectRecord | undefined): ObjectHead | undefined {
  if (record) {
    return {key, size: identity.size, etag: record.etag, lastModified: new Date(record.lastModified),
      contentType: record.contentType, metadata: {...record.metadata}}
  }
  if (key.endsWith('/')) return undefined
  return {key, size: identity.size, etag: placedEtag(identity), lastModified: stats.mtime, metadata: {}}
}

/** Identity of the file holding an object; a directory is its inode alone (its size and mtime follow its entries). */
function identityOf(stats: BigIntStats): FileIdentity {
  if (stats.isDirectory()) return {ino: stats.ino, size: 0, mtimeNs: 0n}
  return {ino: stats.ino, size: Number(stats.size), mtimeNs: stats.mtimeNs}
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs
}

/**
 * The ETag of a file placed in the directory by hand (no catalog row): inode, size and mtime, as web
 * servers derive theirs. Not an MD5: that would mean reading the whole file at every head and listing,
 * and caching it would need a row written from a read. This ETag changes whenever the file does, and
 * its dashes keep tools from mistaking it for the MD5 of the content.
 */
function placedEtag(identity: FileIdentity): string {
  return `${identity.ino.toString(16)}-${identity.size.toString(16)}-${identity.mtimeNs.toString(16)}`
}

function lowerCaseNames(metadata: UserMetadata): UserMetadata {
  return Object.fromEntries(Object.entries(metadata).map(([name, value]) => [name.toLowerCase(), value]))
}

async function* concatenateParts(files: string[], parts: CompletedPart[], digests: Buffer[], key: string): AsyncGenerator<Buffer> {
  for (const [i, file] of files.entries()) {
    const md5 = createHash('md5')
    for await (const chunk of createReadStream(file, {highWaterMark: 1024 * 1024})) {
      md5.update(chunk as Buffer)
      yield chunk as Buffer
    }
    const digest = md5.digest()
    if (digest.toString('hex') !== parts[i].etag.replaceAll('"', '')) {
      throw new StoreError('Failed', `cannot complete the upload of '${key}': part ${parts[i].partNumber} has another ETag (InvalidPart)`, {key})
    }
    digests.push(digest)
  }
}

async function md5Of(stream: Readable): Promise<string> {
  const md5 = createHash('md5')
  for await (const chunk of stream) md5.update(chunk as Buffer)
  return md5.digest('hex')
}

/** fsync each directory, so that the renames, creations and removals in it survive a power loss. */
async function syncDirectories(dirs: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(dirs)].map(async (dir) => {
    let handle: FileHandle | undefined
    try {
      handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY)
      await handle.sync()
    } catch (error) {
      if (!isMissing(error)) throw error
    } finally {
      await handle?.close()
    }
  }))
}

/** Older than this, an upload directory without a row is not one being created but one a crash left. */
const ORPHAN_UPLOAD_AGE_MS = 60 * 60 * 1000

/** Removes the upload directories that a crash inside createMultipartUpload left without a row. */
async function sweepUploads(uploads: string, catalog: FileStoreCatalog): Promise<void> {
  for (const uploadId of await readdir(uploads)) {
    if (catalog.findUpload(uploadId) !== undefined) continue
    const stats = await lstat(join(uploads, uploadId)).catch(() => undefined)
    if (stats !== undefined && Date.now() - stats.mtimeMs > ORPHAN_UPLOAD_AGE_MS) {
      await rm(join(uploads, uploadId), {recursive: true, force: true})
    }
  }
}

function tryRmdirSync(dir: string): boolean {
  try {
    rmdirSync(dir)
    return true
  } catch {
    return false
  }
}

/** Fills `target` from `offset` with positional reads; fewer bytes at the end of the file (or one truncated meanwhile). */
async function readFully(handle: FileHandle, target: Buffer, offset: number): Promise<number> {
  let done = 0
  while (done < target.length) {
    const {bytesRead} = await handle.read(target, done, target.length - done, offset + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done
}

function checkRange(range: Range | undefined, key: string): void {
  if (range === undefined) return
  const valid = Number.isSafeInteger(range.offset) && range.offset >= 0 &&
    (range.length === undefined || (Number.isSafeInteger(range.length) && range.length >= 0))
  if (!valid) throw new StoreError('Failed', `invalid range ${JSON.stringify(range)} for '${key}'`, {key})
}

function checkPartNumber(partNumber: number, key: string): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw new StoreError('Failed', `part number ${partNumber} for '${key}' is not between 1 and ${MAX_PART_NUMBER}`, {key})
  }
}

function invalidRange(key: string, range: Range, size: number): StoreError {
  return new StoreError('Failed', `range ${JSON.stringify(range)} is not inside '${key}' (${size} bytes) (InvalidRange)`, {key})
}

function notFound(key: string): StoreError {
  return new StoreError('NotFound', `no such key '${key}'`, {key})
}

/** The object is not the version a reader asked for (If-Match): another writer replaced it. */
function changedError(key: string, expected: string, actual: string): StoreError {
  return new StoreError('PreconditionFailed', `'${key}' changed: its ETag is ${actual || 'unknown'}, not ${expected}`, {key})
}

function conflictError(key: string, why: string): StoreError {
  return new StoreError('Conflict', `key '${key}' cannot be stored: ${why}`, {key})
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

function isMissing(error: unknown): boolean {
  const code = errnoOf(error)
  // ENOTDIR: a component of the path is a file; ELOOP: O_NOFOLLOW met a symlink at the key.
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP'
}

async function lstatIfExists(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, {bigint: true})
  } catch (error) {
    if (isMissing(error)) return undefined
    throw error
  }
}

function lstatIfExistsSync(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, {bigint: true})
  } catch (error) {
    if (isMissing(error)) return undefined
    throw error
  }
}
