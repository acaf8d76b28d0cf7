/**
 * bench/fsck: `zerofs fsck` of a large bucket against `rclone lsf -R` of the same bucket on the same
 * s3rver in the same run, with peak RSS; `rclone lsf -R --fast-list` (one flat listing, as fsck
 * walks) is measured beside them for reference. fsck is measured with no cache (the bucket walk
 * alone) and with a cache holding every entry of the tree (each entry also compared with SQLite).
 * Before each, one run checks fsck's answer with V8's old space capped at 48 MB: its memory does not
 * grow with the bucket.
 *
 *   node --import tsx bench/fsck.ts [--objects 100000] [--runs 3] [--json]
 *
 * Needs the built CLI (`npm run build`), rclone and GNU time. Starts its own s3rver, seeds it once
 * (with the plain SDK, not zerofs), and removes everything when done.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {parseArgs} from 'node:util'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../test/helpers/s3rver.js'
import {rcloneEnv, rclonePath} from '../test/helpers/rclone.js'
import {assertCliBuilt} from '../test/helpers/cli.js'
import {assertMeasurable, measure, medianRun, takingTurns, type Measurement} from './lib/measure.js'
import {directoryMarker, S_IFREG, s3fsMetadata, seedClient, seedObjects} from './lib/seed.js'
import {formatMB, formatMs, formatTable} from './lib/table.js'
import {ZEROFS_BIN, zerofsEnv} from './lib/zerofs.js'
import {progressLine, runBench} from './lib/main.js'

const BUCKET = 'zerofs-bench-fsck'
const FILES_PER_DIR = 1000
const SEED_CONCURRENCY = 32
const BASE_MTIME = 1_700_000_000

interface Options {
  objects: number
  runs: number
  json: boolean
}

interface Tool {
  name: string
  run: () => Promise<Measurement>
}

interface ToolResult {
  name: string
  runs: Measurement[]
  medianMs: number
  peakRssBytes: number
}

interface Comparison {
  name: string
  zerofs: ToolResult
  rclone: ToolResult
  rcloneFastList: ToolResult
  /** zerofs / rclone lsf -R wall time (medians); target ≤ 1.0. */
  ratio: number
  /** zerofs / rclone lsf -R --fast-list. */
  fastListRatio: number
}

interface Report {
  server: 's3rver'
  options: Options
  comparisons: Comparison[]
}

function parseOptions(): Options {
  const {values} = parseArgs({
    options: {
      objects: {type: 'string', default: '100000'},
      runs: {type: 'string', default: '3'},
      json: {type: 'boolean', default: false},
    },
  })
  const count = (name: string, value: string): number => {
    const parsed = Number(value)
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a whole number above 0, not ${value}`)
    return parsed
  }
  return {objects: count('objects', values.objects), runs: count('runs', values.runs), json: values.json}
}

/** Progress goes to stderr so that `--json` output stays clean. */
const progress = progressLine('fsck')

/** A tree as zerofs or s3fs leave it: directories of 1000 files, each directory with its marker. */
async function seed(server: S3rverHandle, objects: number): Promise<number> {
  const client = seedClient({endpoint: server.endpoint, ...S3RVER_CREDENTIALS}, SEED_CONCURRENCY)
  try {
    const dirs = Math.ceil(objects / FILES_PER_DIR)
    const dir = (index: number): string => `d${String(index).padStart(4, '0')}`
    progress(`seeding ${objects} objects in ${dirs} directories (takes a while)`)
    let reported = 0
    await seedObjects(client, BUCKET, dirs + objects, (index) => {
      if (index < dirs) return directoryMarker(dir(index), BASE_MTIME)
      const file = index - dirs
      return {
        key: `${dir(Math.floor(file / FILES_PER_DIR))}/f${String(file).padStart(6, '0')}`,
        body: Buffer.from(`file ${file}\n`),
        metadata: s3fsMetadata(S_IFREG | 0o644, BASE_MTIME + file),
      }
    }, {
      concurrency: SEED_CONCURRENCY,
      onProgress: (done) => {
        if (done - reported >= 20_000) progress(`  ${(reported = done)} objects`)
      },
    })
    return dirs
  } finally {
    client.destroy()
  }
}

function zerofsArgs(server: S3rverHandle, cacheDir: string, ...args: string[]): string[] {
  return [ZEROFS_BIN, ...args, '--endpoint', server.endpoint, '--cache-dir', cacheDir]
}

async function consumeJson(stdout: Readable, into: {text: string}): Promise<void> {
  for await (const chunk of stdout) into.text += (chunk as Buffer).toString('utf8')
}

/** The V8 old space a verification run gets: fsck must not need more, whatever the bucket's size. */
const OLD_SPACE_MB = 48

/**
 * One fsck run that must find the whole tree and nothing wrong (a wrong answer has no speed), with
 * its heap capped: a listing held in memory would not fit.
 */
async function verifyFsck(server: S3rverHandle, cacheDir: string, objects: number, dirs: number): Promise<void> {
  const output = {text: ''}
  await measure(process.execPath, [`--max-old-space-size=${OLD_SPACE_MB}`, ...zerofsArgs(server, cacheDir, 'fsck', `s3://${BUCKET}`, '--json')], {
    env: zerofsEnv(server),
    consume: (stdout) => consumeJson(stdout, output),
  })
  const {summary} = JSON.parse(output.text) as {summary: {objects: number; directories: number; exitCode: number}}
  if (summary.objects !== objects || summary.directories !== dirs || summary.exitCode !== 0) {
    throw new Error(`zerofs fsck: expected ${objects} objects, ${dirs} directories and exit code 0, got ${JSON.stringify(summary)}`)
  }
}

