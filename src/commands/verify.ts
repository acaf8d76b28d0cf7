import {Args, Flags} from '@oclif/core'
import {createReadStream, createWriteStream, type WriteStream} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'

import {defaultCacheDir} from '../core/cache/cache-dir.js'
import {DEFAULT_JOBS} from '../core/transfer/migrate-types.js'
import {formatBytes, verifySummary} from '../core/transfer/summary.js'
import {Verification} from '../core/transfer/verification.js'
import {findingLine, type Finding, type VerifyReport} from '../core/transfer/verify-types.js'
import {BaseCommand} from '../cli/base-command.js'
import {progressMode, withProgress} from '../cli/progress.js'
import {checkedFilter, Endpoints, usageErrorsOf} from '../cli/transfer-endpoints.js'

export interface VerifyResult extends VerifyReport {
  findings: Finding[]
}

export default class Verify extends BaseCommand {
  static override summary = 'Compare a directory tree with a store (or two trees) and list every difference.'
  static override description = `Both sides are walked in the same key order and merged, so any size of tree is compared with \
bounded memory. One line per finding, in the spirit of rclone check --combined:

  + PATH   only in SRC
  - PATH   only in DST
  * PATH   in both, but different (what differs follows in parentheses)
  ! PATH   could not be compared (an error)
  ? PATH   the content could not be checked: the store holds no checksum for it

then a summary. Directories end with "/". Attributes that DST never recorded (rclone stores no mode, uid or gid; \
implicit directories nothing) are counted apart as "not recorded": they are not differences. Sockets, FIFOs and devices \
in SRC are not compared (migrate does not copy them).

Modes: fast compares existence, type, size, mtime, mode, uid, gid and symlink targets (one HEAD per object); checksum adds \
each file's content, hashed locally, against the object's x-amz-meta-sha256, its MD5 ETag, or its multipart ETag \
recomputed with the recorded part size; deep downloads every object and hashes both sides. Objects that migrate wrote and \
that the listing shows unchanged since (same ETag and LastModified) are described from migrate's journal in the cache \
directory instead of a HEAD each (--no-journal to HEAD them all).

Exit codes: 0 identical; 1 differences (or entries that could not be compared or checked); 2 the comparison could not \
run (a missing bucket or directory, refused credentials, an unreachable endpoint).`

  static override examples = [
    {description: 'Prove a migration arrived, attributes and contents.', command: '<%= config.bin %> <%= command.id %> /mnt/nas/projects s3://archive/projects --mode checksum'},
    {description: 'Only check that everything in the source is in the bucket.', command: '<%= config.bin %> <%= command.id %> /mnt/nas/projects s3://archive/projects --one-way'},
    {description: 'Read every object back, as JSON for a script.', command: '<%= config.bin %> <%= command.id %> /srv/data s3://backup/data --mode deep --json'},
    {description: 'Check a restore against its bucket.', command: '<%= config.bin %> <%= command.id %> s3://archive/projects /srv/restored'},
  ]

  static override enableJsonFlag = true

  static override args = {
    source: Args.string({required: true, description: 'A local directory or a store (s3://BUCKET[/PREFIX], file:///DIR).'}),
    destination: Args.string({required: true, description: 'A store or a local directory.'}),
  }

  static override flags = {
    mode: Flags.option({options: ['fast', 'checksum', 'deep'] as const, default: 'fast' as const, summary: 'What to compare (see above).'})(),
    'one-way': Flags.boolean({summary: 'Report only what is missing or different in DST; entries only in DST are not reported.'}),
    jobs: Flags.integer({char: 'j', min: 1, default: DEFAULT_JOBS, summary: 'Entries compared at once.'}),
    exclude: Flags.string({multiple: true, summary: 'Leave out paths matching GLOB (as migrate takes it).', helpValue: 'GLOB'}),
    include: Flags.string({multiple: true, summary: 'Compare only files matching GLOB (as migrate takes it).', helpValue: 'GLOB'}),
    journal: Flags.boolean({
      default: true,
      allowNo: true,
      summary: 'Take the attributes of objects unchanged since migrate wrote them (same ETag and LastModified) from its journal; --no-journal HEADs every object.',
    }),
    progress: Flags.boolean({default: true, allowNo: true, summary: 'Show progress (on a terminal; a status line every 10 s otherwise).'}),
  }

  private readonly endpoints = new Endpoints()

  async run(): Promise<VerifyResult> {
    const {args, flags} = await this.parse(Verify)
    const source = await this.endpoints.open(args.source, flags)
    const destination = await this.endpoints.open(args.destination, flags)
    const mode = progressMode(flags.progress && !this.jsonEnabled())
    const findings: Finding[] = []
    // On a terminal listr2 owns stdout while it runs: findings wait in a temp file, not in memory.
    const spool = mode === 'tty' ? await Spool.create() : undefined
    try {
      const verification = new Verification({
        source,
        destination,
        mode: flags.mode,
        oneWay: flags['one-way'],
        jobs: flags.jobs,
        filter: checkedFilter({exclude: flags.exclude, include: flags.include}),
        journalDir: flags.journal && destination.kind === 'store' ? flags['cache-dir'] ?? defaultCacheDir(destination.store.url) : undefined,
        onFinding: async (finding) => {
          if (this.jsonEnabled()) findings.push(finding)
          else if (spool !== undefined) await spool.write(`${findingLine(finding)}\n`)
          else await this.output(`${findingLine(finding)}\n`)
        },
      })
      const report = await withProgress<VerifyReport, 'compare'>({
        mode,
        command: this.id ?? 'verify',
        phases: [{id: 'compare', title: 'Compare'}],
        status: () => {
          const {entries, bytesHashed, findings: found} = verification.progress
          return {text: `${entries.toLocaleString('en-US')} entries, ${formatBytes(bytesHashed)} read, ${found} findings`}
        },
        work: (enter) => {
          verification.onCompare = () => enter('compare')
          return usageErrorsOf(this, () => verification.run())
        },
      })
      if (spool !== undefined) await spool.copyTo(process.stdout)
      this.log(verifySummary(report))
      if (!report.identicalTrees) process.exitCode = 1
      return {...report, findings}
    } finally {
      await spool?.remove()
    }
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    await this.endpoints.close()
    return super.finally(error)
  }
}

/** Lines written aside while a progress display owns the terminal, printed after it. */
class Spool {
  private constructor(private readonly dir: string, private readonly file: string, private readonly stream: WriteStream) {}

  static async create(): Promise<Spool> {
    const dir = await mkdtemp(join(tmpdir(), 'zerofs-verify-'))
    const file = join(dir, 'findings')
    return new Spool(dir, file, createWriteStream(file))
  }

  write(text: string): Promise<void> {
    return new Promise((resolve, reject) => this.stream.write(text, (error) => (error ? reject(error) : resolve())))
  }

  async copyTo(output: NodeJS.WritableStream): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(resolve))
    await pipeline(createReadStream(this.file), output, {end: false})
  }

  async remove(): Promise<void> {
    this.stream.destroy()
    await rm(this.dir, {recursive: true, force: true})
  }
}
