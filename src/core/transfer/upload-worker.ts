import {constants, createReadStream} from 'node:fs'
import {type FileHandle, lstat, open, readlink} from 'node:fs/promises'
import {pipeline, type Readable} from 'node:stream'

import {DIRECTORY_CONTENT_TYPE, markerKey} from '../layout/keys.js'
import {formatAttributes} from '../layout/metadata.js'
import {isStoreError} from '../store/errors.js'
import type {ObjectHead, ObjectStore, PutBody, PutOptions, PutResult, UserMetadata} from '../store/object-store.js'
import {contentReference, digestStream, expectedDigest} from './content.js'
import {compareDescriptions, describeLocal, describeObject, localAttributes, sameMtime} from './description.js'
import {EntryFailure, errnoOf} from './errors.js'
import type {InflightUploads} from './inflight-uploads.js'
import {journalRecord, matchesStats} from './journal.js'
import {localStats} from './local-tree.js'
import {ItemBytes, type RunContext} from './run-context.js'
import {displayPath, type LocalEntry, type LocalStats} from './tree-entry.js'
import type {UploadDetail} from './upload-plan.js'
import type {WorkItem} from './work-list.js'

/** Parts of one multipart upload in flight (each buffered in memory). */
const PARTS_IN_FLIGHT = 4

/**
 * Carries out the `put` and `check` items of an upload plan: files (single PUT with Content-MD5,
 * or multipart above the part size, SHA-256 in the metadata either way), symlinks as objects
 * holding their target, directories as markers, each with the s3fs attributes `serve` writes.
 * A file is done only when the store confirmed its size and checksum and the file did not change
 * while it was read; one that did is read again once, then reported.
 */
export class UploadWorker {
  constructor(
    private readonly store: ObjectStore,
    private readonly context: RunContext,
    private readonly uploads: InflightUploads,
  ) {}

  /** Runs one item; a failure is thrown (the run notes it for the entry, or stops when it is fatal). */
  async run(item: WorkItem<UploadDetail>): Promise<void> {
    const entry = item.detail.local!
    const bytes = new ItemBytes(this.context.progress)
    try {
      if (item.action === 'check' && await this.isComplete(entry, item.detail)) return
      await this.put(entry, bytes)
    } catch (error) {
      bytes.undo()
      throw error
    }
  }

  private async put(entry: LocalEntry, bytes: ItemBytes): Promise<void> {
    if (entry.stats.type === 'file' && !this.context.dryRun) return this.putFile(entry, bytes)
    const stats = await this.freshStats(entry)
    if (this.context.dryRun) {
      this.context.notes.add('would-copy', displayPath(entry), stats.type === 'file' ? `${stats.size} bytes` : stats.type)
      this.countCopied(stats)
      bytes.complete(stats.type === 'file' ? stats.size : 0)
      return
    }
    if (stats.type === 'dir') await this.putMarker(entry, stats)
    else await this.putSymlink(entry, stats)
  }

  private async putMarker(entry: LocalEntry, stats: LocalStats): Promise<void> {
    const result = await this.store.put(markerKey(entry.path), Buffer.alloc(0), {
      metadata: formatAttributes(localAttributes(stats)),
      contentType: DIRECTORY_CONTENT_TYPE,
      signal: this.context.signal,
    })
    this.context.journal.record(entry.key, journalRecord(stats, result.etag, result.sha256))
    this.countCopied(stats)
  }

  /** The target's bytes as they are on disk (a target need not be UTF-8). */
  private async putSymlink(entry: LocalEntry, stats: LocalStats): Promise<void> {
    const target = await readlink(entry.absolute, {encoding: 'buffer'})
    const result = await this.store.put(entry.key, target, {metadata: formatAttributes(localAttributes(stats)), signal: this.context.signal})
    this.context.journal.record(entry.key, journalRecord(stats, result.etag, result.sha256))
    this.countCopied(stats)
  }

