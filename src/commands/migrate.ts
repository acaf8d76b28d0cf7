import {Args, type Command, Flags} from '@oclif/core'
import cliProgress from 'cli-progress'
import {Listr} from 'listr2'
import {resolve} from 'node:path'
import {Writable} from 'node:stream'

import {defaultCacheDir} from '../core/cache/cache-dir.js'
import type {ObjectStore} from '../core/store/object-store.js'
import {openStore, type StoreOptions} from '../core/store/open-store.js'
import {parseByteRate, parseByteSize} from '../core/transfer/byte-size.js'
import type {Endpoint} from '../core/transfer/endpoint.js'
import {isTransferError} from '../core/transfer/errors.js'
import {GlobSyntaxError} from '../core/transfer/glob.js'
import {DEFAULT_JOBS, type MigratePhase, type MigrateReport} from '../core/transfer/migrate-types.js'
import {Migration} from '../core/transfer/migration.js'
import type {Note, NoteKind} from '../core/transfer/notes.js'
import {PathFilter, type FilterRules} from '../core/transfer/path-filter.js'
import {formatBytes, formatDuration, migrateSummary} from '../core/transfer/summary.js'
import {BaseCommand, storeOptions, type BaseFlags} from '../cli/base-command.js'

export interface MigrateResult extends MigrateReport {
  /** Entries that could not be copied, with the reason. */
  failedEntries: Array<{path: string; reason: string}>
  /** Names that cannot be stored. */
  invalidNames: Array<{path: string; reason: string}>
  /** Sockets, FIFOs and devices left out. */
  specialFiles: Array<{path: string; reason: string}>
  /** Names of one file, per file with several hard links. */
  hardLinkGroups: string[][]
  /** Dry runs: what would be done. */
  planned: Array<{action: 'copy' | 'update' | 'delete'; path: string; detail: string}>
}

export default class Migrate extends BaseCommand {
  static override summary = 'Copy a directory tree into a store with its attributes, resumably (or a store back into a directory).'
  static override description = `SRC is a local directory and DST a store (s3://BUCKET[/PREFIX] or file:///DIR), or, to restore, \
SRC a store and DST a local directory. Files keep their bytes (SHA-256 in x-amz-meta-sha256), mode, uid, gid and mtime \
(s3fs metadata, as serve writes them); symlinks become symlink objects and are never followed; every directory, empty or \
not, becomes a marker object with its own attributes. Sockets, FIFOs and devices are skipped and listed; a file with several \
hard links is copied once per name and listed.

Unchanged entries (same size and mtime, or with --checksum the same SHA-256) are skipped, so running the same command again \
copies only what changed. A journal in the cache directory records finished entries: after an interruption (kill -9, network \
failure) the same command continues without copying them again.

Exit codes: 0 everything copied; 1 some entries failed or have names that cannot be stored (listed, the rest was copied); \
2 nothing was done: a missing bucket, refused credentials, an unreachable endpoint, or bad arguments.`

  static override examples = [
    {description: 'Move a NAS share into a bucket.', command: '<%= config.bin %> <%= command.id %> /mnt/nas/projects s3://archive/projects'},
    {description: 'The same against MinIO, 32 files at a time, at most 20 MiB/s.', command: '<%= config.bin %> <%= command.id %> /mnt/nas/projects s3://archive/projects --endpoint http://minio:9000 --jobs 32 --bwlimit 20M'},
    {description: 'See what a mirror would change, leaving out caches.', command: '<%= config.bin %> <%= command.id %> /srv/www s3://sites/www --delete --exclude "*.tmp" --exclude "cache/" --dry-run'},
    {description: 'Restore a tree, attributes included, from a bucket.', command: '<%= config.bin %> <%= command.id %> s3://archive/projects /srv/restored'},
    {description: 'A machine-readable report for a script.', command: '<%= config.bin %> <%= command.id %> /data s3://backup/data --json --no-progress'},
  ]

  static override enableJsonFlag = true

  static override args = {
    source: Args.string({required: true, description: 'A local directory, or a store to restore from (s3://BUCKET[/PREFIX], file:///DIR).'}),
    destination: Args.string({required: true, description: 'A store (s3://BUCKET[/PREFIX], file:///DIR), or a local directory to restore into.'}),
  }

