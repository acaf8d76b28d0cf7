/**
 * bench/migrate: `zerofs migrate` and `zerofs verify` against their peers on the same s3rver in
 * the same run, printed as ratios:
 * - a cold migration of a generated tree against `rclone copy --transfers 16 --checkers 16` and
 *   `aws s3 sync` (target: at most 1.3× rclone's wall time);
 * - a no-op re-run against theirs (target: at least 3× faster than rclone's);
 * - `verify --mode checksum` (with migrate's journal, and with --no-journal) against
 *   `rclone check --fast-list` (target: not slower), and `verify --mode deep` against
 *   `rclone check --download`;
 * - small files per second against the raw SDK's parallel PUT rate (the practical limit here);
 * - optionally (--memory-files N) peak RSS of planning (a dry run) and of verifying an N-file tree.
 *
 *   node --import tsx bench/migrate.ts [--files 5000] [--medium 50] [--large 2] [--large-mib 256]
 *     [--jobs 16] [--runs 3] [--memory-files 0] [--zerofs-bin bin/run.js] [--json]
 *
 * The cold migrations run once each (into fresh prefixes); the no-op re-runs and the verifications,
 * which change nothing, run `--runs` times each, zerofs and its peer taking turns, as medians.
 *
 * Needs the built CLI (`npm run build`), rclone, the AWS CLI and GNU time. Generates the tree and
 * starts its own s3rver in temporary directories, and removes everything when done.
 */
import {readFileSync} from 'node:fs'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'

import {awsEnv} from '../test/helpers/aws.js'
import {assertCliBuilt} from '../test/helpers/cli.js'
import {rcloneEnv, rclonePath} from '../test/helpers/rclone.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../test/helpers/s3rver.js'
import {alternatingMedians, assertMeasurable, measure, medianRun, takingTurns, type Measurement} from './lib/measure.js'
import {seedClient, seedObjects} from './lib/seed.js'
import {formatMB, formatMs, formatTable} from './lib/table.js'
import {generateTree, type GeneratedTree} from './lib/tree.js'
import {ZEROFS_BIN, zerofsEnv} from './lib/zerofs.js'
import {progressLine, runBench} from './lib/main.js'

const BUCKET = 'zerofs-bench-migrate'
const PEER_TRANSFERS = 16
const MiB = 1024 * 1024
const MEMORY_TARGET_BYTES = 300e6
const SMALL_ONLY = ['--exclude', '/medium', '--exclude', '/large', '--exclude', '/links', '--exclude', '/empty']

interface Options {
  files: number
  medium: number
  large: number
  largeMiB: number
  jobs: number
  runs: number
  memoryFiles: number
  zerofsBin: string
  json: boolean
}

interface Comparison {
  name: string
  zerofs: Measurement
  peerName: string
  /** Undefined when the peer failed (see coldPeer). */
  peer?: Measurement
  /** zerofs / peer wall time. */
  ratio?: number
  /** What the ratio must be, and whether it is. */
  target?: {text: string; met: boolean}
}

interface Report {
  server: 's3rver'
  options: Options
  tree: Omit<GeneratedTree, 'small' | 'root'>
  comparisons: Comparison[]
  smallFiles: {files: number; zerofsPerSecond: number; sdkPerSecond: number; ratio: number}
  memory?: Array<{name: string; files: number; measurement: Measurement; targetBytes: number; withinTarget: boolean}>
}