  /** Counts as copied only once the store confirmed size and checksum of bytes that did not change while read. */
  private async putFile(entry: LocalEntry, bytes: ItemBytes): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const uploaded = await this.uploadFile(entry, bytes)
      if (uploaded !== undefined) {
        bytes.complete(uploaded.stats.size)
        this.context.journal.record(entry.key, journalRecord(uploaded.stats, uploaded.result.etag, uploaded.result.sha256))
        this.countCopied(uploaded.stats)
        return
      }
      bytes.undo()
      if (attempt === 2) throw new EntryFailure('the file changed while it was read (read twice); not copied')
      this.context.logger.debug('file changed while it was read; reading it again', {path: entry.path})
    }
  }

  /**
   * Uploads the file with the attributes it had when its reading began; undefined when it changed
   * while it was read. A file of one part is read whole through one open file (its stat before and
   * after the read must agree) and sent as one PUT of exactly those bytes; a larger one is streamed
   * by the store in parts and checked against a stat taken after.
   */
  private async uploadFile(entry: LocalEntry, bytes: ItemBytes): Promise<{stats: LocalStats; result: PutResult} | undefined> {
    const handle = await this.openFile(entry)
    let stats: LocalStats
    try {
      stats = localStats(await handle.stat({bigint: true}))
      if (stats.type !== 'file') throw new EntryFailure(`it became a ${stats.type} during the run`)
      if (stats.size <= this.context.partSize) {
        const release = await this.context.memory.reserve(stats.size)
        try {
          const content = await handle.readFile()
          if (content.length !== stats.size || !sameState(stats, localStats(await handle.stat({bigint: true})))) return undefined
          await this.context.limiter?.take(content.length)
          const result = await this.store.put(entry.key, content, {
            metadata: formatAttributes(localAttributes(stats)),
            signal: this.context.signal,
            onProgress: bytes.onProgress,
          })
          return {stats, result}
        } finally {
          release()
        }
      }
    } finally {
      await handle.close()
    }
    const result = await this.uploadParts(entry, formatAttributes(localAttributes(stats)), bytes)
    const after = await this.freshStats(entry)
    return result !== undefined && result.size === stats.size && sameState(stats, after) ? {stats, result} : undefined
  }

  private async openFile(entry: LocalEntry): Promise<FileHandle> {
    try {
      return await open(entry.absolute, constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') throw new EntryFailure('it vanished during the run')
      if (errnoOf(error) === 'ELOOP') throw new EntryFailure('it became a symlink during the run')
      throw error
    }
  }

  /** Uploads a file of several parts; undefined when the store found it changed between its passes. */
  private async uploadParts(entry: LocalEntry, metadata: UserMetadata, bytes: ItemBytes): Promise<PutResult | undefined> {
    const options: PutOptions = {
      metadata,
      partSize: this.context.partSize,
      queueSize: PARTS_IN_FLIGHT,
      signal: this.context.signal,
      onProgress: bytes.onProgress,
    }
    const upload = async (): Promise<PutResult | undefined> => {
      const release = await this.context.memory.reserve(this.context.partSize * PARTS_IN_FLIGHT)
      try {
        return await this.store.put(entry.key, await this.body(entry, options), options)
      } catch (error) {
        // The store hashes a large file before it streams it, and fails when the two reads differ.
        if (isStoreError(error, 'PreconditionFailed')) return undefined
        throw error
      } finally {
        release()
      }
    }
    return this.uploads.around(entry.key, upload)
  }

  /**
   * A file that goes in parts: hashed first (S3 takes metadata when an upload starts), then read
   * again by the store, which checks the hash while the bytes stream (a file changed in between
   * fails the upload); under a rate limit, through a throttle.
   */
  private async body(entry: LocalEntry, options: PutOptions): Promise<PutBody> {
    options.sha256 = await digestStream(createReadStream(entry.absolute), {kind: 'sha256'})
    const limiter = this.context.limiter
    if (limiter === undefined) return {path: entry.absolute}
    return pipeline(createReadStream(entry.absolute), limiter.throttle(), () => undefined) as Readable
  }

  /**
   * Whether the object at the entry's key already is the entry: same type, same content (size and
   * mtime, or with --checksum the content's digest), same attributes. When only the attributes of a
   * file differ, they are rewritten in place (a server-side copy) and the entry counts as updated.
   */
  private async isComplete(entry: LocalEntry, detail: UploadDetail): Promise<boolean> {
    const stats = await this.freshStats(entry)
    const recorded = detail.journal
    if (recorded?.sha256 !== undefined && stats.type === 'file' && matchesStats(recorded, stats)) {
      // The journal vouches for the object and its attributes; --checksum only asks about the bytes.
      if (await digestStream(createReadStream(entry.absolute), {kind: 'sha256'}) === recorded.sha256) return this.unchanged(stats)
      return false
    }
    const key = stats.type === 'dir' ? markerKey(entry.path) : entry.key
    const head = await this.store.head(key, this.context.signal)
    if (head === undefined) return false
    const remote = describeObject(head, stats.type === 'dir' ? 'marker' : 'object')
    const local = describeLocal(stats)
    if (remote.type !== local.type || !(await this.sameContent(entry, stats, head))) return false
    const comparison = compareDescriptions(local, remote)
    if (comparison.differing.length === 0 && comparison.notRecorded.length === 0) {
      this.context.journal.record(entry.key, journalRecord(stats, head.etag, head.metadata.sha256))
      return this.unchanged(stats)
    }
    if (stats.type !== 'file') return false // a marker or a symlink is cheaper to write again
    await this.rewriteAttributes(entry, stats, head)
    return true
  }

  private unchanged(stats: LocalStats): true {
    this.context.counts.unchanged++
    this.context.progress.done.bytes += stats.type === 'file' ? stats.size : 0
    return true
  }

  private async sameContent(entry: LocalEntry, stats: LocalStats, head: ObjectHead): Promise<boolean> {
    if (stats.type === 'dir') return true
    if (head.size !== stats.size) return false
    if (this.context.checksum && stats.type === 'file') {
      const reference = contentReference(head)
      if (reference === undefined) return false
      return await digestStream(createReadStream(entry.absolute), reference) === expectedDigest(reference)
    }
    const remote = describeObject(head, 'object')
    return remote.mtime !== undefined && sameMtime(stats.mtime, remote.mtime, remote.mtimePrecision === 'second')
  }

  private async rewriteAttributes(entry: LocalEntry, stats: LocalStats, head: ObjectHead): Promise<void> {
    const {counts, journal, notes, progress} = this.context
    progress.done.bytes += stats.size
    counts.updated++
    if (this.context.dryRun) {
      notes.add('would-update', displayPath(entry), 'attributes differ')
      return
    }
    const metadata = {...head.metadata, ...formatAttributes(localAttributes(stats))}
    await this.store.copy(entry.key, entry.key, {metadata, contentType: head.contentType, signal: this.context.signal})
    const rewritten = await this.store.head(entry.key, this.context.signal)
    if (rewritten !== undefined) journal.record(entry.key, journalRecord(stats, rewritten.etag, rewritten.metadata.sha256))
  }

  /** The entry as it is now: it may have changed, vanished or become another kind of file since the scan. */
  private async freshStats(entry: LocalEntry): Promise<LocalStats> {
    let stats: LocalStats
    try {
      stats = localStats(await lstat(entry.absolute, {bigint: true}))
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') throw new EntryFailure('it vanished during the run')
      throw error
    }
    if (stats.type !== entry.stats.type) throw new EntryFailure(`it became a ${stats.type} during the run`)
    return stats
  }

  private countCopied(stats: LocalStats): void {
    const copied = this.context.counts.copied
    if (stats.type === 'dir') copied.directories++
    else if (stats.type === 'symlink') copied.symlinks++
    else {
      copied.files++
      copied.bytes += stats.size
    }
  }
}

function sameState(before: LocalStats, after: LocalStats): boolean {
  return before.size === after.size && before.mtime.sec === after.mtime.sec && before.mtime.nsec === after.mtime.nsec
    && before.ino === after.ino && before.dev === after.dev
}