  static override flags = {
    jobs: Flags.integer({char: 'j', min: 1, default: DEFAULT_JOBS, summary: 'Entries copied at once.'}),
    'part-size': Flags.string({summary: 'Multipart part size; files up to it go in one PUT with Content-MD5 (e.g. 8M, 64MiB).', default: '8M', helpValue: 'SIZE'}),
    checksum: Flags.boolean({summary: 'Decide "unchanged" by SHA-256 of the content instead of size and mtime (reads every file).'}),
    delete: Flags.boolean({summary: 'Remove from DST what SRC does not have (not done when an entry failed).'}),
    'dry-run': Flags.boolean({char: 'n', summary: 'Show what would be copied, updated and deleted; change nothing.'}),
    exclude: Flags.string({multiple: true, summary: 'Leave out paths matching GLOB (repeatable; "dir/" matches directories, "/x" only at the top).', helpValue: 'GLOB'}),
    include: Flags.string({multiple: true, summary: 'Copy only files matching GLOB (repeatable; directories are still walked).', helpValue: 'GLOB'}),
    bwlimit: Flags.string({summary: 'Average transfer rate limit over all jobs, e.g. 10M (MiB/s), 500K, 2MB/s.', helpValue: 'RATE'}),
    progress: Flags.boolean({default: true, allowNo: true, summary: 'Show progress (a bar on a terminal, a status line every 10 s otherwise).'}),
  }

  private readonly endpoints = new Endpoints()

  async run(): Promise<MigrateResult> {
    const {args, flags} = await this.parse(Migrate)
    const source = await this.endpoints.open(args.source, flags)
    const destination = await this.endpoints.open(args.destination, flags)
    const store = source.kind === 'store' ? source.store : destination.kind === 'store' ? destination.store : undefined
    const migration = await usageErrorsOf(this, async () => Migration.open({
      source,
      destination,
      cacheDir: flags['cache-dir'] ?? defaultCacheDir(store?.url ?? ''),
      jobs: flags.jobs,
      partSize: parseByteSize(flags['part-size'], 'part size'),
      checksum: flags.checksum,
      delete: flags.delete,
      dryRun: flags['dry-run'],
      filter: checkedFilter({exclude: flags.exclude, include: flags.include}),
      bytesPerSecond: flags.bwlimit === undefined ? undefined : parseByteRate(flags.bwlimit),
    }))
    try {
      const report = await withProgress<MigrateReport, MigratePhase>({
        mode: progressMode(flags.progress && !this.jsonEnabled()),
        command: this.id ?? 'migrate',
        phases: [{id: 'scan', title: 'Scan'}, {id: 'copy', title: 'Copy'}, {id: 'finish', title: 'Finish'}],
        status: (phase) => migrateStatus(migration, phase),
        work: (enter) => {
          migration.onPhase = enter
          return migration.run()
        },
      })
      const result = await this.present(migration, report)
      if (report.failed > 0 || report.invalid > 0) process.exitCode = 1
      return result
    } finally {
      migration.close()
    }
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    await this.endpoints.close()
    return super.finally(error)
  }

  /** Lists the notes (text) or gathers them (JSON), then the summary line. */
  private async present(migration: Migration, report: MigrateReport): Promise<MigrateResult> {
    const json = this.jsonEnabled()
    const result: MigrateResult = {...report, failedEntries: [], invalidNames: [], specialFiles: [], hardLinkGroups: [], planned: []}
    const each = async (kind: NoteKind, text: (note: Note) => string, gather: (note: Note) => void): Promise<void> => {
      for (const note of migration.notes(kind)) {
        if (json) gather(note)
        else await this.output(`${text(note)}\n`)
      }
    }
    const entry = (note: Note): {path: string; reason: string} => ({path: note.path, reason: note.reason})
    await each('would-copy', (note) => `would copy ${note.path} (${note.reason})`, (note) => result.planned.push({action: 'copy', path: note.path, detail: note.reason}))
    await each('would-update', (note) => `would update ${note.path} (${note.reason})`, (note) => result.planned.push({action: 'update', path: note.path, detail: note.reason}))
    await each('would-delete', (note) => `would delete ${note.path}`, (note) => result.planned.push({action: 'delete', path: note.path, detail: note.reason}))
    await each('special', (note) => `skipped ${note.path} (${note.reason})`, (note) => result.specialFiles.push(entry(note)))
    await this.presentHardLinks(migration, result)
    await each('invalid', (note) => `invalid ${note.path} (${note.reason})`, (note) => result.invalidNames.push(entry(note)))
    await each('failed', (note) => `failed ${note.path} (${note.reason})`, (note) => result.failedEntries.push(entry(note)))
    for (const warning of report.warnings) process.stderr.write(`${this.config.bin} ${this.id}: warning: ${warning}\n`)
    this.log(migrateSummary(report))
    return result
  }

