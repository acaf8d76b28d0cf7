import {existsSync, mkdirSync, readdirSync, renameSync} from 'node:fs'
import {join} from 'node:path'
import {STAGING_DIR} from '../cache/cache-dir.js'
import {CacheError} from '../cache/errors.js'
import {acquireOwnerLock, cacheOwner} from '../cache/owner-lock.js'
import type {Ino} from '../fs/types.js'
import {silentLogger, type Logger} from '../logger.js'
import type {ObjectStore} from '../store/object-store.js'
import {BucketCheck, type BucketCounts} from './bucket-check.js'
import {inspectCache, metaDbFile, openCacheAsOwner, openCacheReadOnly, type CacheAccess, type CacheState} from './cache-access.js'
import {CacheComparison} from './cache-comparison.js'
import {CacheStructure} from './cache-structure.js'
import {checkDevices} from './device-check.js'
import {LostAndFound} from './lost-and-found.js'
import {checkMultipartUploads} from './multipart-check.js'
import {asLiveOwnersWork, type Problem} from './problem.js'
import {runCoreRecovery} from './recovery.js'
import {StagingCheck} from './staging-check.js'
import {ProblemTally, type FsckSummary} from './summary.js'

export const DEFAULT_OLDER_THAN_MS = 24 * 3_600_000

export interface FsckOptions {
  store: ObjectStore
  cacheDir: string
  /** Correct what zerofs owns: the cache, the staging area, stale multipart uploads. Never a user's object. */
  repair?: boolean
  /** Give implicit directories marker objects (the only objects fsck ever writes). */
  createMarkers?: boolean
  /** HEAD every object to check its attribute metadata (default: zero-byte objects and markers only). */
  deep?: boolean
  /** Multipart uploads older than this are stale. Default 24 hours. */
  olderThanMs?: number
  /** HEADs and puts in flight. Default 16. */
  concurrency?: number
  logger?: Logger
  /** Every problem as it is found (in no particular order). */
  onProblem?: (problem: Problem) => void
}

/**
 * Checks (and with `repair`, corrects) one store and its metadata cache, in this order:
 *
 * 1. the cache database (SQLite's integrity check, schema version, root entry), then the shape of
 *    the inode table (orphans, cycles) and interrupted directory renames;
 * 2. the staging area: data files without journal entries (moved to lost+found: the core's
 *    recovery would delete them), entries without data files or without a place in the cache;
 * 3. repair only: the core's own recovery (as serve runs it), which finishes the renames and
 *    uploads the journaled writes; what it could not upload is reported as left;
 * 4. the bucket in one walk in key order, each entry compared with the cache as it passes, then the
 *    cache entries the walk did not meet;
 * 5. incomplete multipart uploads;
 * 6. NBD devices: manifests against chunk objects, and dirty chunks staged in the cache (uploaded
 *    by a repair).
 *
 * A check opens the cache read-only and runs beside a server; a repair refuses to (CacheError
 * 'Locked', naming the owner's PID). Memory stays bounded by the tree's depth, not its size.
 */
export async function fsck(options: FsckOptions): Promise<FsckSummary> {
  return new FsckRun(options).run()
}

class FsckRun {
  private readonly tally = new ProblemTally()
  private readonly repair: boolean
  private readonly liveOwner: number | undefined
  private readonly logger: Logger
  private readonly lostAndFound: LostAndFound
  /** A damaged cache was moved aside. */
  private rebuilt = false
  private cache?: CacheAccess
  /** Journaled writes found. */
  private staged = 0

  constructor(private readonly options: FsckOptions) {
    this.repair = options.repair ?? false
    this.logger = options.logger ?? silentLogger
    this.lostAndFound = new LostAndFound(options.cacheDir)
    this.liveOwner = cacheOwner(options.cacheDir)
    if (this.repair && this.liveOwner !== undefined) {
      throw new CacheError('Locked', `the cache ${options.cacheDir} is in use by zerofs process ${this.liveOwner} `
        + '(a running zerofs serve?): stop it before fsck --repair, or check without --repair')
    }
  }

  private readonly report = (problem: Problem): void => {
    this.tally.add(problem)
    this.options.onProblem?.(problem)
  }

  async run(): Promise<FsckSummary> {
    const {store, cacheDir} = this.options
    const startedAt = Date.now()
    const state = this.inspect()
    const staging = new StagingCheck({
      stagingDir: join(cacheDir, STAGING_DIR),
      liveOwner: this.liveOwner,
      repair: this.repair ? {lostAndFound: this.lostAndFound} : undefined,
      report: this.report,
    })
    let walked: WalkCounts
    try {
      // Opening as the owner migrates an outdated schema (even an empty one).
      if (hasTables(state) || (this.repair && state.kind === 'outdated')) this.cache = this.openCache()
      // A damaged journal cannot say which data files it describes: they stay for the repair to set aside.
      if (state.kind !== 'damaged') await staging.checkFiles(this.cache?.staging)
      if (this.cache) await this.checkJournals(this.cache, staging)
      walked = await this.walk(this.cache, startedAt)
    } finally {
      this.closeCache()
    }
    await checkMultipartUploads({store, olderThanMs: this.options.olderThanMs ?? DEFAULT_OLDER_THAN_MS, now: Date.now(), repairing: this.repair, report: this.report})
    await checkDevices({store, cacheDir, repairing: this.repair, logger: this.logger, report: this.report})
    return {
      store: store.url,
      cacheDir,
      cache: state.kind === 'absent' ? (this.rebuilt ? 'rebuilt' : 'absent') : 'present',
      objects: walked.objects,
      directories: walked.directories,
      cacheEntries: walked.compared,
      staged: this.staged,
      errors: this.tally.errors,
      warnings: this.tally.warnings,
      infos: this.tally.infos,
      repaired: this.tally.repaired,
      left: this.tally.left,
      exitCode: this.tally.exitCode,
    }
  }

