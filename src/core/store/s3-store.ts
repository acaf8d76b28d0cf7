import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import {PassThrough, Readable, pipeline} from 'node:stream'

import type {S3Client, ServerSideEncryption} from '@aws-sdk/client-s3'

import {clientS3, libStorage} from './aws-sdk.js'
import {relayStream} from '../relay-stream.js'
import {signPayloadSha256} from './content-md5-middleware.js'
import {base64ToHex, DigestingStream, FILE_PIECE, sha256File, type ExpectedContent} from './digest.js'
import {requestBodyDigests} from './digest-thread.js'
import {StoreError} from './errors.js'
import {compareKeys} from './key-order.js'
import {
  getOptionsOf,
  type CompletedPart, type CopyOptions, type GetOptions, type ListEntry, type ListOptions, type MultipartUpload, type ObjectHead,
  type ObjectStore, type PutBody, type PutOptions, type PutResult, type Range, type UserMetadata,
} from './object-store.js'
import {choosePartSize} from './part-size.js'
import {SHORT_CALL_TIMEOUT_MS, connectS3, type S3ClientOptions, type S3Connection} from './s3-client.js'
import {S3Direct} from './s3-direct.js'
import {httpStatusOf, toStoreError} from './s3-errors.js'
import {storeUrl} from './store-location.js'

export type S3StoreOptions = S3ClientOptions

const {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} = clientS3

/** How much of a GET's body is buffered ahead of its reader (fewer pauses of the socket than Node's 16 KiB). */
const BODY_BUFFER_BYTES = 1024 * 1024

/** Metadata names the store itself maintains on every object it writes. */
const SHA256 = 'sha256'
const PART_SIZE = 'part-size'

/** S3 deletes at most this many keys per DeleteObjects call. */
const DELETE_BATCH = 1000

/** How many failed keys a delete error names. */
const FAILED_KEYS_SHOWN = 3

/**
 * An ObjectStore on an S3 bucket, optionally below a prefix: a key `a/b` of a store on
 * `s3://bucket/p` is the object `p/a/b`. Keys are S3 keys (any string), except that one whose
 * `..` components climb above the store root is refused, because servers that normalise paths
 * (s3rver does) would resolve it outside the prefix.
 */
export class S3Store implements ObjectStore {
  readonly url: string
  private readonly client: S3Client
  private readonly endpoint: string
  /** HEADs and listings after the first go beside the SDK's middleware (see S3Direct): long listings make thousands. */
  private readonly direct: S3Direct
  /** '' at the bucket root, else the prefix and a '/'. */
  private readonly keyPrefix: string

  /** Connects with the SDK's configuration plus `options` (see S3ClientOptions) and opens the store. */
  static async open(bucket: string, prefix = '', options: S3StoreOptions = {}): Promise<S3Store> {
    return new S3Store(bucket, prefix, await connectS3(options))
  }

  constructor(readonly bucket: string, prefix: string, connection: S3Connection) {
    const trimmed = prefix.replace(/\/+$/, '')
    this.keyPrefix = trimmed === '' ? '' : `${trimmed}/`
    this.url = storeUrl({kind: 's3', bucket, prefix: trimmed})
    this.client = connection.client
    this.endpoint = connection.endpoint
    this.direct = new S3Direct(connection.client, connection.requestHandler, bucket, SHORT_CALL_TIMEOUT_MS)
  }

  async check(signal?: AbortSignal): Promise<void> {
    // A one-key listing of the store's prefix: the permission HeadBucket needs (s3:ListBucket), also
    // where a policy grants it for this prefix only, an answer that names its error, and on servers
    // that answer HeadBucket with a listing of their own (s3rver), a fraction of its cost.
    await this.call('ListObjectsV2', undefined, () =>
      this.client.send(new ListObjectsV2Command({Bucket: this.bucket, Prefix: this.keyPrefix || undefined, MaxKeys: 1}), this.shortCall(signal)))
  }

