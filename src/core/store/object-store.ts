import type {Readable} from 'node:stream'

/**
 * The storage seam of zerofs: a flat, sorted key space of objects with user metadata, as S3 has.
 * A store is scoped: keys are relative to its root (an S3 bucket plus optional prefix, or a
 * FileStore directory), and no key can address anything outside it.
 */

/** User metadata, lower-case names without the `x-amz-meta-` prefix: `{mode: '33188', mtime: '1700000000.5'}`. */
export type UserMetadata = Record<string, string>

export interface ObjectInfo {
  key: string
  size: number
  /** As the server sends it, without quotes: an MD5 hex for single-part S3 objects. */
  etag: string
  lastModified: Date
}

export interface ObjectHead extends ObjectInfo {
  contentType?: string
  metadata: UserMetadata
}

/**
 * One listing entry: an object, or (with a delimiter) a common prefix that ends with the delimiter.
 * An object carries its metadata and content type only when `withMetadata` was asked and the store had them.
 */
export type ListEntry =
  | ({kind: 'object'} & ObjectInfo & Partial<Pick<ObjectHead, 'metadata' | 'contentType'>>)
  | {kind: 'prefix'; prefix: string}

export interface ListOptions {
  /** Only keys that start with this (relative to the store root). Default '' (everything). */
  prefix?: string
  /** Usually '/': group keys below the next delimiter into one `prefix` entry. */
  delimiter?: string
  /** Resume after this key (exclusive), as S3's StartAfter. */
  startAfter?: string
  /** Keys per request (S3 max 1000). */
  pageSize?: number
  /**
   * Also give each object's metadata and content type where the store has them at hand without a
   * request per object (a FileStore reads them anyway); an entry without them needs a head. S3 has no such listing.
   */
  withMetadata?: boolean
  signal?: AbortSignal
}

export interface Range {
  offset: number
  /** Bytes to read; undefined means to the end. */
  length?: number
}

export interface GetOptions {
  signal?: AbortSignal
  /**
   * Read only this version: when the object's ETag is another (another writer replaced it), the
   * get fails with StoreError PreconditionFailed instead of returning bytes of the new version.
   */
  ifMatch?: string
}

/** The options of a get, which older callers pass as a bare AbortSignal. */
export function getOptionsOf(options: GetOptions | AbortSignal | undefined): GetOptions {
  return options instanceof AbortSignal ? {signal: options} : options ?? {}
}

/**
 * What to put: bytes in memory, a local file (hashed, then streamed), or a stream of unknown length.
 * A file marked `final` is never changed in place again, only deleted or replaced (a staged file or an
 * NBD chunk being uploaded): a FileStore on the same filesystem links it in instead of copying it
 * (other stores read it as usual). Given `sha256` and `md5: false` too, a FileStore takes that
 * digest on trust and reads nothing.
 */
export type PutBody = Buffer | {path: string; final?: boolean} | Readable

export interface PutOptions {
  metadata?: UserMetadata
  contentType?: string
  /** Multipart part size for large bodies; the store picks one when absent. */
  partSize?: number
  /** Parallel part uploads for one large body. */
  queueSize?: number
  /**
   * Already known SHA-256 hex of the whole body: spares a hashing pass over a `{path}` body and the
   * copy that attaches a streamed body's hash; a body that does not hash to it fails with
   * PreconditionFailed and stores nothing.
   */
  sha256?: string
  /**
   * False when the caller has no use for the body's MD5 (zerofs's own objects, such as NBD chunks, and
   * files uploaded from the staging area, whose checksum is the SHA-256): a FileStore then spares that
   * hash and gives the object an ETag that is not an MD5, as a multipart object's is not. S3 stores
   * still send Content-MD5.
   */
  md5?: boolean
  signal?: AbortSignal
  onProgress?: (bytesSent: number) => void
}

export interface PutResult {
  etag: string
  size: number
  /** Hex SHA-256 of the whole content, also stored as `x-amz-meta-sha256`. */
  sha256: string
  /** Set when the object was uploaded in parts (also stored as `x-amz-meta-part-size`). */
  partSize?: number
}

export interface CopyOptions {
  /** Replaces the source's metadata entirely (S3 MetadataDirective REPLACE). */
  metadata: UserMetadata
  contentType?: string
  signal?: AbortSignal
}

export interface CompletedPart {
  partNumber: number
  etag: string
}

export interface MultipartUpload {
  key: string
  uploadId: string
  initiated: Date
}

export interface ObjectStore {
  /** A URL that names this store, e.g. `s3://bucket/prefix` or `file:///srv/data`. */
  readonly url: string

  /** Fails with a clear StoreError if the bucket/directory is missing, credentials are wrong, or the endpoint is down. */
  check(signal?: AbortSignal): Promise<void>

  /** Pages through keys in S3's order (UTF-8 byte order); never holds the whole listing. */
  list(options?: ListOptions): AsyncIterable<ListEntry>

  /** Undefined when the key does not exist. */
  head(key: string, signal?: AbortSignal): Promise<ObjectHead | undefined>

  /**
   * Streams the object's bytes (a range of them, never more than the range even where a server
   * answers with more); throws StoreError NotFound, and PreconditionFailed for `ifMatch` (see GetOptions).
   */
  get(key: string, range?: Range, options?: GetOptions | AbortSignal): Promise<Readable>

  /**
   * Optional, for stores that read a range into memory at once with no stream in between (a local
   * directory): the bytes of a range in one buffer, as `get` would stream them. A store that has it
   * is local, and read-ahead or a block cache in front of it would only copy bytes.
   */
  readRange?(key: string, range: Range): Promise<Buffer>

  /**
   * Writes a whole object atomically: readers see the old or the new object, never a torn one.
   * Computes SHA-256 (stored as `sha256` metadata) and, for single-part puts, sends Content-MD5.
   * Large bodies go multipart; a failed part aborts the upload and rethrows.
   */
  put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult>

  /** Server-side copy, replacing metadata; `source === key` rewrites metadata in place. */
  copy(sourceKey: string, key: string, options: CopyOptions): Promise<void>

  /** Deletes keys in batches; a missing key is not an error. */
  delete(keys: Iterable<string> | AsyncIterable<string>, signal?: AbortSignal): Promise<void>

  // Multipart primitives; each throws StoreError NotSupported where the server lacks the call.
  createMultipartUpload(key: string, options?: {metadata?: UserMetadata; contentType?: string}): Promise<string>
  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, signal?: AbortSignal): Promise<string>
  uploadPartCopy(key: string, uploadId: string, partNumber: number, sourceKey: string, range: Range, signal?: AbortSignal): Promise<string>
  completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<string>
  abortMultipartUpload(key: string, uploadId: string): Promise<void>
  listMultipartUploads(prefix?: string): AsyncIterable<MultipartUpload>

  /** Releases sockets, database handles, timers. */
  close(): Promise<void>
}
