import PQueue from 'p-queue'

import {expectedDigest, type ContentReference} from './content.js'
import {compareDescriptions, type RecordedAttribute} from './description.js'
import {checkEndpoint, endpointLabel, uploadPairDescription} from './endpoint.js'
import {mergeByKey, type Paired} from './merge.js'
import {DEFAULT_JOBS} from './migrate-types.js'
import {Journal} from './journal.js'
import {PathFilter} from './path-filter.js'
import {TransferDatabase} from './transfer-db.js'
import {failureReason, isFatal} from './run-context.js'
import {treeSide, type SideDescription, type TreeSide} from './tree-side.js'
import type {TreeEntry, WalkProblem} from './tree-entry.js'
import type {Finding, VerifyMode, VerifyOptions, VerifyProgress, VerifyReport} from './verify-types.js'

/** Comparisons finished ahead of the one the output waits for, per job. */
const WINDOW_PER_JOB = 64

type ContentVerdict = {same: true} | {same: false; how: string} | {unverifiable: string}

interface Outcome {
  findings: Finding[]
  compared?: boolean
  skippedSpecial?: boolean
  notRecorded?: RecordedAttribute[]
  /** Set when the comparison hit a failure that ends the run; thrown in key order. */
  fatal?: unknown
}

/**
 * One run of `zerofs verify`: both trees are walked in key order and merged, each key present on
 * both sides is compared (`jobs` at a time, findings given out in key order), and nothing but the
 * comparisons in flight is held in memory, however large the trees.
 */
export class Verification {
  readonly progress: VerifyProgress = {entries: 0, bytesHashed: 0, findings: 0, startedAt: 0}
  /** Called once both sides are known to be usable and the comparison starts. */
  onCompare?: () => void
  private readonly mode: VerifyMode
  private readonly jobs: number
  private readonly source: TreeSide
  private readonly destination: TreeSide
  private readonly report: VerifyReport
  /** Walk problems wait here until the next finding is given out. */
  private problems: Finding[] = []
  private readonly journalDb?: TransferDatabase

  constructor(private readonly options: VerifyOptions) {
    this.mode = options.mode ?? 'fast'
    this.jobs = Math.max(1, options.jobs ?? DEFAULT_JOBS)
    this.journalDb = options.journalDir !== undefined && options.source.kind === 'local' && options.destination.kind === 'store'
      ? TransferDatabase.openExisting(options.journalDir)
      : undefined
    const pair = this.journalDb?.pairId(uploadPairDescription(options.source, options.destination))
    this.source = treeSide(options.source)
    this.destination = treeSide(options.destination, pair === undefined ? undefined : new Journal(this.journalDb!.db, pair))
    this.report = {
      source: endpointLabel(options.source),
      destination: endpointLabel(options.destination),
      mode: this.mode,
      oneWay: options.oneWay ?? false,
      compared: 0,
      identical: 0,
      onlyInSource: 0,
      onlyInDestination: 0,
      differing: 0,
      errors: 0,
      unverifiable: 0,
      skippedSpecial: 0,
      notRecorded: {mtime: 0, mode: 0, uid: 0, gid: 0},
      bytesHashed: 0,
      fromJournal: 0,
      elapsedMs: 0,
      identicalTrees: false,
    }
  }

  /** Fails before comparing anything when a side is missing or unreachable (StoreError or TransferError). */
  async run(): Promise<VerifyReport> {
    try {
      return await this.compareTrees()
    } finally {
      this.journalDb?.close()
      await Promise.all([this.source.close(), this.destination.close()])
    }
  }

  private async compareTrees(): Promise<VerifyReport> {
    this.progress.startedAt = Date.now()
    if (this.mode !== 'fast') {
      // Local files start hashing as their walk finds them, with SHA-256 (what zerofs records) until
      // a store's reference asks for MD5 (see compareContent). Asked before the checks, so that the
      // hashing threads start while the stores answer.
      for (const side of [this.source, this.destination]) side.hashAhead?.('sha256')
    }
    await Promise.all([checkEndpoint(this.options.source, this.options.signal), checkEndpoint(this.options.destination, this.options.signal)])
    const filter = new PathFilter(this.options.filter)
    this.onCompare?.()
    const signal = this.options.signal
    const pairs = mergeByKey(
      this.source.walk(filter, (problem) => this.problem(problem, 'source'), signal),
      this.destination.walk(filter, (problem) => this.problem(problem, 'destination'), signal),
      {left: this.source.label, right: this.destination.label},
    )
    const queue = new PQueue({concurrency: this.jobs})
    const window: Array<Promise<Outcome>> = []
    try {
      for await (const pair of pairs) {
        this.progress.entries++
        window.push(queue.add(() => this.comparePair(pair)))
        if (window.length >= this.jobs * WINDOW_PER_JOB) await this.settle(await window.shift()!)
        await this.emitProblems()
      }
      while (window.length > 0) await this.settle(await window.shift()!)
      await this.emitProblems()
    } finally {
      // After a failure, nothing more is started, and nothing started outlives the run.
      queue.clear()
      await queue.onIdle()
    }
    const report = this.report
    report.bytesHashed = this.progress.bytesHashed
    report.fromJournal = this.destination.journalHits
    report.elapsedMs = Date.now() - this.progress.startedAt
    report.identicalTrees = report.onlyInSource === 0 && report.onlyInDestination === 0 && report.differing === 0
      && report.errors === 0 && report.unverifiable === 0
    return report
  }