  async *list(options: ListOptions = {}): AsyncIterable<ListEntry> {
    const prefix = options.prefix ?? ''
    this.assertInside(prefix)
    const fetchPage = (continuationToken: string | undefined): Promise<ListPage> => {
      const input = {
        Prefix: this.keyPrefix + prefix,
        Delimiter: options.delimiter || undefined,
        StartAfter: options.startAfter ? this.keyPrefix + options.startAfter : undefined,
        MaxKeys: options.pageSize,
        ContinuationToken: continuationToken,
      }
      const page = this.call<ListPage>('ListObjectsV2', undefined, () => this.direct.ready
        ? this.direct.listObjects(input, options.signal)
        // Keys may hold characters XML 1.0 cannot carry; a server that honours this says so in the answer.
        : this.client.send(new ListObjectsV2Command({...input, Bucket: this.bucket, EncodingType: 'url'}), this.shortCall(options.signal)))
      page.catch(() => undefined) // awaited below; until then a failure must not count as unhandled
      return page
    }
    // S3 never repeats an entry on the next page; s3rver repeats the common prefixes that end a page.
    let previousPage = new Set<string>()
    let next: Promise<ListPage> | undefined = fetchPage(undefined)
    while (next !== undefined) {
      const page: ListPage = await next
      if (page.IsTruncated && !page.NextContinuationToken) {
        throw new StoreError('Failed', `ListObjectsV2 of ${this.url} at ${this.endpoint}: a truncated page without a continuation token`)
      }
      // The next page is asked for before this one is handed out, so the caller's work on it overlaps
      // the server's on the next: two pages at most are held.
      next = page.IsTruncated ? fetchPage(page.NextContinuationToken) : undefined
      const decode = page.EncodingType === 'url' ? decodeListedKey : (key: string) => key
      const entries: ListEntry[] = []
      for (const object of page.Contents ?? []) {
        const key = this.relative(decode(object.Key ?? ''))
        if (key === undefined || key === '') continue // '' is the marker of the store's root, not an object in it
        entries.push({
          kind: 'object',
          key,
          size: object.Size ?? 0,
          etag: unquote(object.ETag),
          lastModified: object.LastModified ?? new Date(0),
        })
      }
      for (const common of page.CommonPrefixes ?? []) {
        const commonPrefix = this.relative(decode(common.Prefix ?? ''))
        if (commonPrefix !== undefined && commonPrefix !== '') entries.push({kind: 'prefix', prefix: commonPrefix})
      }
      // Each part of a page is sorted; together they are not.
      entries.sort((a, b) => compareKeys(entryKey(a), entryKey(b)))
      const fresh = entries.filter((entry) => !previousPage.has(entryKey(entry)))
      previousPage = new Set(entries.map(entryKey))
      yield* fresh
    }
  }

  async head(key: string, signal?: AbortSignal): Promise<ObjectHead | undefined> {
    const fullKey = this.fullKey(key)
    try {
      const head = this.direct.ready
        ? await this.direct.head(fullKey, signal)
        : await this.client.send(new HeadObjectCommand({Bucket: this.bucket, Key: fullKey}), this.shortCall(signal))
      return {
        key,
        size: head.ContentLength ?? 0,
        etag: unquote(head.ETag),
        lastModified: head.LastModified ?? new Date(0),
        contentType: head.ContentType,
        metadata: head.Metadata ?? {},
      }
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined
      throw this.failure(error, 'HeadObject', key)
    }
  }

