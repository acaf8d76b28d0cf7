import {createHash} from 'node:crypto'
import PQueue from 'p-queue'
import {addRange, gapsIn, intersectsRange, unionRanges} from '../cache/range-set.js'
import type {StagedFile} from '../cache/staging-journal.js'
import type {Logger} from '../logger.js'
import {isStoreError} from '../store/errors.js'
import type {CompletedPart, ObjectStore, UserMetadata} from '../store/object-store.js'
import {getRange} from './ranged-get.js'
import type {StagingFiles} from './staging-files.js'

export interface UploaderOptions {
  /** Objects at least this large that were modified in part upload only the changed parts. */
  partialThreshold: number
  /** Smallest part of such an upload (S3 requires 5 MiB except for the last part). */
  partSize: number
  /** Parts in flight for one upload. */
  partConcurrency: number
}

export const DEFAULT_UPLOADER: UploaderOptions = {partialThreshold: 64 * 1024 * 1024, partSize: 8 * 1024 * 1024, partConcurrency: 4}

const MAX_PARTS = 10_000
const MIB = 1024 * 1024

export interface UploadResult {
  etag: string
  size: number
  sha256: string
}

/**
 * Turns a staged file into an object. Gaps in the staged data are filled from the base object, then
 * the whole file is put. A large object changed only in part is rebuilt with a multipart upload
 * whose unchanged parts are copied server-side (when the store can; s3rver cannot).
 */
export class Uploader {
  private partCopy: 'unknown' | 'supported' | 'unsupported' = 'unknown'

  constructor(
    private readonly store: ObjectStore,
    private readonly files: StagingFiles,
    /** Persists the journal entry after base data was copied in. */
    private readonly save: (staged: StagedFile) => void,
    private readonly logger: Logger,
    private readonly options: UploaderOptions = DEFAULT_UPLOADER,
  ) {}

  /** `sha256`, when the caller knows it, spares the store hashing the file before a multipart upload. */
  async upload(staged: StagedFile, key: string, metadata: UserMetadata, sha256?: string): Promise<UploadResult> {
    if (this.partCopy !== 'unsupported' && this.worthCopying(staged)) {
      try {
        return await this.uploadChangedParts(staged, key, metadata)
      } catch (error) {
        if (!isStoreError(error, 'NotSupported')) throw error
        this.partCopy = 'unsupported'
        this.logger.info('the store cannot copy parts server-side; large files are uploaded whole', {key})
      }
    }
    await this.fill(staged, 0, staged.size)
    await this.files.truncate(staged.ino, staged.size)
    // No MD5: a FileStore would hash the file twice for an ETag nothing reads as a checksum (S3 stores send Content-MD5 anyway).
    // Final: nothing writes a staged file while it is uploaded (the inode's mutex); after, it is deleted, and a write that
    // comes first (a crash in between) gets a copy of its own (StagingFiles).
    let result
    try {
      result = await this.store.put(key, {path: this.files.path(staged.ino), final: true}, {metadata, md5: false, sha256})
    } finally {
      // The store may now share the file (even if the put failed late): the next write reopens it, and gets its own copy.
      await this.files.close(staged.ino)
    }
    return {etag: result.etag, size: result.size, sha256: result.sha256}
  }

  /** Copies the base object's bytes into the staging file wherever `[start, end)` has no local data. */
  async fill(staged: StagedFile, start: number, end: number): Promise<StagedFile> {
    if (!staged.base) return staged
    const local = unionRanges(staged.written, staged.fetched)
    const gaps = gapsIn(local, start, Math.min(end, staged.baseLimit))
    if (gaps.length === 0) return staged
    let fetched = staged.fetched
    for (const [gapStart, gapEnd] of gaps) {
      let position = gapStart
      for await (const buffer of getRange(this.store, staged.base.key, gapStart, gapEnd - gapStart, staged.base.etag)) {
        await this.files.write(staged.ino, position, buffer)
        position += buffer.length
      }
      fetched = addRange(fetched, gapStart, gapEnd)
    }
    const updated = {...staged, fetched}
    this.save(updated)
    return updated
  }

  private worthCopying(staged: StagedFile): boolean {
    return staged.base !== undefined && staged.size >= this.options.partialThreshold && staged.baseLimit >= this.options.partialThreshold
  }

  private partSize(size: number): number {
    const needed = Math.ceil(size / MAX_PARTS / MIB) * MIB
    return Math.max(this.options.partSize, needed)
  }

  private async uploadChangedParts(staged: StagedFile, key: string, metadata: UserMetadata): Promise<UploadResult> {
    const base = staged.base!
    const partSize = this.partSize(staged.size)
    const parts: Array<{number: number; start: number; end: number; copy: boolean}> = []
    for (let start = 0, number = 1; start < staged.size; start += partSize, number++) {
      const end = Math.min(start + partSize, staged.size)
      const copy = end <= staged.baseLimit && !intersectsRange(staged.written, start, end)
      parts.push({number, start, end, copy})
    }
    if (!parts.some((part) => part.copy)) throw new Error('unreachable: nothing to copy')

    // The whole-content hash comes first: it is metadata, and metadata is set when the upload starts.
    let current = staged
    const hash = createHash('sha256')
    for (const part of parts) {
      if (part.copy) {
        for await (const chunk of getRange(this.store, base.key, part.start, part.end - part.start, base.etag)) hash.update(chunk)
      } else {
        current = await this.fill(current, part.start, part.end)
        hash.update(await this.files.read(staged.ino, part.start, part.end - part.start))
      }
    }
    const sha256 = hash.digest('hex')

    const uploadId = await this.store.createMultipartUpload(key, {metadata: {...metadata, sha256, 'part-size': String(partSize)}})
    const queue = new PQueue({concurrency: this.options.partConcurrency})
    try {
      const completed: CompletedPart[] = await Promise.all(parts.map((part) => queue.add(async (): Promise<CompletedPart> => {
        const etag = part.copy
          ? await this.store.uploadPartCopy(key, uploadId, part.number, base.key, {offset: part.start, length: part.end - part.start})
          : await this.store.uploadPart(key, uploadId, part.number, await this.files.read(staged.ino, part.start, part.end - part.start))
        return {partNumber: part.number, etag}
      })))
      this.partCopy = 'supported'
      const etag = await this.store.completeMultipartUpload(key, uploadId, completed)
      this.logger.debug('uploaded changed parts', {key, parts: parts.length, copied: parts.filter((part) => part.copy).length})
      return {etag, size: staged.size, sha256}
    } catch (error) {
      queue.clear()
      await queue.onIdle().catch(() => undefined)
      await this.store.abortMultipartUpload(key, uploadId).catch(() => undefined)
      throw error
    }
  }
}