  /** Names of one file on one line: `hard links: a/x = b/y (2 links, each name copied)`. */
  private async presentHardLinks(migration: Migration, result: MigrateResult): Promise<void> {
    let group: Note[] = []
    const flush = async (): Promise<void> => {
      if (group.length === 0) return
      if (this.jsonEnabled()) result.hardLinkGroups.push(group.map((note) => note.path))
      else await this.output(`hard links: ${group.map((note) => note.path).join(' = ')} (${group[0].reason}, each name copied)\n`)
      group = []
    }
    for (const note of migration.notes('hard-link')) {
      if (group.length > 0 && group[0].group !== note.group) await flush()
      group.push(note)
    }
    await flush()
  }
}

/**
 * Input the user can correct (a bad size, rate or glob, two local directories, a source that is no
 * directory) ends as oclif's usage errors do: `Error: …` on stderr, exit 2, no stack.
 */
export async function usageErrorsOf<T>(command: Command, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof RangeError || error instanceof GlobSyntaxError || isTransferError(error, 'Usage')) command.error(error.message, {exit: 2})
    throw error
  }
}

/** The filter rules, once their globs are known to compile. */
export function checkedFilter(rules: FilterRules): FilterRules {
  void new PathFilter(rules)
  return rules
}

/**
 * The SRC and DST of migrate and verify: a URL (s3://, file://) names a store, opened with the
 * store flags; anything else is a local directory tree. Stores are closed by `close()`.
 */
export class Endpoints {
  private stores: ObjectStore[] = []

  async open(location: string, flags: BaseFlags & {jobs: number}): Promise<Endpoint> {
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(location)) return {kind: 'local', dir: resolve(location)}
    const store = await openStore(location, storeOptionsOf(flags))
    this.stores.push(store)
    return {kind: 'store', store}
  }

  async close(): Promise<void> {
    const stores = this.stores
    this.stores = []
    await Promise.allSettled(stores.map((store) => store.close()))
  }
}

/** The store flags as the core takes them, with sockets enough for every job's parts. */
function storeOptionsOf(flags: BaseFlags & {jobs: number}): StoreOptions {
  return {...storeOptions(flags), maxSockets: Math.max(64, flags.jobs * 4)}
}

function migrateStatus(migration: Migration, phase: MigratePhase): ProgressStatus {
  const {progress} = migration
  if (phase === 'scan') return {text: `${progress.scanned.toLocaleString('en-US')} entries compared`}
  if (phase === 'finish') return {text: 'setting directory attributes, deleting, cleaning up'}
  const {done, total} = progress
  return {
    text: `${done.items.toLocaleString('en-US')}/${total.items.toLocaleString('en-US')} entries, ${formatBytes(done.bytes)}/${formatBytes(total.bytes)}`,
    bar: {value: done.bytes, total: total.bytes, items: `${done.items}/${total.items} entries`},
  }
}

// ── progress display (shared with verify) ──────────────────────────────────────────────────────

export type ProgressMode = 'tty' | 'lines' | 'off'

export interface ProgressStatus {
  /** One line: what the phase has done so far. */
  text: string
  /** Bytes done of a known total: shown as a bar with rate and ETA on a terminal. */
  bar?: {value: number; total: number; items: string}
}

export interface ProgressOptions<Result, Phase extends string> {
  mode: ProgressMode
  /** Prefix of status lines: the command id. */
  command: string
  phases: ReadonlyArray<{id: Phase; title: string}>
  status: (phase: Phase) => ProgressStatus
  /** The work; it calls `enter` as each phase starts. */
  work: (enter: (phase: Phase) => void) => Promise<Result>
}

/** Status lines on a pipe or in a log: one per phase start, then one every this many ms. */
const STATUS_INTERVAL_MS = 10_000
const REFRESH_MS = 200

export function progressMode(enabled: boolean): ProgressMode {
  if (!enabled) return 'off'
  return process.stdout.isTTY && process.stderr.isTTY ? 'tty' : 'lines'
}

/**
 * Shows the phases of a long command while it runs: on a terminal, listr2 tasks (one per phase)
 * whose output line is the status, with a cli-progress bar of bytes (rate, ETA) where the phase
 * knows its total; elsewhere, a status line on stderr at each phase start and every 10 s.
 */
export async function withProgress<Result, Phase extends string>(options: ProgressOptions<Result, Phase>): Promise<Result> {
  if (options.mode === 'off') return options.work(() => undefined)
  if (options.mode === 'lines') return withStatusLines(options)
  return withTaskList(options)
}

async function withStatusLines<Result, Phase extends string>(options: ProgressOptions<Result, Phase>): Promise<Result> {
  let current: Phase | undefined
  const print = (): void => {
    if (current === undefined) return
    const title = options.phases.find((phase) => phase.id === current)?.title ?? current
    process.stderr.write(`${options.command}: ${title.toLowerCase()}: ${statusLine(options.status(current), startedAt)}\n`)
  }
  const startedAt = Date.now()
  const timer = setInterval(print, STATUS_INTERVAL_MS)
  try {
    return await options.work((phase) => {
      current = phase
      print()
    })
  } finally {
    clearInterval(timer)
  }
}

