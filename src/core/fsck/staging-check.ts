import {existsSync} from 'node:fs'
import {opendir} from 'node:fs/promises'
import {join} from 'node:path'
import type {RangeList} from '../cache/range-set.js'
import type {StagedFile, StagingJournal} from '../cache/staging-journal.js'
import type {Ino} from '../fs/types.js'
import {displayPath} from '../layout/keys.js'
import type {CacheAccess} from './cache-access.js'
import type {CacheStructure} from './cache-structure.js'
import type {LostAndFound} from './lost-and-found.js'
import {asLiveOwnersWork, type Problem, type ProblemKind, type Severity} from './problem.js'

export interface StagingCheckOptions {
  stagingDir: string
  /** Set when a live process owns the cache: what is staged is its work in progress. */
  liveOwner?: number
  /** Repairs that must happen before the core's recovery runs (it would delete stray files). */
  repair?: {lostAndFound: LostAndFound}
  report: (problem: Problem) => void
}

/** A journaled file left for an upload: by the core's recovery (repair) or by its owner. */
export interface PendingUpload {
  ino: Ino
  kind: Extract<ProblemKind, 'staging-not-uploaded' | 'staging-missing-file'>
  path: string
  detail: string
}

/**
 * The staging area: `staging/<ino>` data files and the journal entries that describe them. Every
 * journaled file must have its data file and a place in the cache; every data file a journal entry.
 * Nothing here is ever deleted: data with no place goes to lost+found.
 */
export class StagingCheck {
  constructor(private readonly options: StagingCheckOptions) {}

  /**
   * Data files that no journal entry describes (with no journal, none does); moved to lost+found
   * when repairing. Streams the directory.
   */
  async checkFiles(journal: StagingJournal | undefined): Promise<void> {
    const {stagingDir, repair, report} = this.options
    for await (const entry of await openStagingDir(stagingDir)) {
      const ino = /^\d+$/.test(entry.name) ? BigInt(entry.name) : undefined
      if (ino !== undefined && journal?.get(ino) !== undefined) continue
      const file = join(stagingDir, entry.name)
      const what = ino === undefined ? 'not a staging data file' : `the data of inode ${ino}, which has no journal entry`
      let detail = `${what}: nothing would upload it`
      if (repair) detail += `; moved to ${repair.lostAndFound.keep(file, `staging-${entry.name}`)}`
      report(this.problem('staging-stray-file', 'warning', file, detail, repair !== undefined))
    }
  }

  /**
   * Journal entries: those with no place in the cache or no data file are reported (and, when
   * repairing, settled); the rest are returned as waiting for an upload.
   */
  checkEntries(cache: CacheAccess, structure: CacheStructure): PendingUpload[] {
    const {repair, report} = this.options
    const pending: PendingUpload[] = []
    for (const ino of cache.staging.inos()) {
      const staged = cache.staging.get(ino)
      if (!staged) continue
      const file = cache.stagingFile(ino)
      const hasFile = existsSync(file)
      const path = structure.pathOf(ino)
      const written = byteCount(staged.written)
      if (path === undefined) {
        const name = cache.inodes.get(ino)?.name
        let detail = `${written} bytes written to ${name === undefined ? `inode ${ino}` : `'${name}' (inode ${ino})`}, whose entry is no longer in the cache tree`
        if (repair) {
          detail += hasFile
            ? `; data moved to ${repair.lostAndFound.keep(file, `inode-${ino}`, {journal: staged, name})}`
            : '; its data file is gone too: the entry is dropped'
          cache.transaction(() => cache.staging.delete(ino))
        }
        report(this.problem('staging-lost-entry', 'error', hasFile ? file : `<inode ${ino}>`, detail, repair !== undefined))
        continue
      }
      if (hasFile) {
        pending.push({ino, kind: 'staging-not-uploaded', path: displayPath(path), detail: describe(staged, written)})
        continue
      }
      if (written > 0) {
        let detail = `${written} written bytes of ${displayPath(path)} were in a data file that is gone: they cannot be recovered`
        if (repair) {
          detail += '; the journal entry is dropped and the bucket keeps the object as it was'
          cache.transaction(() => cache.staging.delete(ino))
        }
        report(this.problem('staging-missing-file', 'error', displayPath(path), detail, repair !== undefined))
        continue
      }
      // Nothing was written (a crash right after create, or staged attribute changes): the core's
      // recovery recreates the file and fills it from the base object, which it must fetch again.
      if (repair) cache.transaction(() => cache.staging.put({...staged, fetched: []}))
      pending.push({ino, kind: 'staging-missing-file', path: displayPath(path), detail: `the data file is missing; no written data was in it (${describe(staged, written)})`})
    }
    return pending
  }

  /** Reports what waited for an upload; `uploaded` says whether the recovery took it (repair). */
  reportPending(pending: readonly PendingUpload[], outcome?: {uploaded: (ino: Ino) => boolean; failure?: string}): void {
    for (const upload of pending) {
      const uploaded = outcome?.uploaded(upload.ino) ?? false
      let detail = upload.detail
      if (outcome) detail += uploaded ? '; uploaded' : `; still staged${outcome.failure ? `: ${outcome.failure}` : ''}`
      this.options.report(this.problem(upload.kind, 'error', upload.path, detail, uploaded))
    }
  }

  private problem(kind: ProblemKind, severity: Severity, path: string, detail: string, repaired: boolean): Problem {
    return asLiveOwnersWork({kind, severity, path, detail, repaired}, this.options.liveOwner)
  }
}

async function openStagingDir(dir: string): Promise<AsyncIterable<{name: string}>> {
  try {
    return await opendir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return (async function* () {})()
    throw error
  }
}

function byteCount(ranges: RangeList): number {
  return ranges.reduce((total, [start, end]) => total + end - start, 0)
}

function describe(staged: StagedFile, written: number): string {
  return `${staged.size} bytes, ${written} written, staged ${new Date(staged.stagedAt).toISOString()}`
}