  /**
   * The inode table's shape, the staging journal and the rename journal. A repair settles what it
   * can itself, then lets the core's recovery finish renames and upload staged data (the cache is
   * closed meanwhile, and reopened to see what is left).
   */
  private async checkJournals(cache: CacheAccess, staging: StagingCheck): Promise<void> {
    const structure = CacheStructure.analyse(cache)
    for (const problem of structure.problems(this.repair)) this.report(problem)
    this.staged = cache.staging.inos().length
    const pending = staging.checkEntries(cache, structure)
    const renames = [...structure.pendingRenames()]
    if (!this.repair || (pending.length === 0 && renames.length === 0)) {
      if (this.repair) structure.forgetUnreachable()
      staging.reportPending(pending)
      for (const {problem} of renames) this.report(asLiveOwnersWork({...problem, severity: 'error', repaired: false}, this.liveOwner))
      return
    }
    structure.forgetUnreachable()
    this.closeCache()
    const failure = await runCoreRecovery(this.options.store, this.options.cacheDir, this.logger)
    const after = this.cache = this.openCache()
    staging.reportPending(pending, {uploaded: (ino) => after.staging.get(ino) === undefined, failure})
    const left = new Set(after.renames.pending().map((rename) => rename.id))
    for (const {id, problem} of renames) {
      const repaired = !left.has(id)
      const outcome = repaired ? 'finished' : `not finished${failure ? `: ${failure}` : ''}`
      this.report({...problem, severity: 'error', detail: `${problem.detail}; ${outcome}`, repaired})
    }
  }

  private closeCache(): void {
    const cache = this.cache
    this.cache = undefined
    cache?.close()
  }

  /** The database file's state; a damaged one is reported (and moved aside when repairing). */
  private inspect(): CacheState {
    const {cacheDir} = this.options
    const state = inspectCache(cacheDir)
    if (state.kind === 'damaged') {
      let detail = `${metaDbFile(cacheDir)}: ${state.detail}`
      if (this.repair) {
        detail += `; moved with the staging area to ${this.quarantine()}: a fresh cache is built at the next start`
        this.rebuilt = true
      }
      this.report({kind: 'cache-integrity', severity: 'error', path: metaDbFile(cacheDir), detail, repaired: this.repair})
      return this.repair ? {kind: 'absent'} : state
    }
    if (state.kind === 'outdated') {
      this.report({
        kind: 'cache-schema', severity: 'info', path: metaDbFile(cacheDir), repaired: this.repair,
        detail: `schema version ${state.version}${this.repair ? '; migrated' : '; the next zerofs to open it migrates it'}`,
      })
    }
    return state
  }

  private openCache(): CacheAccess {
    return this.repair ? openCacheAsOwner(this.options.cacheDir) : openCacheReadOnly(this.options.cacheDir)
  }

  /** Moves a damaged cache (database and staged data) into lost+found, under the owner lock. */
  private quarantine(): string {
    const {cacheDir} = this.options
    const lock = acquireOwnerLock(cacheDir)
    try {
      const folder = this.lostAndFound.folder('cache')
      for (const suffix of ['', '-wal', '-shm']) {
        const file = `${metaDbFile(cacheDir)}${suffix}`
        if (existsSync(file)) renameSync(file, join(folder, `meta.db${suffix}`))
      }
      const stagingDir = join(cacheDir, STAGING_DIR)
      if (existsSync(stagingDir)) {
        mkdirSync(join(folder, STAGING_DIR))
        for (const name of readdirSync(stagingDir)) renameSync(join(stagingDir, name), join(folder, STAGING_DIR, name))
      }
      return folder
    } finally {
      lock.release()
    }
  }

  /** The bucket walk, comparing each entry with the cache (if there is one) as it passes. */
  private async walk(cache: CacheAccess | undefined, startedAt: number): Promise<WalkCounts> {
    let comparison: CacheComparison | undefined
    if (cache) {
      CacheStructure.analyse(cache)
      comparison = new CacheComparison({cache, report: this.report, repairing: this.repair, startedAt, protectedInos: protectedInos(cache)})
    }
    const bucket = new BucketCheck({
      store: this.options.store,
      report: this.report,
      createMarkers: this.options.createMarkers ?? false,
      deep: this.options.deep ?? false,
      concurrency: this.options.concurrency ?? 16,
      onEntry: (entry) => comparison?.compare(entry),
      onMarkerCreated: (path) => {
        if (this.repair) comparison?.markerCreated(path)
      },
    })
    const counts = await bucket.run()
    comparison?.finishWalk()
    comparison?.reportMissing()
    return {...counts, compared: comparison?.compared ?? 0}
  }
}

interface WalkCounts extends BucketCounts {
  /** Cache entries compared with the bucket. */
  compared: number
}

/** Whether the database has the tables (schema version 0 is an empty file). */
function hasTables(state: CacheState): boolean {
  return state.kind === 'current' || (state.kind === 'outdated' && state.version > 0)
}

/** Staged inodes and their ancestors: what the cache holds locally is newer than the bucket there. */
function protectedInos(cache: CacheAccess): Set<Ino> {
  const result = new Set<Ino>()
  for (const ino of cache.staging.inos()) {
    for (const row of cache.inodes.ancestry(ino) ?? []) result.add(row.ino)
  }
  return result
}