  /**
   * A range that starts at or past the end reads nothing (S3 answers 416; this gives an empty
   * stream, as the FileStore does). A failure while the stream flows is a StoreError too.
   */
  async get(key: string, range?: Range, options?: GetOptions | AbortSignal): Promise<Readable> {
    const {signal, ifMatch} = getOptionsOf(options)
    const fullKey = this.fullKey(key)
    if (range?.length === 0) {
      const head = await this.head(key, signal)
      if (head === undefined) throw this.failure(notFound(), 'GetObject', key)
      if (ifMatch !== undefined && head.etag !== ifMatch) throw this.changedError(key, ifMatch, head.etag)
      return emptyStream()
    }
    const input = {Range: rangeHeader(range), IfMatch: ifMatch === undefined ? undefined : `"${ifMatch}"`}
    let output
    try {
      // A GET of a whole object stays with the SDK, which may check the object's checksum (with
      // --checksum-mode when-supported, AWS's default); S3 sends none for a range.
      output = this.direct.ready && input.Range !== undefined
        ? await this.direct.getObject(fullKey, input, signal)
        : await this.client.send(new GetObjectCommand({...input, Bucket: this.bucket, Key: fullKey}), this.shortCall(signal))
    } catch (error) {
      if (httpStatusOf(error) === 416) return emptyStream()
      throw this.failure(error, 'GetObject', key)
    }
    if (!(output.Body instanceof Readable)) throw this.failure(new Error('GetObject answered without a body stream'), 'GetObject', key)
    // A server that ignores If-Match (s3rver does) still names the version it answers with.
    const etag = unquote(output.ETag)
    if (ifMatch !== undefined && etag !== ifMatch) {
      output.Body.destroy()
      throw this.changedError(key, ifMatch, etag)
    }
    return this.guardBody(output.Body, key, range?.length)
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    this.fullKey(key)
    try {
      if (Buffer.isBuffer(body)) return await this.putBuffer(key, body, options)
      if (body instanceof Readable) return await this.putStream(key, body, options)
      return await this.putFile(key, body.path, options)
    } catch (error) {
      // A local failure (a missing file, a body stream that errors) becomes a StoreError too, its cause kept.
      throw this.failure(error, 'PutObject', key)
    }
  }

  /**
   * Without `contentType` the copy gets the server's default type (REPLACE semantics). CopyObject
   * takes sources up to 5 GiB on AWS; larger ones would need UploadPartCopy (not done yet).
   */
  async copy(sourceKey: string, key: string, options: CopyOptions): Promise<void> {
    await this.copyObject(sourceKey, key, options.metadata, options.contentType, options.signal)
  }

  async delete(keys: Iterable<string> | AsyncIterable<string>, signal?: AbortSignal): Promise<void> {
    const failures: DeleteFailure[] = []
    let batch: string[] = []
    for await (const key of keys) {
      this.fullKey(key)
      batch.push(key)
      if (batch.length === DELETE_BATCH) {
        failures.push(...await this.deleteBatch(batch, signal))
        batch = []
      }
    }
    if (batch.length > 0) failures.push(...await this.deleteBatch(batch, signal))
    if (failures.length > 0) throw this.deleteError(failures)
  }

