/**
 * bench/ls-cat: `zerofs ls -l` and `zerofs cat` against rclone on the same s3rver in the same run,
 * and the peak RSS of `zerofs ls -R` over a large tree.
 *
 *   node --import tsx bench/ls-cat.ts [--objects 100000] [--dir-objects 10000] [--cat-mib 256] [--runs 3] [--json]
 *
 * Needs the built CLI (`npm run build`), rclone and GNU time. Starts its own s3rver, seeds it once
 * (with the plain SDK, not zerofs), and removes everything when done.
 */
import {createHash} from 'node:crypto'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import type {Readable} from 'node:stream'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../test/helpers/s3rver.js'
import {rcloneEnv, rclonePath} from '../test/helpers/rclone.js'
import {assertCliBuilt} from '../test/helpers/cli.js'
import {assertMeasurable, measure, median, takingTurns, type Measurement} from './lib/measure.js'
import {directoryMarker, S_IFREG, s3fsMetadata, seedClient, seedObjects, seedRandomObject} from './lib/seed.js'
import {formatMB, formatMs, formatTable} from './lib/table.js'
import {ZEROFS_BIN, zerofsEnv} from './lib/zerofs.js'
import {progressLine, runBench} from './lib/main.js'

const BUCKET = 'zerofs-bench'
const FLAT_DIR = 'flat'
const TREE_DIR = 'tree'
const BIG_OBJECT = 'big.bin'
const FILES_PER_TREE_DIR = 1000
const SEED_CONCURRENCY = 32
const BASE_MTIME = 1_700_000_000
const RSS_TARGET_BYTES = 150e6
const SDK_CAT = fileURLToPath(new URL('lib/sdk-cat.mjs', import.meta.url))
const HTTP_CAT = fileURLToPath(new URL('lib/http-cat.mjs', import.meta.url))

interface Options {
  treeObjects: number
  flatObjects: number
  catBytes: number
  runs: number
  json: boolean
}

interface Comparison {
  name: string
  zerofs: Measurement[]
  rclone: Measurement[]
  zerofsMedianMs: number
  rcloneMedianMs: number
  /** zerofs / rclone wall time (medians); target ≤ 1.0. */
  ratio: number
}

interface MemoryResult {
  name: string
  objects: number
  runs: Measurement[]
  peakRssBytes: number
  targetBytes: number
  withinTarget: boolean
}

/** A reference beside a comparison, not a competitor: what a bare Node process with the SDK takes. */
interface Floor {
  name: string
  runs: Measurement[]
  medianMs: number
  /** Its median against rclone's in the comparison it belongs to. */
  ratioToRclone: number
}

interface Report {
  server: 's3rver'
  options: Options
  comparisons: Comparison[]
  floors: Floor[]
  memory?: MemoryResult
}

function parseOptions(): Options {
  const {values} = parseArgs({
    options: {
      objects: {type: 'string', default: '100000'},
      'dir-objects': {type: 'string', default: '10000'},
      'cat-mib': {type: 'string', default: '256'},
      runs: {type: 'string', default: '3'},
      json: {type: 'boolean', default: false},
    },
  })
  const count = (name: string, value: string): number => {
    const parsed = Number(value)
    if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} must be a whole number, not ${value}`)
    return parsed
  }
  return {
    treeObjects: count('objects', values.objects),
    flatObjects: count('dir-objects', values['dir-objects']),
    catBytes: count('cat-mib', values['cat-mib']) * (1 << 20),
    runs: Math.max(1, count('runs', values.runs)),
    json: values.json,
  }
}

/** Progress goes to stderr so that `--json` output stays clean. */
const progress = progressLine('ls-cat')

async function seed(server: S3rverHandle, options: Options): Promise<string> {
  const client = seedClient({endpoint: server.endpoint, ...S3RVER_CREDENTIALS}, SEED_CONCURRENCY)
  try {
    const fileMode = S_IFREG | 0o644
    progress(`seeding ${options.flatObjects} objects into ${FLAT_DIR}/`)
    await seedObjects(client, BUCKET, options.flatObjects + 1, (index) => index === 0
      ? directoryMarker(FLAT_DIR, BASE_MTIME)
      : {key: `${FLAT_DIR}/file-${String(index - 1).padStart(6, '0')}`, body: Buffer.from(`flat ${index - 1}\n`), metadata: s3fsMetadata(fileMode, BASE_MTIME + index)},
    {concurrency: SEED_CONCURRENCY})

    progress(`seeding a ${options.catBytes / (1 << 20)} MiB object`)
    const sha256 = await seedRandomObject(client, BUCKET, BIG_OBJECT, options.catBytes, s3fsMetadata(fileMode, BASE_MTIME))

    const treeDirs = Math.ceil(options.treeObjects / FILES_PER_TREE_DIR)
    const treeDir = (index: number): string => `${TREE_DIR}/d${String(index).padStart(4, '0')}`
    progress(`seeding ${options.treeObjects} objects into ${treeDirs} directories under ${TREE_DIR}/ (takes a while)`)
    const markers = treeDirs > 0 ? treeDirs + 1 : 0
    let lastReported = 0
    await seedObjects(client, BUCKET, markers + options.treeObjects, (index) => {
      if (index === 0) return directoryMarker(TREE_DIR, BASE_MTIME)
      if (index < markers) return directoryMarker(treeDir(index - 1), BASE_MTIME)
      const file = index - markers
      return {
        key: `${treeDir(Math.floor(file / FILES_PER_TREE_DIR))}/f${String(file).padStart(6, '0')}`,
        body: Buffer.from(`tree ${file}\n`),
        metadata: s3fsMetadata(fileMode, BASE_MTIME + file),
      }
    }, {
      concurrency: SEED_CONCURRENCY,
      onProgress: (done) => {
        if (done - lastReported >= 20_000) progress(`  ${(lastReported = done)} objects`)
      },
    })
    return sha256
  } finally {
    client.destroy()
  }
}

function zerofsLocation(path: string): string {
  return `s3://${BUCKET}/${path}`
}

