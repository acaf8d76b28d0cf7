import {setMaxListeners} from 'node:events'
import {mkdir, stat} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'

import PQueue from 'p-queue'

import {RESERVED_NAME} from '../layout/keys.js'
import {silentLogger} from '../logger.js'
import {isStoreError} from '../store/errors.js'
import type {ObjectStore} from '../store/object-store.js'
import {DEFAULT_PART_SIZE} from '../store/part-size.js'
import {ByteBudget} from './byte-budget.js'
import {maxKeyBytes} from '../store/key-limit.js'
import {checkEndpoint, endpointLabel, restorePairDescription, uploadPairDescription, type Endpoint} from './endpoint.js'
import {errnoOf, TransferError} from './errors.js'
import {InflightUploads} from './inflight-uploads.js'
import {Journal} from './journal.js'
import {walkLocalTree} from './local-tree.js'
import {DEFAULT_JOBS, type MigrateOptions, type MigratePhase, type MigrateProgress, type MigrateReport} from './migrate-types.js'
import {Notes, type Note, type NoteKind} from './notes.js'
import {PathFilter} from './path-filter.js'
import {RateLimiter} from './rate-limiter.js'
import {planRestore, type RestoreDetail} from './restore-plan.js'
import {RESTORE_STAGING_DIR, RestoreWorker} from './restore-worker.js'
import {emptyCounts, failureReason, isFatal, type RunContext} from './run-context.js'
import {walkStoreTree} from './store-tree.js'
import {TransferDatabase} from './transfer-db.js'
import type {WalkProblem} from './tree-entry.js'
import {planUpload, type UploadDetail} from './upload-plan.js'
import {UploadWorker} from './upload-worker.js'
import {WorkList, type WorkItem} from './work-list.js'

/**
 * File bytes all jobs together may hold (whole small files, parts of multipart uploads): with the
 * rest of the process this keeps a run well under 300 MB however large its files and its tree.
 */
const MEMORY_BUDGET = 128 * 1024 * 1024

/** A failed request is tried once more after this pause (the SDK has already retried throttling and 5xx). */
const RETRY_PAUSE_MS = 1000

type Direction =
  | {kind: 'upload'; dir: string; store: ObjectStore}
  | {kind: 'restore'; store: ObjectStore; dir: string}

/**
 * One run of `zerofs migrate`: a local tree into a store (upload) or a store into a local tree
 * (restore), in three phases:
 * - scan: walk both sides in key order, merge them, write the plan to SQLite;
 * - copy: carry the plan out with `jobs` entries in flight;
 * - finish: restored directories' attributes, deletions (--delete, only when nothing failed).
 * It knows nothing of a terminal: `progress` is read by whoever displays it, and what concerns
 * single entries is read back with `notes()` after `run()`.
 */
export class Migration {
  readonly progress: MigrateProgress = {phase: 'idle', scanned: 0, total: {items: 0, bytes: 0}, done: {items: 0, bytes: 0}, startedAt: 0}
  /** Called as each phase starts (a progress display sets it). */
  onPhase?: (phase: MigratePhase) => void
  private readonly context: RunContext
  private readonly notesStore: Notes
  private readonly abort = new AbortController()
  private readonly warnings: string[] = []
  private readonly filter: PathFilter

  private constructor(
    private readonly options: MigrateOptions,
    private readonly direction: Direction,
    private readonly db: TransferDatabase,
    private readonly pair: number,
  ) {
    this.notesStore = new Notes(db.db, pair)
    this.filter = new PathFilter(options.filter)
    const signal = options.signal ? AbortSignal.any([options.signal, this.abort.signal]) : this.abort.signal
    // Every request in flight listens to it (with multipart parts, several per job).
    setMaxListeners(Math.max(64, (options.jobs ?? DEFAULT_JOBS) * 8), signal)
    this.context = {
      jobs: Math.max(1, options.jobs ?? DEFAULT_JOBS),
      partSize: options.partSize ?? DEFAULT_PART_SIZE,
      checksum: options.checksum ?? false,
      dryRun: options.dryRun ?? false,
      delete: options.delete ?? false,
      journal: new Journal(db.db, pair),
      notes: this.notesStore,
      progress: this.progress,
      counts: {scanned: emptyCounts(), copied: emptyCounts(), updated: 0, unchanged: 0, deleted: 0, failed: 0},
      limiter: options.bytesPerSecond === undefined ? undefined : new RateLimiter(options.bytesPerSecond),
      memory: new ByteBudget(MEMORY_BUDGET),
      signal,
      logger: options.logger ?? silentLogger,
    }
  }

  /**
   * Checks both sides before anything is copied (a missing bucket, refused credentials or a dead
   * endpoint fail here, as StoreErrors) and claims the migration's journal.
   */
  static async open(options: MigrateOptions): Promise<Migration> {
    const direction = directionOf(options.source, options.destination)
    if (direction.kind === 'upload') await checkEndpoint(options.source, options.signal)
    await direction.store.check(options.signal)
    if (direction.kind === 'restore' && !options.dryRun) await mkdir(direction.dir, {recursive: true})
    const db = TransferDatabase.open(options.cacheDir)
    try {
      const description = direction.kind === 'upload'
        ? uploadPairDescription(options.source, options.destination)
        : restorePairDescription(options.source, options.destination)
      return new Migration(options, direction, db, db.claim(description))
    } catch (error) {
      db.close()
      throw error
    }
  }