  async createMultipartUpload(key: string, options: {metadata?: UserMetadata; contentType?: string} = {}): Promise<string> {
    const output = await this.call('CreateMultipartUpload', key, () => this.client.send(new CreateMultipartUploadCommand({
      Bucket: this.bucket,
      Key: this.fullKey(key),
      Metadata: options.metadata,
      ContentType: options.contentType,
    }), this.shortCall()))
    if (!output.UploadId) throw new StoreError('Failed', `CreateMultipartUpload of "${key}" in ${this.url} returned no upload id`, {key})
    return output.UploadId
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, signal?: AbortSignal): Promise<string> {
    const digests = await requestBodyDigests(body)
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: this.fullKey(key),
      UploadId: uploadId,
      PartNumber: partNumber,
      Body: body,
      ContentLength: body.length,
      ContentMD5: digests.md5Base64,
    })
    signPayloadSha256(command, digests.sha256Hex)
    const output = await this.call('UploadPart', key, () => this.client.send(command, {abortSignal: signal}))
    const etag = unquote(output.ETag)
    this.verifyEtag(key, etag, base64ToHex(digests.md5Base64), output)
    return etag
  }

  async uploadPartCopy(key: string, uploadId: string, partNumber: number, sourceKey: string, range: Range, signal?: AbortSignal): Promise<string> {
    const output = await this.call('UploadPartCopy', key, () => this.client.send(new UploadPartCopyCommand({
      Bucket: this.bucket,
      Key: this.fullKey(key),
      UploadId: uploadId,
      PartNumber: partNumber,
      CopySource: this.copySource(sourceKey),
      CopySourceRange: rangeHeader(range),
    }), {abortSignal: signal}))
    return unquote(output.CopyPartResult?.ETag)
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<string> {
    const output = await this.call('CompleteMultipartUpload', key, () => this.client.send(new CompleteMultipartUploadCommand({
      Bucket: this.bucket,
      Key: this.fullKey(key),
      UploadId: uploadId,
      MultipartUpload: {Parts: parts.map((part) => ({PartNumber: part.partNumber, ETag: `"${part.etag}"`}))},
    })))
    return unquote(output.ETag)
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    await this.call('AbortMultipartUpload', key, () => this.client.send(new AbortMultipartUploadCommand({
      Bucket: this.bucket,
      Key: this.fullKey(key),
      UploadId: uploadId,
    }), this.shortCall()))
  }

  async *listMultipartUploads(prefix = ''): AsyncIterable<MultipartUpload> {
    this.assertInside(prefix)
    let keyMarker: string | undefined
    let uploadIdMarker: string | undefined
    for (;;) {
      const page = await this.call('ListMultipartUploads', undefined, () => this.client.send(new ListMultipartUploadsCommand({
        Bucket: this.bucket,
        Prefix: this.keyPrefix + prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
        EncodingType: 'url',
      }), this.shortCall()))
      const decode = page.EncodingType === 'url' ? decodeListedKey : (key: string) => key
      for (const upload of page.Uploads ?? []) {
        const key = this.relative(decode(upload.Key ?? ''))
        if (key === undefined || key === '' || !upload.UploadId) continue
        yield {key, uploadId: upload.UploadId, initiated: upload.Initiated ?? new Date(0)}
      }
      if (!page.IsTruncated) return
      keyMarker = page.NextKeyMarker === undefined ? undefined : decode(page.NextKeyMarker)
      uploadIdMarker = page.NextUploadIdMarker
      if (keyMarker === undefined) {
        throw new StoreError('Failed', `ListMultipartUploads of ${this.url} at ${this.endpoint}: a truncated page without a key marker`)
      }
    }
  }

  async close(): Promise<void> {
    this.client.destroy()
  }

  // ---- put ----

  private async putBuffer(key: string, body: Buffer, options: PutOptions): Promise<PutResult> {
    // One pass gives the Content-MD5, the SHA-256 kept as metadata and the one SigV4 signs.
    const {md5Base64, sha256Hex} = await requestBodyDigests(body)
    if (options.sha256 !== undefined && options.sha256 !== sha256Hex) {
      throw new StoreError('PreconditionFailed', `the body for "${key}" does not match its expected SHA-256 ${options.sha256}`, {key})
    }
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.fullKey(key),
      Body: body,
      ContentLength: body.length,
      ContentMD5: md5Base64,
      ContentType: options.contentType,
      Metadata: {...withoutStoreMetadata(options.metadata), [SHA256]: sha256Hex},
    })
    signPayloadSha256(command, sha256Hex)
    const output = await this.call('PutObject', key, () => this.client.send(command, {abortSignal: options.signal}))
    const etag = unquote(output.ETag)
    this.verifyEtag(key, etag, base64ToHex(md5Base64), output)
    options.onProgress?.(body.length)
    return {etag, size: body.length, sha256: sha256Hex}
  }

  /**
   * A body of one part or less goes as one PutObject; a larger one is hashed first (unless its
   * SHA-256 is given), so that the hash travels as metadata of the multipart upload, and is
   * hashed again while it streams: if the file changed in between, the upload fails before completing.
   */
  private async putFile(key: string, path: string, options: PutOptions): Promise<PutResult> {
    const {size} = await stat(path)
    const partSize = choosePartSize(size, options.partSize)
    if (size <= partSize) return this.putStream(key, createReadStream(path, {highWaterMark: FILE_PIECE}), {...options, partSize})
    const sha256 = options.sha256 ?? await sha256File(path, options.signal)
    const metadata = {...withoutStoreMetadata(options.metadata), [SHA256]: sha256, [PART_SIZE]: String(partSize)}
    const body = digesting(createReadStream(path, {highWaterMark: FILE_PIECE}), {size, sha256, what: `"${path}"`})
    const etag = await this.uploadInParts(key, body, {...options, partSize, metadata, size})
    return {etag, size, sha256, partSize}
  }

  /** Buffers up to one part: a body that ends within it goes as one PutObject, a longer one in parts. */
  private async putStream(key: string, source: Readable, options: PutOptions): Promise<PutResult> {
    const partSize = choosePartSize(undefined, options.partSize)
    const signal = options.signal
    const onAbort = (): void => {
      source.destroy(abortedError(key))
    }
    signal?.addEventListener('abort', onAbort, {once: true})
    try {
      if (signal?.aborted) onAbort()
      const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>
      const first = await readAtLeast(chunks, partSize + 1)
      if (first.ended) return await this.putBuffer(key, Buffer.concat(first.buffers), options)

      const expected = options.sha256 === undefined ? undefined : {sha256: options.sha256, what: `the body for "${key}"`}
      const body = digesting(Readable.from(continueWith(first.buffers, chunks), {objectMode: false}), expected)
      const metadata = {...withoutStoreMetadata(options.metadata), [PART_SIZE]: String(partSize)}
      if (options.sha256 !== undefined) {
        // A known hash travels with the upload; a body that does not match fails before it completes.
        const etag = await this.uploadInParts(key, body, {...options, partSize, metadata: {...metadata, [SHA256]: options.sha256}})
        return {etag, size: body.bytesPassed, sha256: options.sha256, partSize}
      }
      await this.uploadInParts(key, body, {...options, partSize, metadata})
      // S3 takes an object's metadata when its upload starts, before the content (and so its hash)
      // is known: a copy onto itself with the metadata replaced is the one way to attach the hash
      // without uploading the bytes again. (CopyObject takes sources up to 5 GiB on AWS.)
      const etag = await this.copyObject(key, key, {...metadata, [SHA256]: body.sha256}, options.contentType, signal)
      return {etag, size: body.bytesPassed, sha256: body.sha256, partSize}
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * A multipart upload through lib-storage (parallel parts from one stream, bounded memory). It is
   * told to leave parts on error because its own abort would replace the failure with the abort's
   * error where the server lacks AbortMultipartUpload (s3rver); this aborts where it can and
   * rethrows the failure itself. An abort signal fails the body stream, so the upload stops
   * pulling parts and settles only once no part is in flight.
   */
  private async uploadInParts(
    key: string,
    body: Readable,
    options: PutOptions & {partSize: number; metadata: UserMetadata; size?: number},
  ): Promise<string> {
    const fullKey = this.fullKey(key)
    // Loaded on the first multipart upload: commands that only read never need it.
    const {Upload} = libStorage()
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: fullKey,
        Body: body,
        ContentType: options.contentType,
        Metadata: options.metadata,
        ...(options.size === undefined ? {} : {ContentLength: options.size}),
      },
      partSize: options.partSize,
      queueSize: options.queueSize,
      leavePartsOnError: true,
    })
    const onProgress = options.onProgress
    if (onProgress !== undefined) upload.on('httpUploadProgress', (progress) => onProgress(progress.loaded ?? 0))
    const signal = options.signal
    const onAbort = (): void => {
      body.destroy(abortedError(key))
    }
    signal?.addEventListener('abort', onAbort, {once: true})
    try {
      if (signal?.aborted) onAbort()
      const output = await upload.done()
      return unquote(output.ETag)
    } catch (error) {
      if (upload.uploadId !== undefined) await this.abortQuietly(key, upload.uploadId)
      throw this.failure(error, 'multipart upload', key)
    } finally {
      signal?.removeEventListener('abort', onAbort)
      body.destroy()
    }
  }

  /** Best effort: the failure that led here is what the caller must see, not a failed abort. */
  private async abortQuietly(key: string, uploadId: string): Promise<void> {
    try {
      await this.abortMultipartUpload(key, uploadId)
    } catch {
      // NotSupported (s3rver) or the server is gone: the parts stay until a lifecycle rule or fsck removes them.
    }
  }

  /**
   * A server that returns a plain MD5 as ETag must return the MD5 of what was sent; anything else
   * means the bytes were changed in flight. Encrypted objects (SSE-KMS, SSE-C) have other ETags.
   */
  private verifyEtag(key: string, etag: string, md5: string, output: {ServerSideEncryption?: ServerSideEncryption; SSECustomerAlgorithm?: string}): void {
    const encrypted = output.SSECustomerAlgorithm !== undefined || (output.ServerSideEncryption ?? 'AES256') !== 'AES256'
    if (encrypted || !/^[0-9a-f]{32}$/i.test(etag) || etag.toLowerCase() === md5) return
    throw new StoreError('Failed',
      `"${key}" in ${this.url} was stored with ETag ${etag} but the MD5 of the bytes sent is ${md5}: corrupted in flight`, {key})
  }

  // ---- copy and delete ----

  private async copyObject(sourceKey: string, key: string, metadata: UserMetadata, contentType: string | undefined, signal?: AbortSignal): Promise<string> {
    const output = await this.call('CopyObject', sourceKey, () => this.client.send(new CopyObjectCommand({
      Bucket: this.bucket,
      Key: this.fullKey(key),
      CopySource: this.copySource(sourceKey),
      MetadataDirective: 'REPLACE',
      Metadata: metadata,
      ContentType: contentType,
    }), {abortSignal: signal}))
    return unquote(output.CopyObjectResult?.ETag)
  }

  /**
   * `bucket/key`, URL-encoded per path segment as S3 decodes it. The characters RFC 3986 allows in a
   * path segment stay as they are; `+` is encoded, since some servers would read it as a space.
   */
  private copySource(sourceKey: string): string {
    const path = `${this.bucket}/${this.fullKey(sourceKey)}`
    return path.split('/').map((segment) =>
      encodeURIComponent(segment).replace(/%(24|26|2C|3A|3B|3D|40)/g, (escaped) => decodeURIComponent(escaped))).join('/')
  }

  private async deleteBatch(keys: string[], signal?: AbortSignal): Promise<DeleteFailure[]> {
    const output = await this.call('DeleteObjects', undefined, () => this.client.send(new DeleteObjectsCommand({
      Bucket: this.bucket,
      Delete: {Objects: keys.map((key) => ({Key: this.fullKey(key)})), Quiet: true},
    }), this.shortCall(signal)))
    return (output.Errors ?? []).map((error) => ({
      key: this.relative(error.Key ?? '') ?? error.Key ?? '',
      code: error.Code ?? 'UnknownError',
      message: error.Message ?? '',
    }))
  }

  private deleteError(failures: DeleteFailure[]): StoreError {
    const shown = failures.slice(0, FAILED_KEYS_SHOWN).map((failure) => `"${failure.key}" (${failure.code})`).join(', ')
    const more = failures.length > FAILED_KEYS_SHOWN ? ` and ${failures.length - FAILED_KEYS_SHOWN} more` : ''
    const code = failures.every((failure) => failure.code === 'AccessDenied') ? 'AccessDenied' : 'Failed'
    return new StoreError(code, `could not delete ${failures.length} key(s) from ${this.url} at ${this.endpoint}: ${shown}${more}`,
      {key: failures[0].key})
  }

  // ---- keys, calls and errors ----

  /** The bucket key of a store key, refusing keys that cannot be objects inside the store. */
  private fullKey(key: string): string {
    if (key === '') throw new StoreError('InvalidKey', `an empty key names no object in ${this.url}`, {key})
    this.assertInside(key)
    return this.keyPrefix + key
  }

  private assertInside(key: string): void {
    let depth = 0
    for (const component of key.split('/')) {
      if (component === '..') depth -= 1
      else if (component !== '' && component !== '.') depth += 1
      if (depth < 0) throw new StoreError('InvalidKey', `key "${key}" would climb out of ${this.url}`, {key})
    }
  }

  /** The store key of a bucket key, or undefined for a key outside the store's prefix. */
  private relative(bucketKey: string): string | undefined {
    return bucketKey.startsWith(this.keyPrefix) ? bucketKey.slice(this.keyPrefix.length) : undefined
  }

  private shortCall(signal?: AbortSignal): {abortSignal?: AbortSignal; requestTimeout: number} {
    return {abortSignal: signal, requestTimeout: SHORT_CALL_TIMEOUT_MS}
  }

  private async call<T>(operation: string, key: string | undefined, send: () => Promise<T>): Promise<T> {
    try {
      return await send()
    } catch (error) {
      throw this.failure(error, operation, key)
    }
  }

  private failure(error: unknown, operation: string, key: string | undefined): StoreError {
    return toStoreError(error, {operation, key, bucket: this.bucket, storeUrl: this.url, endpoint: this.endpoint})
  }

  /**
   * Hands out a GET's body: at most `limit` bytes (the one place that holds servers to the range
   * asked for; s3rver answers `bytes=0-0` with the whole object), failing with a StoreError, and
   * freeing the socket if the reader abandons it.
   */
  private guardBody(body: Readable, key: string, limit?: number): Readable {
    return relayStream(body, {limit, highWaterMark: BODY_BUFFER_BYTES, mapError: (error) => this.failure(error, 'GetObject', key)})
  }

  /** The object is not the version a reader asked for (If-Match): another writer replaced it. */
  private changedError(key: string, expected: string, actual: string): StoreError {
    return new StoreError('PreconditionFailed', `"${key}" in ${this.url} changed: its ETag is ${actual || 'unknown'}, not ${expected}`, {key})
  }
}