/** Each zerofs run gets an empty metadata cache, so it lists the bucket as cold as rclone does. */
async function measureZerofs(server: S3rverHandle, args: string[], consume?: (stdout: Readable) => Promise<void>): Promise<Measurement> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'zerofs-bench-cache-'))
  try {
    return await measure(process.execPath, [ZEROFS_BIN, ...args, '--endpoint', server.endpoint, '--cache-dir', cacheDir], {env: zerofsEnv(server), consume})
  } finally {
    await rm(cacheDir, {recursive: true, force: true})
  }
}

async function measureRclone(server: S3rverHandle, args: string[]): Promise<Measurement> {
  return measure('rclone', args, {env: rcloneEnv(server)})
}

/** zerofs and rclone taking turns at going first (takingTurns), so neither always meets the warmer server. */
async function compare(name: string, runs: number, zerofs: () => Promise<Measurement>, rclone: () => Promise<Measurement>): Promise<Comparison> {
  const [zerofsRuns, rcloneRuns] = await takingTurns(runs, [zerofs, rclone], (run) => progress(`${name}: run ${run + 1}/${runs}`))
  const zerofsMedianMs = median(zerofsRuns.map((m) => m.wallMs))
  const rcloneMedianMs = median(rcloneRuns.map((m) => m.wallMs))
  return {name, zerofs: zerofsRuns, rclone: rcloneRuns, zerofsMedianMs, rcloneMedianMs, ratio: zerofsMedianMs / rcloneMedianMs}
}

/** Counts stdout lines that match `pattern`, streaming. */
function countLines(pattern: RegExp, into: {count: number}): (stdout: Readable) => Promise<void> {
  return async (stdout) => {
    for await (const line of createInterface({input: stdout, crlfDelay: Infinity})) {
      if (pattern.test(line)) into.count++
    }
  }
}

function sha256Of(into: {hex: string}): (stdout: Readable) => Promise<void> {
  return async (stdout) => {
    const hash = createHash('sha256')
    for await (const chunk of stdout) hash.update(chunk as Buffer)
    into.hex = hash.digest('hex')
  }
}

/** Each measurement starts with one extra run that checks zerofs's answer; a wrong answer has no speed. */
function verify(what: string, actual: string | number, expected: string | number): void {
  if (actual !== expected) throw new Error(`zerofs ${what}: expected ${expected}, got ${actual}`)
}

