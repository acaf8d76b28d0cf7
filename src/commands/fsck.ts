import {Args, Errors, Flags, type Interfaces} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {parseDuration} from '../core/fsck/duration.js'
import {fsck} from '../core/fsck/fsck.js'
import {PROBLEM_KINDS, type Problem} from '../core/fsck/problem.js'
import {ProblemSpool, type KindGroup} from '../core/fsck/problem-spool.js'
import {FSCK_EXIT, type FsckSummary} from '../core/fsck/summary.js'
import type {LogFields, Logger} from '../core/logger.js'

export default class Fsck extends BaseCommand {
  static override summary = 'Check a store, its metadata cache and its staging area; --repair corrects what zerofs owns.'
  static override description = `Checks, each a named problem kind (--json gives the names):
- cache: SQLite integrity and schema version, entries whose parent is missing, cycles, interrupted directory \
renames (a directory under two names), entries that disagree with the bucket (missing object; size, ETag or \
modification time differ), cached listings that miss entries of the bucket.
- staging: acknowledged writes not yet in the bucket, data files with no journal entry, journal entries with no \
data file or no place in the cache.
- bucket: keys that cannot be POSIX paths, a file and a directory with the same name, attribute metadata that does \
not parse, symlinks with an empty target, implicit directories (a note), incomplete multipart uploads older than \
--older-than.

--repair changes only zerofs's own state: the cache, the staging area (staged data is uploaded through the recovery \
serve runs at start; data files nothing describes are moved to lost+found in the cache directory, never deleted) and \
stale multipart uploads (aborted). It never deletes or rewrites a user's object: those problems stay reported, with \
advice. --create-markers writes marker objects for implicit directories. A check without --repair runs beside a \
zerofs serve of the same store; --repair refuses to and names the server's PID.

Attribute metadata is read (one HEAD per object) only for zero-byte objects and directory markers, so that a check \
costs about one listing of the bucket; --deep reads it for every object.

Nothing is printed when nothing is wrong (notes do not count), so cron mails only when something is; otherwise the \
problems are printed grouped by kind, then a summary line. -v prints the notes and the summary line always.

Exit codes, as e2fsck's:
  0   no problems
  1   problems found, all corrected
  4   problems left
  8   operational error: store unreachable, cache unreadable, --repair beside a running server
  16  usage error`

  static override examples = [
    {description: 'Check a bucket (quiet when clean).', command: '<%= config.bin %> <%= command.id %> s3://photos --endpoint http://127.0.0.1:9000'},
    {description: 'Check and repair the embedded default store, with a report of everything found.', command: '<%= config.bin %> <%= command.id %> --repair -v'},
    {description: 'Nightly from cron: repair, abort uploads older than two days.', command: '<%= config.bin %> <%= command.id %> s3://backups --repair --older-than 48h'},
    {description: 'Give implicit directories marker objects.', command: '<%= config.bin %> <%= command.id %> s3://imported --create-markers'},
    {description: 'A report for a script.', command: '<%= config.bin %> <%= command.id %> /srv/zerofs/projects --json | jq \'.summary\''},
  ]

  static override enableJsonFlag = true

  static override args = {
    store: Args.string({description: 's3://BUCKET, file:///DIR or a local store directory. Default: the embedded store.'}),
  }

  static override flags = {
    repair: Flags.boolean({summary: 'Correct what zerofs owns: the cache, the staging area, stale multipart uploads.'}),
    'older-than': Flags.string({
      default: '24h',
      summary: 'Incomplete multipart uploads started longer ago than this are stale.',
      helpValue: 'DURATION',
    }),
    'create-markers': Flags.boolean({summary: 'Write a marker object for every implicit directory.'}),
    deep: Flags.boolean({summary: 'Read the attribute metadata of every object (one HEAD each; slower).'}),
    verbose: Flags.boolean({char: 'v', summary: 'Also print info notes, what was checked, and the summary of a clean run.'}),
  }

  /** Store unreachable, cache unreadable, refused: fsck could not do its job (e2fsck's 8). */
  static override errorExitCode = FSCK_EXIT.operational