  async run(): Promise<MigrateReport> {
    this.progress.startedAt = Date.now()
    const abortedUploads = this.direction.kind === 'upload' && !this.context.dryRun ? await this.abortInterruptedUploads() : 0
    try {
      if (this.direction.kind === 'upload') await this.upload(this.direction.dir, this.direction.store)
      else await this.restore(this.direction.store, this.direction.dir)
    } finally {
      this.context.journal.flush()
    }
    return this.report(abortedUploads)
  }

  /** What the run noted about single entries, a page at a time from SQLite. */
  notes(kind: NoteKind): Generator<Note> {
    return this.notesStore.list(kind)
  }

  close(): void {
    try {
      this.context.journal.flush()
      this.db.release(this.pair)
    } finally {
      this.db.close()
    }
  }

  // ── upload ───────────────────────────────────────────────────────────────────────────────────

  private async upload(dir: string, store: ObjectStore): Promise<void> {
    const work = new WorkList<UploadDetail>(this.db.db, this.pair)
    this.startPhase('scan')
    const local = walkLocalTree(dir, {
      filter: this.filter,
      onProblem: (problem) => this.noteProblem(problem),
      rootExclusions: new Map([[RESERVED_NAME, `the name ${RESERVED_NAME} is reserved for zerofs's own objects at the root of a store`]]),
      signal: this.context.signal,
    })
    const remote = walkStoreTree(store, {filter: this.filter, signal: this.context.signal})
    await planUpload(local, remote, work, this.context, {maxKeyBytes: maxKeyBytes(store.url)})
    this.setTotals(work, ['put', 'check'])

    this.startPhase('copy')
    const worker = new UploadWorker(store, this.context, new InflightUploads(this.db.db, this.pair))
    await this.drain(work.items(['put', 'check']), (item) => worker.run(item))

    this.startPhase('finish')
    this.context.journal.flush()
    if (this.context.delete) await this.deleteObjects(store, work)
    const {copied, updated} = this.context.counts
    if (!this.context.dryRun && copied.files + copied.directories + copied.symlinks + updated > 0) await this.recordLastModified(store)
  }

  /**
   * One more listing, so that the journal knows each written object's LastModified: then a later
   * run, or verify, can tell from a listing alone that an object is still the one written.
   */
  private async recordLastModified(store: ObjectStore): Promise<void> {
    const {journal} = this.context
    journal.flush()
    for await (const entry of store.list({signal: this.context.signal})) {
      if (entry.kind === 'object') journal.listedAs(entry.key, entry.etag, entry.lastModified.getTime())
    }
  }

  private async deleteObjects(store: ObjectStore, work: WorkList<UploadDetail>): Promise<void> {
    if (!this.mayDelete()) return
    const {counts, journal, notes} = this.context
    const keys = function* (dryRun: boolean): Generator<string> {
      for (const item of work.items(['delete'])) {
        counts.deleted++
        if (dryRun) {
          notes.add('would-delete', item.key, 'not in the source')
          continue
        }
        journal.forget(item.key)
        yield item.key
      }
    }
    try {
      await store.delete(keys(this.context.dryRun), this.context.signal)
    } catch (error) {
      if (isFatal(error) || !isStoreError(error)) throw error
      this.warnings.push(`--delete stopped: ${error.message}`)
    }
  }

  private async abortInterruptedUploads(): Promise<number> {
    const uploads = new InflightUploads(this.db.db, this.pair)
    const {aborted, warning} = await uploads.abortInterrupted(this.direction.store, this.context.logger)
    if (warning !== undefined) this.warnings.push(warning)
    return aborted
  }

  // ── restore ──────────────────────────────────────────────────────────────────────────────────

  private async restore(store: ObjectStore, dir: string): Promise<void> {
    const work = new WorkList<RestoreDetail>(this.db.db, this.pair)
    this.startPhase('scan')
    const remote = walkStoreTree(store, {filter: this.filter, onProblem: (problem) => this.noteProblem(problem), signal: this.context.signal})
    const local = walkLocalTree(dir, {
      filter: this.filter,
      rootExclusions: new Map([[RESTORE_STAGING_DIR, undefined]]),
      onProblem: (problem) => this.context.logger.debug('left out of the destination walk', {...problem}),
      signal: this.context.signal,
    })
    await planRestore(remote, existingOrEmpty(local, dir), work, this.context)
    this.setTotals(work, ['get', 'dir'])

    this.startPhase('copy')
    const worker = new RestoreWorker(store, dir, this.context)
    await worker.prepare()
    try {
      await this.drain(work.items(['dir', 'get']), (item) => worker.run(item))

      this.startPhase('finish')
      if (this.context.delete && this.mayDelete()) {
        for (const item of work.items(['delete'], {reverse: true})) await worker.deleteLocal(item)
      }
      await this.drain(work.items(['dir'], {reverse: true}), (item) => worker.finishDirectory(item), {counted: false})
    } finally {
      if (!this.context.dryRun) await worker.cleanUp()
    }
    if (worker.ownersNotRestored) this.warnings.push('owners (uid/gid) were not restored: changing them needs root')
  }

