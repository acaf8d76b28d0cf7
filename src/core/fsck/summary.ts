import {counts, type Problem} from './problem.js'

/** e2fsck's exit codes, which fsck keeps so that cron jobs and scripts read it the same way. */
export const FSCK_EXIT = {
  /** No problems (info notes do not count). */
  clean: 0,
  /** Problems were found and all of them were corrected. */
  corrected: 1,
  /** Problems are left. */
  uncorrected: 4,
  /** fsck could not do its job: store unreachable, cache unreadable, refused beside a live owner. */
  operational: 8,
  /** A mistyped command line. */
  usage: 16,
} as const

export interface FsckSummary {
  /** The store checked (its URL) and the cache directory compared with it. */
  store: string
  cacheDir: string
  /** `absent`: no cache yet (nothing to compare); `rebuilt`: a damaged cache was moved aside. */
  cache: 'absent' | 'present' | 'rebuilt'
  objects: number
  directories: number
  /** Cache entries compared with the bucket. */
  cacheEntries: number
  /** Journaled writes found in the staging area. */
  staged: number
  errors: number
  warnings: number
  infos: number
  repaired: number
  /** Errors and warnings not repaired. */
  left: number
  exitCode: number
}

/** Counts problems as they are reported. */
export class ProblemTally {
  errors = 0
  warnings = 0
  infos = 0
  repaired = 0
  left = 0
  private correctedCount = 0

  add(problem: Problem): void {
    if (problem.severity === 'error') this.errors++
    else if (problem.severity === 'warning') this.warnings++
    else this.infos++
    if (problem.repaired) this.repaired++
    if (!counts(problem)) return
    if (problem.repaired) this.correctedCount++
    else this.left++
  }

  get exitCode(): number {
    if (this.left > 0) return FSCK_EXIT.uncorrected
    return this.correctedCount > 0 ? FSCK_EXIT.corrected : FSCK_EXIT.clean
  }
}
