import type {Logger} from '../logger.js'
import type {Endpoint} from './endpoint.js'
import type {FilterRules} from './path-filter.js'

export type MigratePhase = 'scan' | 'copy' | 'finish'

export interface MigrateOptions {
  /** A local directory tree (upload), or a store (restore into `destination`). */
  source: Endpoint
  destination: Endpoint
  /** Where transfer.db lives: the store's cache directory. */
  cacheDir: string
  /** Entries copied at once (default DEFAULT_JOBS). */
  jobs?: number
  /** Multipart part size for large files (default 8 MiB; files up to it go in one PUT). */
  partSize?: number
  /** Decide "unchanged" by SHA-256 of the content instead of size and mtime. */
  checksum?: boolean
  /** Remove from the destination what the source does not have (never when a copy failed). */
  delete?: boolean
  /** Plan, read and compare, but change nothing; the notes say what would be done. */
  dryRun?: boolean
  filter?: FilterRules
  /** Average bytes per second over all jobs (`--bwlimit`). */
  bytesPerSecond?: number
  signal?: AbortSignal
  logger?: Logger
}

/** Tuned on a 2-core machine against s3rver: more jobs only queue behind the server. */
export const DEFAULT_JOBS = 16

/** Live counters of a run, read by progress displays; the engine updates them in place. */
export interface MigrateProgress {
  phase: MigratePhase | 'idle'
  /** Entries the scan has compared so far. */
  scanned: number
  /** Work found by the scan: entries to copy, update or check, and their bytes. */
  total: {items: number; bytes: number}
  /** Of `total`, what is done (copied, updated, found unchanged, or failed). */
  done: {items: number; bytes: number}
  startedAt: number
}

export interface CopiedCounts {
  files: number
  directories: number
  symlinks: number
  bytes: number
}

export interface MigrateReport {
  direction: 'upload' | 'restore'
  source: string
  destination: string
  dryRun: boolean
  /** Entries the source has (after filters), by kind. */
  scanned: CopiedCounts
  /** Copied (or, in a dry run, to be copied). */
  copied: CopiedCounts
  /** Entries whose content was already there but whose attributes were rewritten. */
  updated: number
  /** Entries already complete at the destination. */
  unchanged: number
  /** Removed from the destination (--delete). */
  deleted: number
  /** Entries that could not be copied; listed as `failed` notes. Exit 1. */
  failed: number
  /** Names that cannot be stored (not UTF-8, too long, reserved); listed as `invalid` notes. Exit 1. */
  invalid: number
  /** Sockets, FIFOs and devices left out; listed as `special` notes. */
  special: number
  /** Names of files with several hard links, each copied on its own; listed as `hard-link` notes. */
  hardLinks: number
  /** Multipart uploads of an interrupted earlier run that were aborted. */
  abortedUploads: number
  elapsedMs: number
  /** Bytes copied per second of the whole run. */
  bytesPerSecond: number
  /** Things the operator should know that concern no single entry. */
  warnings: string[]
}