/** What the listing reads of a ListObjectsV2 answer, from the SDK or from S3Direct. */
interface ListPage {
  Contents?: Array<{Key?: string; Size?: number; ETag?: string; LastModified?: Date}>
  CommonPrefixes?: Array<{Prefix?: string}>
  IsTruncated?: boolean
  NextContinuationToken?: string
  EncodingType?: string
}

interface DeleteFailure {
  key: string
  code: string
  message: string
}

/** `bytes=a-b` for a range other than the whole object, as the Range and CopySourceRange headers take it. */
function rangeHeader(range: Range | undefined): string | undefined {
  if (range === undefined || (range.offset === 0 && range.length === undefined)) return undefined
  if (!Number.isSafeInteger(range.offset) || range.offset < 0 || (range.length !== undefined && (!Number.isSafeInteger(range.length) || range.length < 0))) {
    throw new StoreError('Failed', `invalid range offset ${range.offset} length ${range.length}`)
  }
  return range.length === undefined ? `bytes=${range.offset}-` : `bytes=${range.offset}-${range.offset + range.length - 1}`
}

/** ETags arrive quoted. */
function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"(.*)"$/, '$1')
}

/** A key from a listing asked for with encoding-type=url: percent-encoded, a space as '+'. */
function decodeListedKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '))
}

