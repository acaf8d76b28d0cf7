import type {Logger} from '../logger.js'
import type {ByteBudget} from './byte-budget.js'
import {isStoreError} from '../store/errors.js'
import {describeError, EntryFailure} from './errors.js'
import type {Journal} from './journal.js'
import type {CopiedCounts, MigrateProgress} from './migrate-types.js'
import type {Notes} from './notes.js'
import type {RateLimiter} from './rate-limiter.js'

/** What the planners and workers of one migration run share. */
export interface RunContext {
  jobs: number
  partSize: number
  checksum: boolean
  dryRun: boolean
  delete: boolean
  journal: Journal
  notes: Notes
  progress: MigrateProgress
  counts: RunCounts
  limiter?: RateLimiter
  /** Bounds the file bytes all jobs together hold in memory. */
  memory: ByteBudget
  signal: AbortSignal
  logger: Logger
}

export interface RunCounts {
  scanned: CopiedCounts
  copied: CopiedCounts
  updated: number
  unchanged: number
  deleted: number
  failed: number
}

export function emptyCounts(): CopiedCounts {
  return {files: 0, directories: 0, symlinks: 0, bytes: 0}
}

/**
 * Failures that end the whole run (exit 2) instead of one entry: the store has gone away, or the
 * bucket has; going on would only fail every remaining entry the same way.
 */
export function isFatal(error: unknown): boolean {
  return isStoreError(error, 'Unreachable') || isStoreError(error, 'NoSuchBucket') || isStoreError(error, 'Aborted')
    || (error instanceof Error && error.name === 'AbortError')
}

/** The reason a failed entry is listed with. */
export function failureReason(error: unknown): string {
  if (error instanceof EntryFailure || isStoreError(error)) return error.message
  return describeError(error)
}

/** Keeps the bytes of one item in the run's progress right through retries and failures. */
export class ItemBytes {
  private counted = 0

  constructor(private readonly progress: MigrateProgress) {}

  /** For a store's `onProgress`: bytes sent so far for this item. */
  readonly onProgress = (sent: number): void => {
    this.progress.done.bytes += sent - this.counted
    this.counted = sent
  }

  complete(size: number): void {
    this.onProgress(size)
  }

  undo(): void {
    this.onProgress(0)
  }
}
