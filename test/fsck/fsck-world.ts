import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {META_DB_FILE} from '../../src/core/cache/cache-dir.js'
import {fsck, type FsckOptions} from '../../src/core/fsck/fsck.js'
import type {Problem, ProblemKind} from '../../src/core/fsck/problem.js'
import type {FsckSummary} from '../../src/core/fsck/summary.js'
import type {FsWorld} from '../core/fs-stores.js'
import type {WriterConfig, WriterScenario} from './writer-child.js'

export interface FsckResult {
  summary: FsckSummary
  problems: Problem[]
}

/** Runs fsck in this process over a world's store and cache. */
export async function runFsck(world: FsWorld, options: Partial<FsckOptions> = {}): Promise<FsckResult> {
  const problems: Problem[] = []
  const summary = await fsck({store: world.store, cacheDir: world.cacheDir, onProblem: (problem) => problems.push(problem), ...options})
  return {summary, problems}
}

export function ofKind(result: FsckResult, kind: ProblemKind): Problem[] {
  return result.problems.filter((problem) => problem.kind === kind)
}

/** Errors and warnings: what makes a run unclean. */
export function counting(result: FsckResult): Problem[] {
  return result.problems.filter((problem) => problem.severity !== 'info')
}

function describeProblems(result: FsckResult): string {
  return JSON.stringify(result.problems, null, 2)
}

/** A clean run: exit code 0 and no errors or warnings (info notes allowed). */
export function assertClean(result: FsckResult, message = 'a clean run'): void {
  assert.deepEqual(counting(result), [], `${message}: ${describeProblems(result)}`)
  assert.equal(result.summary.exitCode, 0, message)
}

/** Exactly these kinds among the errors and warnings (each at least once). */
export function assertKinds(result: FsckResult, kinds: ProblemKind[], message = 'problem kinds'): void {
  assert.deepEqual([...new Set(counting(result).map((problem) => problem.kind))].sort(), [...kinds].sort(), `${message}: ${describeProblems(result)}`)
}

/**
 * The life of a problem: a check finds exactly `kinds` (exit 4, nothing repaired), a repair
 * corrects them all (exit 1), and a second check is clean (exit 0). Returns the three results.
 */
export async function assertRepairCycle(world: FsWorld, kinds: ProblemKind[], options: Partial<FsckOptions> = {}): Promise<[FsckResult, FsckResult, FsckResult]> {
  const check = await runFsck(world, options)
  assertKinds(check, kinds, 'the check')
  assert.equal(check.summary.exitCode, 4, 'a check with problems exits 4')
  assert.ok(check.problems.every((problem) => !problem.repaired), 'a check repairs nothing')
  const repair = await runFsck(world, {...options, repair: true})
  assertKinds(repair, kinds, 'the repair')
  assert.ok(counting(repair).every((problem) => problem.repaired), `everything repaired: ${describeProblems(repair)}`)
  assert.equal(repair.summary.exitCode, 1, 'a repair that corrected everything exits 1')
  const again = await runFsck(world, options)
  assertClean(again, 'the run after the repair')
  return [check, repair, again]
}

/** Edits meta.db directly (the cache must be closed), as damage would. */
export function editCache<T>(world: FsWorld, edit: (db: Database.Database) => T): T {
  const db = new Database(join(world.cacheDir, META_DB_FILE))
  try {
    return edit(db)
  } finally {
    db.close()
  }
}

const childScript = fileURLToPath(new URL('writer-child.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

export interface Writer {
  pid: number
  /** What the child reported when it was ready. */
  report: Record<string, unknown>
  /** SIGKILL, as a crash. */
  kill(): Promise<void>
}

/** Starts a child that opens an Fs as the cache's owner, does `scenario` and waits to be killed. */
export async function startWriter(world: FsWorld, scenario: WriterScenario): Promise<Writer> {
  const config: WriterConfig = {store: world.location, cacheDir: world.cacheDir, scenario}
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', childScript, JSON.stringify(config)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  try {
    const report = await new Promise<Record<string, unknown>>((resolve, reject) => {
      createInterface({input: child.stdout!}).on('line', (line) => {
        const message = JSON.parse(line) as Record<string, unknown>
        if (message.ready) resolve(message)
      })
      child.once('exit', (code) => reject(new Error(`the writer exited with ${code} before it was ready`)))
    })
    return {pid: child.pid!, report, kill}
  } catch (error) {
    await kill()
    throw error
  }
}