function parseOptions(): Options {
  const {values} = parseArgs({
    options: {
      files: {type: 'string', default: '5000'},
      medium: {type: 'string', default: '50'},
      large: {type: 'string', default: '2'},
      'large-mib': {type: 'string', default: '256'},
      jobs: {type: 'string', default: '16'},
      runs: {type: 'string', default: '3'},
      'memory-files': {type: 'string', default: '0'},
      'zerofs-bin': {type: 'string', default: ZEROFS_BIN},
      json: {type: 'boolean', default: false},
    },
  })
  const count = (name: string, value: string): number => {
    const parsed = Number(value)
    if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} must be a whole number, not ${value}`)
    return parsed
  }
  return {
    files: count('files', values.files),
    medium: count('medium', values.medium),
    large: count('large', values.large),
    largeMiB: count('large-mib', values['large-mib']),
    jobs: Math.max(1, count('jobs', values.jobs)),
    runs: Math.max(1, count('runs', values.runs)),
    memoryFiles: count('memory-files', values['memory-files']),
    zerofsBin: values['zerofs-bin'],
    json: values.json,
  }
}

const progress = progressLine('migrate')

class Bench {
  constructor(private readonly server: S3rverHandle, private readonly options: Options, private readonly scratch: string) {}

  zerofs(args: string[], cache = 'cache'): Promise<Measurement> {
    return measure(process.execPath, [this.options.zerofsBin, ...args, '--endpoint', this.server.endpoint, '--cache-dir', join(this.scratch, cache), '--no-progress'],
      {env: zerofsEnv(this.server)})
  }

  rclone(args: string[]): Promise<Measurement> {
    return measure('rclone', args, {env: rcloneEnv(this.server)})
  }

  aws(args: string[]): Promise<Measurement> {
    return measure('aws', ['--endpoint-url', this.server.endpoint, 's3', ...args], {env: awsEnv()})
  }

  location(prefix: string): string {
    return `s3://${BUCKET}/${prefix}`
  }
}

/**
 * A peer's cold copy into `prefix`, run again into a fresh prefix if it fails (under load, s3rver
 * now and then answers a HEAD of a just-written object with size 0, which rclone reports as a
 * corrupted transfer). Undefined when it failed twice: the bench goes on without it.
 */
async function coldPeer(name: string, prefix: string, run: (prefix: string) => Promise<Measurement>): Promise<{measurement: Measurement; prefix: string} | undefined> {
  for (const attempt of [prefix, `${prefix}-again`]) {
    try {
      return {measurement: await run(attempt), prefix: attempt}
    } catch (error) {
      progress(`${name} failed: ${(error as Error).message.split('\n').at(-1)?.slice(0, 300)}`)
    }
  }
  return undefined
}

/**
 * zerofs and a peer measured `runs` times each, taking turns (alternatingMedians). A peer that is
 * missing or fails is left out (undefined), and zerofs measured alone.
 */
async function againstPeer(runs: number, zerofs: () => Promise<Measurement>, peer: (() => Promise<Measurement>) | undefined): Promise<[Measurement, Measurement | undefined]> {
  if (peer !== undefined) {
    const peerFailure = Symbol('peer failed')
    const guardedPeer = () => peer().catch((error: unknown) => {
      progress(`peer failed: ${(error as Error).message.split('\n').at(-1)?.slice(0, 300)}`)
      throw peerFailure
    })
    try {
      return await alternatingMedians(runs, zerofs, guardedPeer)
    } catch (error) {
      if (error !== peerFailure) throw error
    }
  }
  const [alone] = await takingTurns(runs, [zerofs])
  return [medianRun(alone), undefined]
}

function compare(name: string, zerofs: Measurement, peerName: string, peer: Measurement | undefined, target?: {atMost?: number; fasterBy?: number}): Comparison {
  if (peer === undefined) return {name, zerofs, peerName}
  const ratio = zerofs.wallMs / peer.wallMs
  const comparison: Comparison = {name, zerofs, peerName, peer, ratio}
  if (target?.atMost !== undefined) comparison.target = {text: `≤ ${target.atMost.toFixed(2)}`, met: ratio <= target.atMost}
  if (target?.fasterBy !== undefined) comparison.target = {text: `≤ ${(1 / target.fasterBy).toFixed(2)} (${target.fasterBy}× faster)`, met: ratio <= 1 / target.fasterBy}
  return comparison
}

/** The raw SDK putting the same small files with as many requests in flight as zerofs's jobs. */
async function sdkPutRate(server: S3rverHandle, tree: GeneratedTree, concurrency: number): Promise<number> {
  const client = seedClient({endpoint: server.endpoint, ...S3RVER_CREDENTIALS}, concurrency)
  try {
    const started = performance.now()
    await seedObjects(client, BUCKET, tree.small.length, (index) => ({
      key: `sdk/${tree.small[index].path}`,
      body: readFileSync(join(tree.root, tree.small[index].path)),
    }), {concurrency})
    return tree.small.length / ((performance.now() - started) / 1000)
  } finally {
    client.destroy()
  }
}

