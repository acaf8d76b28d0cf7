import type {RecordedAttribute} from './description.js'
import type {Endpoint} from './endpoint.js'
import type {FilterRules} from './path-filter.js'

/**
 * - fast: existence, type, size, mtime, mode, uid, gid, symlink targets
 * - checksum: fast, plus each file's content against the checksum the store holds (SHA-256 in the
 *   metadata, a plain MD5 ETag, or a multipart ETag recomputed with the recorded part size)
 * - deep: fast, plus both contents read and hashed (objects are downloaded)
 */
export type VerifyMode = 'fast' | 'checksum' | 'deep'

export interface VerifyOptions {
  source: Endpoint
  destination: Endpoint
  mode?: VerifyMode
  /** Only what the source has is checked: entries only in the destination are not reported. */
  oneWay?: boolean
  filter?: FilterRules
  /** Entries compared at once (HEADs, reads and hashes); default 16. */
  jobs?: number
  /**
   * The destination store's cache directory, where migrate keeps its journal. With it, a file or
   * directory that migrate wrote and that the listing shows unchanged since (same ETag and
   * LastModified) is described from the journal instead of a HEAD. Only for a local source.
   */
  journalDir?: string
  signal?: AbortSignal
  /** Each finding, in key order as far as the walks allow; awaited (backpressure). */
  onFinding?: (finding: Finding) => void | Promise<void>
}

/**
 * One line of the output, in the spirit of `rclone check --combined`:
 * `+` only in the source, `-` only in the destination, `*` in both but different, `!` could not
 * be compared (an error), `?` no checksum to compare the content with (unverifiable).
 */
export type Finding =
  | {kind: 'only-in-source'; path: string}
  | {kind: 'only-in-destination'; path: string; reason?: string}
  | {kind: 'differs'; path: string; differences: string[]}
  | {kind: 'error'; path: string; reason: string}
  | {kind: 'unverifiable'; path: string; reason: string}

const SYMBOLS: Record<Finding['kind'], string> = {
  'only-in-source': '+',
  'only-in-destination': '-',
  differs: '*',
  error: '!',
  unverifiable: '?',
}

export function findingLine(finding: Finding): string {
  const detail = finding.kind === 'differs' ? finding.differences.join('; ') : finding.kind === 'only-in-source' ? undefined : finding.reason
  return `${SYMBOLS[finding.kind]} ${finding.path}${detail === undefined ? '' : ` (${detail})`}`
}

export interface VerifyProgress {
  /** Keys looked at (either side). */
  entries: number
  /** Bytes read to compare contents (both sides). */
  bytesHashed: number
  findings: number
  startedAt: number
}

export interface VerifyReport {
  source: string
  destination: string
  mode: VerifyMode
  oneWay: boolean
  /** Keys present on both sides. */
  compared: number
  identical: number
  onlyInSource: number
  onlyInDestination: number
  differing: number
  errors: number
  unverifiable: number
  /** Sockets, FIFOs and devices in the source: migrate does not copy them, so they are not compared. */
  skippedSpecial: number
  /** Per attribute, the entries where one side never recorded it (not differences). */
  notRecorded: Record<RecordedAttribute, number>
  bytesHashed: number
  /** Objects described from the migration journal (unchanged since migrate wrote them) instead of a HEAD. */
  fromJournal: number
  elapsedMs: number
  /** True when nothing differs, nothing is missing, and everything could be checked. */
  identicalTrees: boolean
}