  /** Never rejects: a failure becomes an error finding, or a fatal outcome thrown in order. */
  private async comparePair(pair: Paired<TreeEntry, TreeEntry>): Promise<Outcome> {
    const path = pair.key
    try {
      const {left, right} = pair
      if (right === undefined) {
        if (left!.side === 'local' && isSpecial(left!.stats.type)) return {findings: [], skippedSpecial: true}
        return {findings: [{kind: 'only-in-source', path}]}
      }
      if (left === undefined) return {findings: this.options.oneWay ? [] : [{kind: 'only-in-destination', path}]}
      const [source, destination] = await Promise.all([
        this.source.describe(left, this.options.signal),
        this.destination.describe(right, this.options.signal),
      ])
      if (source === undefined || destination === undefined) {
        const label = source === undefined ? this.source.label : this.destination.label
        return {findings: [{kind: 'error', path, reason: `it vanished from ${label} during the comparison`}], compared: true}
      }
      if (isSpecial(source.description.type)) return {findings: [], skippedSpecial: true}
      const comparison = compareDescriptions(source.description, destination.description)
      const outcome: Outcome = {findings: [], compared: true, notRecorded: comparison.notRecorded}
      const differences = [...comparison.differences]
      if (differences.length === 0 && source.description.type === 'file' && this.mode !== 'fast') {
        const verdict = await this.compareContent(left, source, right, destination)
        if ('unverifiable' in verdict) outcome.findings.push({kind: 'unverifiable', path, reason: verdict.unverifiable})
        else if (!verdict.same) differences.push(`content differs (${verdict.how})`)
      }
      if (differences.length > 0) outcome.findings.push({kind: 'differs', path, differences})
      return outcome
    } catch (error) {
      if (isFatal(error)) return {findings: [], fatal: error}
      return {findings: [{kind: 'error', path, reason: failureReason(error)}], compared: true}
    } finally {
      if (pair.left) this.source.forget(pair.left)
      if (pair.right) this.destination.forget(pair.right)
    }
  }

  /**
   * checksum: the store's own checksum against the same digest of the local bytes (or two stores'
   * checksums against each other); deep: both contents read and hashed with SHA-256.
   */
  private async compareContent(left: TreeEntry, source: SideDescription, right: TreeEntry, destination: SideDescription): Promise<ContentVerdict> {
    if (this.mode === 'deep' || (this.source.kind === 'local' && this.destination.kind === 'local')) {
      const [a, b] = await Promise.all([this.hash(this.source, left, {kind: 'sha256'}), this.hash(this.destination, right, {kind: 'sha256'})])
      return a === b ? {same: true} : {same: false, how: 'SHA-256 of both contents'}
    }
    if (this.source.kind === 'local' || this.destination.kind === 'local') {
      const [local, localEntry, stored] = this.source.kind === 'local' ? [this.source, left, destination] : [this.destination, right, source]
      const reference = stored.reference
      if (reference === undefined) return {unverifiable: stored.missingReference ?? 'no checksum recorded'}
      // The next files are likely to have been written by the same tool, with the same kind of checksum.
      if (reference.kind !== 'multipart') local.hashAhead?.(reference.kind)
      const digest = await this.hash(local, localEntry, reference)
      return digest === expectedDigest(reference) ? {same: true} : {same: false, how: `local bytes against the ${reference.source}`}
    }
    const [a, b] = [source.reference, destination.reference]
    if (a === undefined || b === undefined || !comparable(a, b)) {
      return {unverifiable: 'the two stores hold no checksum of the same kind (use --mode deep)'}
    }
    return expectedDigest(a) === expectedDigest(b) ? {same: true} : {same: false, how: `${a.source} against ${b.source}`}
  }

  private async hash(side: TreeSide, entry: TreeEntry, reference: ContentReference | {kind: 'sha256'}): Promise<string> {
    const {digest, bytes} = await side.digest(entry, reference, this.options.signal)
    this.progress.bytesHashed += bytes
    return digest
  }

  private async settle(outcome: Outcome): Promise<void> {
    if (outcome.fatal !== undefined) throw outcome.fatal
    const report = this.report
    if (outcome.compared) report.compared++
    if (outcome.skippedSpecial) report.skippedSpecial++
    for (const attribute of outcome.notRecorded ?? []) report.notRecorded[attribute]++
    if (outcome.compared && outcome.findings.length === 0) report.identical++
    for (const finding of outcome.findings) await this.emit(finding)
  }

  private async emit(finding: Finding): Promise<void> {
    const report = this.report
    switch (finding.kind) {
      case 'only-in-source': report.onlyInSource++; break
      case 'only-in-destination': report.onlyInDestination++; break
      case 'differs': report.differing++; break
      case 'error': report.errors++; break
      case 'unverifiable': report.unverifiable++; break
    }
    this.progress.findings++
    await this.options.onFinding?.(finding)
  }

  private problem(problem: WalkProblem, side: 'source' | 'destination'): void {
    if (side === 'destination' && problem.kind === 'invalid-name') {
      if (!this.options.oneWay) this.problems.push({kind: 'only-in-destination', path: problem.path, reason: problem.reason})
      return
    }
    this.problems.push({kind: 'error', path: problem.path, reason: `${problem.reason} (in ${side === 'source' ? this.source.label : this.destination.label})`})
  }

  private async emitProblems(): Promise<void> {
    const problems = this.problems
    this.problems = []
    for (const finding of problems) await this.emit(finding)
  }
}

function isSpecial(type: string): boolean {
  return type === 'fifo' || type === 'socket' || type === 'chardev' || type === 'blockdev'
}

function comparable(a: ContentReference, b: ContentReference): boolean {
  if (a.kind !== b.kind) return false
  return a.kind !== 'multipart' || (b.kind === 'multipart' && a.partSize === b.partSize)
}