async function measureMemory(options: Options, scratch: string): Promise<NonNullable<Report['memory']>> {
  const root = join(scratch, 'many')
  progress(`generating ${options.memoryFiles} one-byte files for the memory measurement`)
  for (let file = 0; file < options.memoryFiles; file++) {
    if (file % 1000 === 0) await mkdir(join(root, `dir-${String(file / 1000).padStart(5, '0')}`), {recursive: true})
    await writeFile(join(root, `dir-${String(Math.floor(file / 1000)).padStart(5, '0')}`, `f${file}`), 'x')
  }
  const store = join(scratch, 'many-store')
  await mkdir(store)
  const results: NonNullable<Report['memory']> = []
  for (const [name, args] of [
    [`migrate --dry-run, ${options.memoryFiles} files`, ['migrate', root, `file://${store}`, '--dry-run']],
    // A tree against itself: two walks merged and compared, with nothing to upload first.
    [`verify, ${options.memoryFiles} files against themselves`, ['verify', root, root]],
  ] as const) {
    progress(name)
    const measurement = await measure(process.execPath, [options.zerofsBin, ...args, '--cache-dir', join(scratch, 'many-cache'), '--no-progress'],
      {env: process.env})
    results.push({name, files: options.memoryFiles, measurement, targetBytes: MEMORY_TARGET_BYTES, withinTarget: measurement.maxRssBytes < MEMORY_TARGET_BYTES})
  }
  return results
}

async function run(options: Options): Promise<Report> {
  await assertMeasurable()
  if (options.zerofsBin === ZEROFS_BIN) assertCliBuilt()
  const scratch = await mkdtemp(join(tmpdir(), 'zerofs-bench-migrate-'))
  const server = await startS3rver([BUCKET])
  try {
    progress(`generating the tree: ${options.files} small, ${options.medium} medium, ${options.large} × ${options.largeMiB} MiB`)
    const tree = await generateTree(join(scratch, 'tree'), {
      smallFiles: options.files, smallSize: [1024, 64 * 1024],
      mediumFiles: options.medium, mediumSize: [MiB, 8 * MiB],
      largeFiles: options.large, largeSize: options.largeMiB * MiB,
      emptyDirectories: 20, symlinks: 20, fanout: 10, seed: 20240501,
    })
    const bench = new Bench(server, options, scratch)
    const jobs = ['--jobs', String(options.jobs)]
    const comparisons: Comparison[] = []

    // First, so that no tool meets a cold server: s3rver's own code warms up over its first requests.
    progress('the raw SDK putting the small files')
    const sdkPerSecond = await sdkPutRate(server, tree, options.jobs)

    progress('zerofs migrate (cold)')
    const zerofsCold = await bench.zerofs(['migrate', tree.root, bench.location('zerofs'), ...jobs])
    const rcloneCopy = (prefix: string) => bench.rclone(['copy', tree.root, rclonePath(BUCKET, prefix), '--transfers', String(PEER_TRANSFERS), '--checkers', String(PEER_TRANSFERS)])
    const awsSync = (prefix: string) => bench.aws(['sync', tree.root, bench.location(prefix), '--no-follow-symlinks', '--only-show-errors'])
    progress('rclone copy (cold)')
    const rcloneCold = await coldPeer('rclone copy', 'rclone', rcloneCopy)
    progress('aws s3 sync (cold)')
    const awsCold = await coldPeer('aws s3 sync', 'aws', awsSync)
    comparisons.push(compare('migrate, cold', zerofsCold, 'rclone copy', rcloneCold?.measurement, {atMost: 1.3}))
    comparisons.push(compare('migrate, cold', zerofsCold, 'aws s3 sync', awsCold?.measurement))

    const runs = options.runs
    progress(`no-op re-runs (${runs} each)`)
    const zerofsNoopRun = () => bench.zerofs(['migrate', tree.root, bench.location('zerofs'), ...jobs])
    const [zerofsNoop, rcloneNoop] = await againstPeer(runs, zerofsNoopRun, rcloneCold && (() => rcloneCopy(rcloneCold.prefix)))
    const [, awsNoop] = await againstPeer(runs, zerofsNoopRun, awsCold && (() => awsSync(awsCold.prefix)))
    comparisons.push(compare('migrate, no-op re-run', zerofsNoop, 'rclone copy', rcloneNoop, {fasterBy: 3}))
    comparisons.push(compare('migrate, no-op re-run', zerofsNoop, 'aws s3 sync', awsNoop))

    // verify runs with migrate's cache directory (its journal), as `zerofs verify` after `zerofs migrate` does;
    // --no-journal shows the cost of a HEAD per object. Any difference found fails the bench.
    progress(`verify (${runs} each)`)
    const verify = (mode: string, ...more: string[]) => () => bench.zerofs(['verify', tree.root, bench.location('zerofs'), '--mode', mode, ...more, ...jobs])
    const rcloneCheck = (...more: string[]) => () => bench.rclone(['check', tree.root, rclonePath(BUCKET, 'zerofs'), '--fast-list', '--one-way', ...more, '--checkers', String(PEER_TRANSFERS)])
    const [verifyChecksum, rcloneChecksum] = await againstPeer(runs, verify('checksum'), rcloneCheck())
    const [verifyHeads, rcloneChecksumAgain] = await againstPeer(runs, verify('checksum', '--no-journal'), rcloneCheck())
    comparisons.push(compare('verify --mode checksum', verifyChecksum, 'rclone check --fast-list', rcloneChecksum, {atMost: 1}))
    comparisons.push(compare('verify --mode checksum --no-journal', verifyHeads, 'rclone check --fast-list', rcloneChecksumAgain))
    const [verifyDeep, rcloneDownload] = await againstPeer(runs, verify('deep'), rcloneCheck('--download'))
    comparisons.push(compare('verify --mode deep', verifyDeep, 'rclone check --download', rcloneDownload))

    progress('small files only: zerofs migrate')
    const zerofsSmall = await bench.zerofs(['migrate', tree.root, bench.location('zerofs-small'), ...jobs, ...SMALL_ONLY], 'small-cache')
    const zerofsPerSecond = tree.small.length / (zerofsSmall.wallMs / 1000)
    const report: Report = {
      server: 's3rver',
      options,
      tree: {files: tree.files, bytes: tree.bytes, directories: tree.directories, symlinks: tree.symlinks},
      comparisons,
      smallFiles: {files: tree.small.length, zerofsPerSecond, sdkPerSecond, ratio: zerofsPerSecond / sdkPerSecond},
    }
    if (options.memoryFiles > 0) report.memory = await measureMemory(options, scratch)
    return report
  } finally {
    await server.stop()
    await rm(scratch, {recursive: true, force: true})
  }
}