async function run(options: Options): Promise<Report> {
  await assertMeasurable()
  assertCliBuilt()
  const server = await startS3rver([BUCKET])
  try {
    const sha256 = await seed(server, options)
    const report: Report = {server: 's3rver', options, comparisons: [], floors: []}

    report.comparisons.push(await compare(
      'start-up (--version)', options.runs,
      () => measure(process.execPath, [ZEROFS_BIN, '--version'], {env: zerofsEnv(server)}),
      () => measureRclone(server, ['version']),
    ))

    if (options.flatObjects > 0) {
      const listed = {count: 0}
      await measureZerofs(server, ['ls', '-l', zerofsLocation(FLAT_DIR)], countLines(/file-\d{6}$/, listed))
      verify(`ls -l ${FLAT_DIR} entries`, listed.count, options.flatObjects)
      report.comparisons.push(await compare(
        `ls -l, ${options.flatObjects} objects`, options.runs,
        () => measureZerofs(server, ['ls', '-l', zerofsLocation(FLAT_DIR)]),
        () => measureRclone(server, ['lsl', '--max-depth', '1', rclonePath(BUCKET, FLAT_DIR)]),
      ))
    }

    if (options.catBytes > 0) {
      const streamed = {hex: ''}
      await measureZerofs(server, ['cat', zerofsLocation(BIG_OBJECT)], sha256Of(streamed))
      verify(`cat ${BIG_OBJECT} sha256`, streamed.hex, sha256)
      report.comparisons.push(await compare(
        `cat, ${options.catBytes / (1 << 20)} MiB object`, options.runs,
        () => measureZerofs(server, ['cat', zerofsLocation(BIG_OBJECT)]),
        () => measureRclone(server, ['cat', rclonePath(BUCKET, BIG_OBJECT)]),
      ))
      const cat = report.comparisons[report.comparisons.length - 1]
      const floors: Array<[string, string, string[]]> = [
        ['with the SDK', SDK_CAT, [server.endpoint, BUCKET, BIG_OBJECT]],
        ['with node:http alone, unsigned', HTTP_CAT, [`${server.endpoint}/${BUCKET}/${BIG_OBJECT}`]],
      ]
      for (const [how, script, args] of floors) {
        const runs: Measurement[] = []
        for (let index = 0; index < options.runs; index++) {
          progress(`a bare Node process streaming the object ${how}: run ${index + 1}/${options.runs}`)
          runs.push(await measure(process.execPath, [script, ...args], {env: zerofsEnv(server)}))
        }
        const medianMs = median(runs.map((m) => m.wallMs))
        report.floors.push({name: `${cat.name}: a bare Node process streaming it ${how}`, runs, medianMs, ratioToRclone: medianMs / cat.rcloneMedianMs})
      }
    }

    if (options.treeObjects > 0) {
      const listed = {count: 0}
      await measureZerofs(server, ['ls', '-R', zerofsLocation(TREE_DIR)], countLines(/f\d{6}$/, listed))
      verify(`ls -R ${TREE_DIR} files`, listed.count, options.treeObjects)
      const runs: Measurement[] = []
      for (let index = 0; index < options.runs; index++) {
        progress(`ls -R, ${options.treeObjects} objects: run ${index + 1}/${options.runs}`)
        runs.push(await measureZerofs(server, ['ls', '-R', zerofsLocation(TREE_DIR)]))
      }
      const peakRssBytes = Math.max(...runs.map((m) => m.maxRssBytes))
      report.memory = {
        name: `ls -R, ${options.treeObjects} objects`,
        objects: options.treeObjects,
        runs,
        peakRssBytes,
        targetBytes: RSS_TARGET_BYTES,
        withinTarget: peakRssBytes < RSS_TARGET_BYTES,
      }
    }
    return report
  } finally {
    await server.stop()
  }
}

function render(report: Report): string {
  const rows = report.comparisons.map((c) => [
    c.name,
    formatMs(c.zerofsMedianMs),
    formatMs(c.rcloneMedianMs),
    `${c.ratio.toFixed(2)}${c.ratio <= 1 ? '' : ' (target ≤ 1.00)'}`,
    formatMB(Math.max(...c.zerofs.map((m) => m.maxRssBytes))),
    formatMB(Math.max(...c.rclone.map((m) => m.maxRssBytes))),
  ])
  const lines = [
    `bench/ls-cat on s3rver, median of ${report.options.runs} runs, each zerofs run with an empty cache`,
    '',
    formatTable(['measurement', 'zerofs', 'rclone', 'zerofs/rclone', 'zerofs peak RSS', 'rclone peak RSS'], rows),
  ]
  if (report.floors.length > 0) {
    lines.push('', formatTable(['floor of a Node client', 'wall (median)', '/rclone'], report.floors.map((floor) => [
      floor.name, formatMs(floor.medianMs), floor.ratioToRclone.toFixed(2),
    ])))
  }
  if (report.memory) {
    const memory = report.memory
    lines.push('', formatTable(['measurement', 'wall (median)', 'peak RSS', 'target'], [[
      memory.name,
      formatMs(median(memory.runs.map((m) => m.wallMs))),
      formatMB(memory.peakRssBytes),
      `< ${formatMB(memory.targetBytes)} ${memory.withinTarget ? 'met' : 'MISSED'}`,
    ]]))
  }
  return lines.join('\n')
}

await runBench({progress, parseOptions, run, render})