/** The tools taking turns at going first (takingTurns), so none always meets the warmer server. */
async function compare(name: string, runs: number, tools: Tool[]): Promise<ToolResult[]> {
  const measured = await takingTurns(runs, tools.map((tool) => tool.run), (run) => progress(`${name}: run ${run + 1}/${runs}`))
  return tools.map((tool, index) => {
    const {wallMs, maxRssBytes} = medianRun(measured[index])
    return {name: tool.name, runs: measured[index], medianMs: wallMs, peakRssBytes: maxRssBytes}
  })
}

/** The medians as a comparison, also reported at once (a long run that fails later keeps them). */
function comparison(name: string, [zerofs, rclone, rcloneFastList]: ToolResult[]): Comparison {
  const result = {
    name, zerofs, rclone, rcloneFastList,
    ratio: zerofs.medianMs / rclone.medianMs,
    fastListRatio: zerofs.medianMs / rcloneFastList.medianMs,
  }
  progress(`${name}: ${[zerofs, rclone, rcloneFastList].map((tool) => `${tool.name} ${formatMs(tool.medianMs)} (${formatMB(tool.peakRssBytes)})`).join(', ')}`)
  return result
}

async function run(options: Options): Promise<Report> {
  await assertMeasurable()
  assertCliBuilt()
  const server = await startS3rver([BUCKET])
  const scratch = await mkdtemp(join(tmpdir(), 'zerofs-bench-fsck-'))
  try {
    const dirs = await seed(server, options.objects)
    const env = zerofsEnv(server)
    const rcloneTools: Tool[] = [
      {name: 'rclone lsf -R', run: () => measure('rclone', ['lsf', '-R', rclonePath(BUCKET)], {env: rcloneEnv(server)})},
      {name: 'rclone lsf -R --fast-list', run: () => measure('rclone', ['lsf', '-R', '--fast-list', rclonePath(BUCKET)], {env: rcloneEnv(server)})},
    ]
    const report: Report = {server: 's3rver', options, comparisons: []}

    const noCache = join(scratch, 'no-cache')
    await verifyFsck(server, noCache, options.objects, dirs)
    const noCacheName = `fsck, ${options.objects} objects, no cache`
    report.comparisons.push(comparison(noCacheName, await compare(noCacheName, options.runs, [{
      name: 'zerofs fsck',
      run: async () => {
        await rm(noCache, {recursive: true, force: true})
        return measure(process.execPath, zerofsArgs(server, noCache, 'fsck', `s3://${BUCKET}`), {env})
      },
    }, ...rcloneTools])))

    const fullCache = join(scratch, 'full-cache')
    progress('filling a cache with every entry (zerofs ls -R, not measured)')
    await measure(process.execPath, zerofsArgs(server, fullCache, 'ls', '-R', `s3://${BUCKET}`), {env})
    await verifyFsck(server, fullCache, options.objects, dirs)
    const cachedName = `fsck, ${options.objects} objects, every entry cached`
    report.comparisons.push(comparison(cachedName, await compare(cachedName, options.runs, [{
      name: 'zerofs fsck',
      run: () => measure(process.execPath, zerofsArgs(server, fullCache, 'fsck', `s3://${BUCKET}`), {env}),
    }, ...rcloneTools])))
    return report
  } finally {
    await server.stop()
    await rm(scratch, {recursive: true, force: true})
  }
}

function render(report: Report): string {
  const rows = report.comparisons.map((c) => [
    c.name,
    formatMs(c.zerofs.medianMs),
    formatMs(c.rclone.medianMs),
    `${c.ratio.toFixed(2)}${c.ratio <= 1 ? '' : ' (target ≤ 1.00)'}`,
    formatMs(c.rcloneFastList.medianMs),
    c.fastListRatio.toFixed(2),
    formatMB(c.zerofs.peakRssBytes),
    formatMB(Math.max(c.rclone.peakRssBytes, c.rcloneFastList.peakRssBytes)),
  ])
  return [
    `bench/fsck on s3rver, median of ${report.options.runs} runs; every fsck answer checked with a ${OLD_SPACE_MB} MB V8 old space`,
    '',
    formatTable(['measurement', 'zerofs fsck', 'rclone lsf -R', 'ratio', 'rclone --fast-list', 'ratio', 'zerofs peak RSS', 'rclone peak RSS'], rows),
  ].join('\n')
}

await runBench({progress, parseOptions, run, render})
