import {randomBytes} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {chmod, chown, lchown, lstat, lutimes, mkdir, rename, rm, rmdir, symlink, unlink, utimes} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {Transform, type TransformCallback} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import type {FileType} from '../fs/types.js'
import type {ObjectAttributes} from '../layout/metadata.js'
import type {ObjectHead, ObjectStore} from '../store/object-store.js'
import {ContentDigest, contentReference, expectedDigest} from './content.js'
import {compareDescriptions, describeImplicitDirectory, describeLocal, describeObject, describeRecord, sameMtime, type Description} from './description.js'
import {EntryFailure, errnoOf} from './errors.js'
import {journalRecord} from './journal.js'
import {localStats} from './local-tree.js'
import type {RestoreDetail} from './restore-plan.js'
import {ItemBytes, type RunContext} from './run-context.js'
import {displayPath, type LocalStats, type StoreEntry} from './tree-entry.js'
import type {WorkItem} from './work-list.js'
import {utimesSeconds} from './utimes-seconds.js'

/** Where a restore writes downloads before renaming them into place; left out of every walk. */
export const RESTORE_STAGING_DIR = '.zerofs-restore'

/** Longest symlink target Linux accepts. */
const SYMLINK_MAX = 4095

/**
 * Carries out a restore plan: objects become files (verified against the object's SHA-256 or MD5
 * while they stream, written aside and renamed into place) or symlinks; directories are made
 * private (0700) while they fill and get their own mode, owner and mtime only after their contents,
 * deepest first, so that a 0500 directory can be filled and every mtime survives.
 */
export class RestoreWorker {
  private ownersRefused = false
  private staged = 0

  constructor(
    private readonly store: ObjectStore,
    private readonly root: string,
    private readonly context: RunContext,
  ) {}

  get stagingDir(): string {
    return join(this.root, RESTORE_STAGING_DIR)
  }

  /** Set when chown was refused (not running as root): owners are then left as they come. */
  get ownersNotRestored(): boolean {
    return this.ownersRefused
  }

  async prepare(): Promise<void> {
    if (this.context.dryRun) return
    await rm(this.stagingDir, {recursive: true, force: true})
    await mkdir(this.stagingDir, {recursive: true, mode: 0o700})
  }

  async cleanUp(): Promise<void> {
    await rm(this.stagingDir, {recursive: true, force: true})
  }

  /** Copy phase: objects are downloaded, directories made. */
  async run(item: WorkItem<RestoreDetail>): Promise<void> {
    const remote = item.detail.remote!
    const bytes = new ItemBytes(this.context.progress)
    try {
      if (item.action === 'dir') await this.makeDirectory(remote)
      else await this.restoreObject(remote, bytes)
    } catch (error) {
      bytes.undo()
      throw error
    }
  }

  /** Finish phase, deepest first: a directory's own attributes, from the journal or its marker. */
  async finishDirectory(item: WorkItem<RestoreDetail>): Promise<void> {
    const remote = item.detail.remote!
    if (this.context.dryRun) return
    const path = this.localPath(remote.path)
    let description: Description = describeImplicitDirectory()
    let etag = ''
    let sha256: string | undefined
    if (remote.kind === 'marker') {
      const recorded = item.detail.journal
      const head = recorded === undefined ? await this.store.head(remote.key, this.context.signal) : undefined
      if (recorded === undefined && head === undefined) throw new EntryFailure('its marker vanished from the store during the run')
      description = head !== undefined ? describeObject(head, 'marker') : describeRecord(recorded!, 0)
      etag = head?.etag ?? recorded!.etag
      sha256 = head?.metadata.sha256
    }
    const stats = await this.applyAttributes(path, description, 'dir')
    if (etag !== '') this.context.journal.record(remote.key, journalRecord(stats, etag, sha256))
  }

  /** Finish phase with --delete, deepest first: what only the local tree has. */
  async deleteLocal(item: WorkItem<RestoreDetail>): Promise<void> {
    const local = item.detail.local!
    if (this.context.dryRun) {
      this.context.notes.add('would-delete', displayPath(local), 'not in the store')
    } else {
      try {
        if (local.stats.type === 'dir') await rmdir(local.absolute)
        else await unlink(local.absolute)
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') throw error
      }
    }
    this.context.counts.deleted++
  }

  private async makeDirectory(remote: StoreEntry): Promise<void> {
    const path = this.localPath(remote.path)
    const existing = await lstatIfExists(path)
    if (existing?.type === 'dir') {
      this.context.counts.unchanged++
      return
    }
    if (existing !== undefined) throw new EntryFailure(`a ${existing.type} is in the way of the directory`)
    if (this.context.dryRun) this.context.notes.add('would-copy', `${remote.path}/`, 'dir')
    else await mkdir(path, {recursive: true, mode: 0o700})
    this.context.counts.copied.directories++
  }