  static override takesWholeStore = true

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Fsck)
    const olderThanMs = this.durationFlag(flags['older-than'])
    const {store, located} = await this.openStore(args.store, flags)
    if (located.path !== '/') {
      this.error(`fsck checks a whole store: give ${located.store}, not a path inside it (${located.path})`, {exit: FSCK_EXIT.usage})
    }
    const cacheDir = this.cacheDir(located, flags)
    const spool = new ProblemSpool()
    try {
      const summary = await fsck({
        store,
        cacheDir,
        repair: flags.repair,
        createMarkers: flags['create-markers'],
        deep: flags.deep,
        olderThanMs,
        logger: this.stderrLogger(flags.verbose),
        onProblem: (problem) => spool.add(problem),
      })
      if (this.jsonEnabled()) await this.writeJson(spool, summary)
      else if (flags.verbose || summary.exitCode !== FSCK_EXIT.clean) await this.writeText(spool, summary, flags.verbose)
      process.exitCode = summary.exitCode
    } finally {
      spool.close()
    }
  }

  /** oclif's usage errors exit 2, which e2fsck's table reads as "corrected": fsck's usage errors exit 16. */
  protected override async catch(error: Interfaces.CommandError): Promise<unknown> {
    if (error instanceof Errors.CLIError && !(error instanceof Errors.ExitError) && (error.oclif.exit ?? 2) === 2) {
      error.oclif.exit = FSCK_EXIT.usage
    }
    return super.catch(error)
  }

  private durationFlag(text: string): number {
    try {
      return parseDuration(text)
    } catch (error) {
      return this.error(`--older-than: ${(error as Error).message}`, {exit: FSCK_EXIT.usage})
    }
  }

  /** `{"problems": [...], "summary": {...}}`, written problem by problem. */
  private async writeJson(spool: ProblemSpool, summary: FsckSummary): Promise<void> {
    let first = true
    let chunk = '{"problems": ['
    for (const problem of spool.all()) {
      chunk += `${first ? '\n  ' : ',\n  '}${JSON.stringify(problem)}`
      first = false
      if (chunk.length > 64 * 1024) {
        await this.output(chunk)
        chunk = ''
      }
    }
    await this.output(`${chunk}${first ? '' : '\n'}], "summary": ${JSON.stringify(summary)}}\n`)
  }

  /** Problems grouped by kind (info notes only with -v), advice where some are left, then the summary. */
  private async writeText(spool: ProblemSpool, summary: FsckSummary, verbose: boolean): Promise<void> {
    for (const group of spool.groups({includeInfo: verbose})) {
      const info = PROBLEM_KINDS[group.kind]
      await this.output(`${group.kind}: ${info.title} (${countText(group)})\n`)
      let chunk = ''
      for (const problem of spool.ofKind(group.kind, {includeInfo: verbose})) {
        chunk += `  ${where(problem)}: ${problem.detail}${problem.repaired ? ' [repaired]' : ''}\n`
        if (chunk.length > 64 * 1024) {
          await this.output(chunk)
          chunk = ''
        }
      }
      if (group.counting > group.repaired) chunk += `  advice: ${info.advice}\n`
      await this.output(`${chunk}\n`)
    }
    await this.output(`${summaryLine(summary, verbose)}\n`)
  }

  /** The core's log (recovery, uploads) on stderr with -v; silent otherwise. */
  private stderrLogger(verbose: boolean): Logger {
    const line = (level: string) => (message: string, fields?: LogFields): void => {
      if (!verbose) return
      const details = fields === undefined ? '' : ` ${JSON.stringify(fields, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}`
      process.stderr.write(`${this.config.bin} ${this.id}: ${level}: ${message}${details}\n`)
    }
    return {debug: () => undefined, info: line('info'), warn: line('warn'), error: line('error')}
  }
}

/** A key as it can be read: JSON-quoted when it has control characters or spaces at its ends. */
function where(problem: Problem): string {
  const text = problem.key ?? problem.path ?? ''
  return /[\u0000-\u001f\u007f]|^\s|\s$/.test(text) || text === '' ? JSON.stringify(text) : text
}

function countText(group: KindGroup): string {
  const found = counted(group.count, group.severity === 'info' ? 'note' : group.severity)
  return group.repaired > 0 ? `${found}, ${group.repaired} repaired` : found
}

function summaryLine(summary: FsckSummary, verbose: boolean): string {
  const checked = [counted(summary.objects, 'object'), counted(summary.directories, 'directory', 'directories')]
  checked.push(summary.cache === 'absent' ? 'no cache' : counted(summary.cacheEntries, 'cache entry', 'cache entries'))
  if (summary.staged > 0) checked.push(counted(summary.staged, 'staged file'))
  const problems = summary.errors + summary.warnings
  const found = problems === 0
    ? 'no problems'
    : `${counted(problems, 'problem')} (${counted(summary.errors, 'error')}, ${counted(summary.warnings, 'warning')})`
      + `: ${(problems - summary.left).toLocaleString('en-US')} repaired, ${summary.left.toLocaleString('en-US')} left`
  const notes = summary.infos > 0 && verbose ? `; ${counted(summary.infos, 'note')}` : ''
  return `${summary.store}: ${checked.join(', ')}; ${found}${notes}`
}

/** `1 object`, `2,500 objects`. */
function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : plural}`
}