async function withTaskList<Result, Phase extends string>(options: ProgressOptions<Result, Phase>): Promise<Result> {
  const phases = new PhaseSignals(options.phases.map((phase) => phase.id))
  const list = new Listr(options.phases.map((phase, index) => ({
    title: phase.title,
    task: async (_context: unknown, task: {output: string}) => {
      await phases.entered(index)
      const bar = new ByteBar()
      const refresh = (): void => {
        const status = options.status(phase.id)
        task.output = status.bar === undefined ? status.text : bar.line(status.bar)
      }
      refresh()
      const timer = setInterval(refresh, REFRESH_MS)
      try {
        await phases.ended(index)
      } finally {
        clearInterval(timer)
        bar.stop()
      }
    },
  })), {exitOnError: true, rendererOptions: {collapseErrors: false}})
  const work = options.work((phase) => phases.enter(options.phases.findIndex((candidate) => candidate.id === phase)))
  work.then(() => phases.finish(), (error: unknown) => phases.fail(error))
  const [result] = await Promise.allSettled([work, list.run()])
  if (result.status === 'rejected') throw result.reason
  return result.value
}

function statusLine(status: ProgressStatus, startedAt: number): string {
  const bar = status.bar
  if (bar === undefined || bar.value === 0) return status.text
  const elapsed = (Date.now() - startedAt) / 1000
  const rate = bar.value / Math.max(elapsed, 0.001)
  const eta = rate > 0 ? formatDuration(((bar.total - bar.value) / rate) * 1000) : '?'
  return `${status.text}, ${formatBytes(rate)}/s, ETA ${eta}`
}

/** Promises for "phase i has started" and "phase i is over", driven by the work's `enter` calls. */
class PhaseSignals {
  private readonly started: Array<Deferred>
  private readonly over: Array<Deferred>
  private current = -1

  constructor(ids: readonly string[]) {
    this.started = ids.map(() => deferred())
    this.over = ids.map(() => deferred())
  }

  entered(index: number): Promise<void> {
    return this.started[index].promise
  }

  ended(index: number): Promise<void> {
    return this.over[index].promise
  }

  enter(index: number): void {
    for (let phase = Math.max(this.current, 0); phase < index; phase++) this.over[phase].resolve()
    for (let phase = this.current + 1; phase <= index; phase++) this.started[phase].resolve()
    this.current = Math.max(this.current, index)
  }

  finish(): void {
    for (const signal of [...this.started, ...this.over]) signal.resolve()
  }

  fail(error: unknown): void {
    const failing = Math.max(this.current, 0)
    this.started[failing].resolve()
    this.over[failing].reject(error)
    // Later phases never start: listr2 stops at the failed one.
  }
}

interface Deferred {
  promise: Promise<void>
  resolve(): void
  reject(error: unknown): void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise
    reject = rejectPromise
  })
  promise.catch(() => undefined)
  return {promise, resolve, reject}
}

/**
 * A cli-progress bar rendered into a string (listr2 owns the terminal): the bar draws into a sink
 * in its non-terminal mode and the last line it drew is shown as the task's output.
 */
class ByteBar {
  private bar?: cliProgress.SingleBar
  private drawn = ''
  private readonly startedAt = Date.now()

  line(status: {value: number; total: number; items: string}): string {
    const rate = status.value / Math.max((Date.now() - this.startedAt) / 1000, 0.001)
    const payload = {items: status.items, done: formatBytes(status.value), all: formatBytes(status.total), rate: `${formatBytes(rate)}/s`}
    if (this.bar === undefined) {
      const sink = new Writable({
        write: (chunk: Buffer, _encoding, callback) => {
          const text = chunk.toString('utf8')
          if (text.trim() !== '') this.drawn = text
          callback()
        },
      })
      this.bar = new cliProgress.SingleBar({
        stream: sink as unknown as NodeJS.WritableStream,
        noTTYOutput: true,
        notTTYSchedule: REFRESH_MS / 2,
        format: '{bar} {percentage}% | {items} | {done}/{all} | {rate} | ETA {eta_formatted}',
        etaBuffer: 50,
        hideCursor: null,
        gracefulExit: false,
      }, cliProgress.Presets.shades_classic)
      this.bar.start(status.total, status.value, payload)
    } else {
      this.bar.setTotal(status.total)
      this.bar.update(status.value, payload)
    }
    return this.drawn
  }

  stop(): void {
    this.bar?.stop()
  }
}