function entryKey(entry: ListEntry): string {
  return entry.kind === 'object' ? entry.key : entry.prefix
}

function notFound(): Error {
  return Object.assign(new Error('not found'), {name: 'NotFound', $metadata: {httpStatusCode: 404}})
}

/** The caller's metadata without the names the store computes itself. */
function withoutStoreMetadata(metadata: UserMetadata | undefined): UserMetadata {
  const {[SHA256]: _sha256, [PART_SIZE]: _partSize, ...rest} = metadata ?? {}
  return rest
}

/** `source` passed through a DigestingStream, which errors when the source does. */
function digesting(source: Readable, expected?: ExpectedContent): DigestingStream {
  const digest = new DigestingStream(expected)
  pipeline(source, digest, () => {})
  return digest
}

function emptyStream(): Readable {
  return new PassThrough().end()
}

function abortedError(key: string): StoreError {
  return new StoreError('Aborted', `the upload of "${key}" was aborted`, {key})
}

/** Reads chunks until `limit` bytes are held or the stream ends. */
async function readAtLeast(chunks: AsyncIterator<Buffer | string>, limit: number): Promise<{buffers: Buffer[]; ended: boolean}> {
  const buffers: Buffer[] = []
  let held = 0
  while (held < limit) {
    const next = await chunks.next()
    if (next.done) return {buffers, ended: true}
    const buffer = typeof next.value === 'string' ? Buffer.from(next.value) : next.value
    buffers.push(buffer)
    held += buffer.length
  }
  return {buffers, ended: false}
}

/** The chunks already read, then the rest of the iterator; stopping early ends the iterator (and destroys its stream). */
async function* continueWith(buffers: Buffer[], rest: AsyncIterator<Buffer | string>): AsyncGenerator<Buffer> {
  let finished = false
  try {
    yield* buffers
    for (let next = await rest.next(); !next.done; next = await rest.next()) {
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value
    }
    finished = true
  } finally {
    if (!finished) await rest.return?.()
  }
}