  // ── shared ───────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs items with `jobs` in flight, pulling them from SQLite only as slots free up. An entry's
   * failure is noted; a fatal one (the store is gone) stops the run and is thrown once the items
   * in flight have settled. `counted`: items of the copy phase, which its progress counts.
   */
  private async drain<Detail>(
    items: Iterable<WorkItem<Detail>>,
    run: (item: WorkItem<Detail>) => Promise<void>,
    options: {counted: boolean} = {counted: true},
  ): Promise<void> {
    const queue = new PQueue({concurrency: this.context.jobs})
    let fatal: {error: unknown} | undefined
    for (const item of items) {
      if (fatal !== undefined) break
      await queue.onSizeLessThan(this.context.jobs * 2)
      void queue.add(async () => {
        try {
          await this.withRetry(() => run(item))
        } catch (error) {
          if (isFatal(error)) {
            fatal ??= {error}
            this.abort.abort(error)
          } else {
            this.noteFailure(item.key, error)
          }
        } finally {
          if (options.counted) this.progress.done.items++
        }
      })
    }
    await queue.onIdle()
    if (fatal !== undefined) throw fatal.error
    this.context.signal.throwIfAborted()
  }

  private async withRetry(attempt: () => Promise<void>): Promise<void> {
    try {
      await attempt()
    } catch (error) {
      if (!isStoreError(error, 'Failed') || this.context.signal.aborted) throw error
      this.context.logger.info('retrying after a failed request', {error: error.message})
      await sleep(RETRY_PAUSE_MS)
      await attempt()
    }
  }

  private mayDelete(): boolean {
    const failed = this.context.counts.failed
    if (failed === 0) return true
    this.warnings.push(`--delete was not carried out because ${failed} entr${failed === 1 ? 'y' : 'ies'} failed`)
    return false
  }

  private noteFailure(key: string, error: unknown): void {
    this.context.counts.failed++
    this.context.notes.add('failed', key, failureReason(error))
    this.context.logger.debug('entry failed', {key, error: failureReason(error)})
  }

  private noteProblem(problem: WalkProblem): void {
    if (problem.kind === 'invalid-name') {
      this.context.notes.add('invalid', problem.path, problem.reason)
    } else {
      this.context.counts.failed++
      this.context.notes.add('failed', problem.path, problem.reason)
    }
  }

  private startPhase(phase: MigratePhase): void {
    this.progress.phase = phase
    this.context.logger.info(`phase ${phase}`)
    this.onPhase?.(phase)
  }

  private setTotals(work: WorkList<unknown>, actions: string[]): void {
    const totals = work.totals()
    for (const action of actions) {
      this.progress.total.items += totals.get(action)?.count ?? 0
      this.progress.total.bytes += totals.get(action)?.bytes ?? 0
    }
  }

  private report(abortedUploads: number): MigrateReport {
    const {counts} = this.context
    const elapsedMs = Date.now() - this.progress.startedAt
    return {
      direction: this.direction.kind,
      source: endpointLabel(this.options.source),
      destination: endpointLabel(this.options.destination),
      dryRun: this.context.dryRun,
      scanned: counts.scanned,
      copied: counts.copied,
      updated: counts.updated,
      unchanged: counts.unchanged,
      deleted: counts.deleted,
      failed: counts.failed,
      invalid: this.notesStore.count('invalid'),
      special: this.notesStore.count('special'),
      hardLinks: this.notesStore.count('hard-link'),
      abortedUploads,
      elapsedMs,
      bytesPerSecond: elapsedMs > 0 ? Math.round((counts.copied.bytes * 1000) / elapsedMs) : 0,
      warnings: this.warnings,
    }
  }
}

function directionOf(source: Endpoint, destination: Endpoint): Direction {
  if (source.kind === 'local' && destination.kind === 'store') return {kind: 'upload', dir: source.dir, store: destination.store}
  if (source.kind === 'store' && destination.kind === 'local') return {kind: 'restore', store: source.store, dir: destination.dir}
  throw new TransferError('Usage', source.kind === 'local'
    ? 'both SRC and DST are local directories: one of them must be a store (s3://BUCKET[/PREFIX] or file:///DIR)'
    : 'both SRC and DST are stores: one of them must be a local directory')
}

/** A restore's destination that does not exist yet (a dry run does not create it) is empty. */
async function* existingOrEmpty<T>(walk: AsyncIterable<T>, dir: string): AsyncGenerator<T> {
  try {
    yield* walk
  } catch (error) {
    if (errnoOf(error) === 'ENOENT' && !(await stat(dir).then(() => true, () => false))) return
    throw error
  }
}