  private async restoreObject(remote: StoreEntry, bytes: ItemBytes): Promise<void> {
    const head = await this.store.head(remote.key, this.context.signal)
    if (head === undefined) throw new EntryFailure('it vanished from the store during the run')
    const description = describeObject(head, 'object')
    const type = description.type
    if (type !== 'file' && type !== 'symlink') {
      this.context.notes.add('special', remote.path, `${type}: sockets, FIFOs and devices are not restored`)
      return
    }
    const path = this.localPath(remote.path)
    const current = await lstatIfExists(path)
    if (current !== undefined && current.type === type && current.size === head.size && description.mtime !== undefined
      && sameMtime(current.mtime, description.mtime, description.mtimePrecision === 'second')) {
      await this.refreshAttributes(remote, path, current, description, head)
      return
    }
    if (this.context.dryRun) {
      this.context.notes.add('would-copy', remote.path, type === 'file' ? `${head.size} bytes` : type)
      this.countCopied(type, head.size)
      bytes.complete(head.size)
      return
    }
    await mkdir(dirname(path), {recursive: true, mode: 0o700})
    const staged = join(this.stagingDir, `${process.pid}.${++this.staged}.${randomBytes(4).toString('hex')}`)
    try {
      if (type === 'symlink') await this.downloadSymlink(remote, staged)
      else await this.downloadFile(remote, head, staged, bytes)
      await this.applyAttributes(staged, description, type)
      await this.moveIntoPlace(staged, path)
    } finally {
      await rm(staged, {force: true})
    }
    const stats = localStats(await lstat(path, {bigint: true}))
    this.context.journal.record(remote.key, journalRecord(stats, head.etag, head.metadata.sha256))
    bytes.complete(head.size)
    this.countCopied(type, head.size)
  }

  /** The content is there already; the attributes may still differ. */
  private async refreshAttributes(remote: StoreEntry, path: string, current: LocalStats, description: Description, head: ObjectHead): Promise<void> {
    const {counts, progress} = this.context
    progress.done.bytes += head.size
    const differing = compareDescriptions(description, describeLocal(current)).differing
    if (differing.length === 0) {
      counts.unchanged++
    } else {
      counts.updated++
      if (this.context.dryRun) {
        this.context.notes.add('would-update', remote.path, `${differing.join(', ')} differ`)
        return
      }
      current = await this.applyAttributes(path, description, current.type)
    }
    if (!this.context.dryRun) this.context.journal.record(remote.key, journalRecord(current, head.etag, head.metadata.sha256))
  }

  private async downloadSymlink(remote: StoreEntry, staged: string): Promise<void> {
    const chunks: Buffer[] = []
    let length = 0
    for await (const chunk of await this.store.get(remote.key, undefined, this.context.signal)) {
      chunks.push(chunk as Buffer)
      length += (chunk as Buffer).length
      if (length > SYMLINK_MAX) throw new EntryFailure(`its symlink target is longer than ${SYMLINK_MAX} bytes`)
    }
    if (length === 0) throw new EntryFailure('its symlink target is empty')
    await symlink(Buffer.concat(chunks), staged)
  }

  /** Streams the object into the staged file, checking its size and (where the store holds one) its digest. */
  private async downloadFile(remote: StoreEntry, head: ObjectHead, staged: string, bytes: ItemBytes): Promise<void> {
    const reference = contentReference(head)
    const digest = reference === undefined ? undefined : new ContentDigest(reference)
    let received = 0
    const meter = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
        digest?.update(chunk)
        received += chunk.length
        bytes.onProgress(received)
        callback(null, chunk)
      },
    })
    const body = await this.store.get(remote.key, undefined, this.context.signal)
    const limiter = this.context.limiter
    const output = createWriteStream(staged, {flags: 'wx', mode: 0o600})
    if (limiter === undefined) await pipeline(body, meter, output)
    else await pipeline(body, limiter.throttle(), meter, output)
    if (received !== head.size) throw new EntryFailure(`the download ended after ${received} of ${head.size} bytes`)
    if (digest !== undefined && reference !== undefined && digest.digest() !== expectedDigest(reference)) {
      throw new EntryFailure(`the downloaded bytes do not match the object's ${reference.source}`)
    }
  }

  /** Sets mode, owner and times (those recorded) on a path; returns its stats afterwards. */
  private async applyAttributes(path: string, description: Description & {attributes?: ObjectAttributes}, type: FileType): Promise<LocalStats> {
    const isLink = type === 'symlink'
    if (!isLink) await chmod(path, description.permissions ?? (type === 'dir' ? 0o755 : 0o644))
    if (description.uid !== undefined || description.gid !== undefined) await this.changeOwner(path, description.uid ?? -1, description.gid ?? -1, isLink)
    if (description.mtime !== undefined) {
      const atime = description.attributes?.atime ?? description.mtime
      await (isLink ? lutimes : utimes)(path, utimesSeconds(atime), utimesSeconds(description.mtime))
    }
    return localStats(await lstat(path, {bigint: true}))
  }

  private async changeOwner(path: string, uid: number, gid: number, isLink: boolean): Promise<void> {
    if (this.ownersRefused) return
    try {
      await (isLink ? lchown : chown)(path, uid, gid)
    } catch (error) {
      if (errnoOf(error) !== 'EPERM') throw error
      this.ownersRefused = true
    }
  }

  private async moveIntoPlace(staged: string, path: string): Promise<void> {
    try {
      await rename(staged, path)
    } catch (error) {
      const code = errnoOf(error)
      if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') throw new EntryFailure('a directory is in the way')
      if (code === 'ENOTDIR') throw new EntryFailure('a file is in the way of its directory')
      throw error
    }
  }

  private localPath(path: string): string {
    return join(this.root, ...path.split('/'))
  }

  private countCopied(type: 'file' | 'symlink', size: number): void {
    const copied = this.context.counts.copied
    if (type === 'symlink') {
      copied.symlinks++
    } else {
      copied.files++
      copied.bytes += size
    }
  }
}

async function lstatIfExists(path: string): Promise<LocalStats | undefined> {
  try {
    return localStats(await lstat(path, {bigint: true}))
  } catch (error) {
    if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return undefined
    throw error
  }
}