function render(report: Report): string {
  const {tree} = report
  const rows = report.comparisons.map((c) => [
    c.name,
    formatMs(c.zerofs.wallMs),
    c.peerName,
    c.peer ? formatMs(c.peer.wallMs) : 'failed',
    c.ratio === undefined ? '-' : `${c.ratio.toFixed(2)}${c.target ? ` (target ${c.target.text}: ${c.target.met ? 'met' : 'MISSED'})` : ''}`,
    formatMB(c.zerofs.maxRssBytes),
    c.peer ? formatMB(c.peer.maxRssBytes) : '-',
  ])
  const small = report.smallFiles
  const lines = [
    `bench/migrate on s3rver (cold migrations one run each, the rest medians of ${report.options.runs} runs): ${tree.files} files (${formatMB(tree.bytes)}), ${tree.directories} directories, ${tree.symlinks} symlinks; zerofs --jobs ${report.options.jobs}`,
    '',
    formatTable(['measurement', 'zerofs', 'peer', 'peer time', 'zerofs/peer', 'zerofs peak RSS', 'peer peak RSS'], rows),
    '',
    formatTable(['small files', 'zerofs migrate', 'raw SDK PUTs', 'zerofs/SDK'], [[
      `${small.files} files of 1–64 KiB`,
      `${Math.round(small.zerofsPerSecond)} files/s`,
      `${Math.round(small.sdkPerSecond)} files/s`,
      small.ratio.toFixed(2),
    ]]),
  ]
  if (report.memory) {
    lines.push('', formatTable(['memory', 'wall', 'peak RSS', 'target'], report.memory.map((m) => [
      m.name, formatMs(m.measurement.wallMs), formatMB(m.measurement.maxRssBytes), `< ${formatMB(m.targetBytes)} ${m.withinTarget ? 'met' : 'MISSED'}`,
    ])))
  }
  return lines.join('\n')
}

await runBench({progress, parseOptions, run, render})
