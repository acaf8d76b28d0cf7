import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {progressMode, withProgress, type ProgressStatus} from '../cli/progress.js'
import {checkedFilter, Endpoints, usageErrorsOf} from '../cli/transfer-endpoints.js'
import {defaultCacheDir} from '../core/cache/cache-dir.js'
import {parseByteRate, parseByteSize} from '../core/transfer/byte-size.js'
import {DEFAULT_JOBS, type MigratePhase, type MigrateReport} from '../core/transfer/migrate-types.js'
import {Migration} from '../core/transfer/migration.js'
import type {Note, NoteKind} from '../core/transfer/notes.js'
import {formatBytes, migrateSummary} from '../core/transfer/summary.js'

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
