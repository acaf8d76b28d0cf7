/**
 * bench/nfs: `zerofs serve` over NFSv3 on s3rver and on a file store, side by side with nfs-ganesha
 * exporting a local directory, in one run: the seed operations (`ls -l` of a 1,000-file directory
 * cold and warm, `stat`, reading 1 MiB, writing 1 MiB until it is in the store) and a sequential
 * write (until in the store) and read, through the Linux kernel client in one kclient guest and
 * through libnfs on the host; with the raw AWS SDK's upload and download rates and s3fs's `ls -l`
 * on the same s3rver. Prints the numbers and the ratios against the targets.
 *
 *   node --import tsx bench/nfs.ts [--runs 5] [--seq-mib 256] [--files 1000] [--no-kernel] [--json]
 *
 * Needs root (ganesha, s3fs, the guest's mounts), ../shared/kclient, nfs-ganesha, rpcbind,
 * libnfs-utils, s3fs and GNU time. Servers run from the sources (no build needed); all listen on
 * 127.0.0.1 only, and everything is removed at the end.
 */
import {HeadObjectCommand} from '@aws-sdk/client-s3'
import {randomBytes} from 'node:crypto'
import {mkdir, mkdtemp, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import type {Readable} from 'node:stream'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {runInGuest} from '../test/helpers/kclient.js'
import {startServe, type ServeProcess} from '../test/helpers/nfs-serve.js'
import {mountS3fs} from '../test/helpers/s3fs.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../test/helpers/s3rver.js'
import {startGanesha, type Ganesha} from './lib/ganesha.js'
import {OPERATIONS, operationName, until, type Operation} from './lib/kernel-bench.js'
import {answerLines} from './lib/line-server.js'
import {assertMeasurable, measure, median} from './lib/measure.js'
import {directoryMarker, S_IFREG, s3fsMetadata, seedClient, seedObjects, type SeedObject} from './lib/seed.js'
import {sdkRates, type SdkRates} from './lib/sdk-rates.js'
import {formatMs, formatTable} from './lib/table.js'
import {progressLine, runBench} from './lib/main.js'
import {randomFile} from './lib/random-file.js'

const BUCKET = 'zerofs-bench'
const SEED_CONCURRENCY = 32
const BASE_MTIME = 1_700_000_000
const MIB = 1 << 20
const GUEST_SCRIPT = fileURLToPath(new URL('lib/nfs-kernel-bench.sh', import.meta.url))
/** Directories of small files: one per client that lists them cold, so each one's first listing is cold. */
const LIST_DIRS = {kernel: 'ls-kernel', libnfs: 'ls-libnfs', s3fs: 'ls-s3fs'} as const
const ONE_MIB_FILE = 'one-mib.bin'
/** A directory holding one file: what libnfs's nfs-ls lists to stat a file (libnfs-utils has no stat tool). */
const STAT_DIR = 'stat-one'

const TARGET = {fileVsGanesha: 2, seqVsSdk: 0.7, lsColdVsS3fs: 2}

interface Options {
  runs: number
  seqMib: number
  files: number
  kernel: boolean
  json: boolean
}

type ServerLabel = 'zerofs-s3' | 'zerofs-file' | 'ganesha'
type Client = 'kernel' | 'libnfs'

/** A server under test, as both clients reach it, and how to tell that a written file is in its store. */
interface Served {
  label: ServerLabel
  nfsPort: number
  mountPort: number
  /** The path clients mount. */
  exportPath: string
  /** Whether `name` (relative to the export) is in the store whole, with `size` bytes. */
  holds(name: string, size: number): Promise<boolean>
}

interface Report {
  options: Options
  /** Milliseconds of every run, by server, client and operation. */
  runs: Record<ServerLabel, Record<Client, Partial<Record<Operation, number[]>>>>
  sdk: SdkRates
  s3fsLsColdMs: number
}

function parseOptions(): Options {
  const {values} = parseArgs({
    options: {
      runs: {type: 'string', default: '5'},
      'seq-mib': {type: 'string', default: '256'},
      files: {type: 'string', default: '1000'},
      'no-kernel': {type: 'boolean', default: false},
      json: {type: 'boolean', default: false},
    },
  })
  const count = (name: string, value: string): number => {
    const parsed = Number(value)
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive whole number, not ${value}`)
    return parsed
  }
  return {
    runs: count('runs', values.runs),
    seqMib: count('seq-mib', values['seq-mib']),
    files: count('files', values.files),
    kernel: !values['no-kernel'],
    json: values.json,
  }
}

const progress = progressLine('nfs')

const fileName = (index: number): string => `f${String(index).padStart(4, '0')}`
const smallContent = (index: number): Buffer => Buffer.from(`small file ${index}\n`)

/** The same tree in the bucket (through the SDK, with s3fs metadata and markers), never through zerofs. */
async function seedBucket(server: S3rverHandle, options: Options, oneMib: Buffer): Promise<void> {
  const client = seedClient({endpoint: server.endpoint, ...S3RVER_CREDENTIALS}, SEED_CONCURRENCY)
  try {
    const objects: SeedObject[] = [
      directoryMarker(STAT_DIR, BASE_MTIME),
      {key: `${STAT_DIR}/file`, body: smallContent(0), metadata: s3fsMetadata(S_IFREG | 0o644, BASE_MTIME)},
      {key: ONE_MIB_FILE, body: oneMib, metadata: s3fsMetadata(S_IFREG | 0o644, BASE_MTIME)},
    ]
    for (const dir of Object.values(LIST_DIRS)) objects.push(directoryMarker(dir, BASE_MTIME))
    const listed = Object.values(LIST_DIRS)
    await seedObjects(client, BUCKET, objects.length + listed.length * options.files, (index) => {
      if (index < objects.length) return objects[index]
      const file = index - objects.length
      const dir = listed[Math.floor(file / options.files)]
      const inDir = file % options.files
      return {key: `${dir}/${fileName(inDir)}`, body: smallContent(inDir), metadata: s3fsMetadata(S_IFREG | 0o644, BASE_MTIME + inDir)}
    }, {concurrency: SEED_CONCURRENCY})
  } finally {
    client.destroy()
  }
}

/** The same tree as plain files (the file store takes a plain directory as its objects; ganesha exports one). */
async function seedDirectory(root: string, options: Options, oneMib: Buffer): Promise<void> {
  await mkdir(join(root, STAT_DIR), {recursive: true})
  await writeFile(join(root, STAT_DIR, 'file'), smallContent(0))
  await writeFile(join(root, ONE_MIB_FILE), oneMib)
  for (const dir of [LIST_DIRS.kernel, LIST_DIRS.libnfs]) {
    await mkdir(join(root, dir))
    for (let index = 0; index < options.files; index++) await writeFile(join(root, dir, fileName(index)), smallContent(index))
  }
}

function libnfsUrl(server: Served, path: string): string {
  const at = `${server.exportPath.replace(/\/$/, '')}/${path}`
  return `nfs://127.0.0.1${at}?nfsport=${server.nfsPort}&mountport=${server.mountPort}&version=3&auto-traverse-mounts=0`
}

const drain = async (stdout: Readable): Promise<void> => {
  for await (const chunk of stdout) void chunk
}

/** The libnfs half: each operation a run of a libnfs-utils tool on the host. */
async function benchLibnfs(server: Served, options: Options, sources: {oneMib: string; seq: string}): Promise<Partial<Record<Operation, number[]>>> {
  const runs: Partial<Record<Operation, number[]>> = {}
  const record = (operation: Operation, ms: number): void => {
    ;(runs[operation] ??= []).push(ms)
  }
  const timed = async (operation: Operation, run: () => Promise<void>): Promise<void> => {
    const started = performance.now()
    await run()
    record(operation, performance.now() - started)
  }
  const tool = (command: string, args: string[], consume?: (stdout: Readable) => Promise<void>) => async (): Promise<void> => {
    await measure(command, args, {consume})
  }
  const writeVisible = (source: string, name: string, size: number) => async (): Promise<void> => {
    await measure('nfs-cp', [source, libnfsUrl(server, name)])
    await until(() => server.holds(name, size), `${server.label} ${name}`)
  }
  await timed('ls-l-cold', tool('nfs-ls', [libnfsUrl(server, LIST_DIRS.libnfs)], drain))
  for (let run = 0; run < options.runs; run++) await timed('ls-l-warm', tool('nfs-ls', [libnfsUrl(server, LIST_DIRS.libnfs)], drain))
  for (let run = 0; run < options.runs; run++) await timed('stat', tool('nfs-ls', [libnfsUrl(server, STAT_DIR)], drain))
  for (let run = 0; run < options.runs; run++) await timed('read-1mib', tool('nfs-cat', [libnfsUrl(server, ONE_MIB_FILE)], drain))
  for (let run = 0; run < options.runs; run++) await timed('write-1mib', writeVisible(sources.oneMib, `libnfs-w1-${run}`, MIB))
  await timed('write-seq', writeVisible(sources.seq, 'libnfs-seq.bin', options.seqMib * MIB))
  await timed('read-seq', tool('nfs-cat', [libnfsUrl(server, 'libnfs-seq.bin')], drain))
  return runs
}

/** The kernel half: one guest mounts every server in turn (nfs-kernel-bench.sh). */
async function benchKernel(servers: Served[], options: Options): Promise<Map<ServerLabel, Partial<Record<Operation, number[]>>>> {
  const byLabel = new Map(servers.map((server) => [server.label, server]))
  const visibility = await answerLines(async (line) => {
    const [verb, label, name, size] = line.split(' ')
    const server = byLabel.get(label as ServerLabel)
    if (verb !== 'visible' || !server) return 'unknown'
    await until(() => server.holds(name, Number(size)), `${label} ${name}`)
    return 'yes'
  })
  const results = new Map<ServerLabel, Partial<Record<Operation, number[]>>>(servers.map((server) => [server.label, {}]))
  try {
    const specs = servers.map((server) => `${server.label}:${server.nfsPort}:${server.mountPort}:${server.exportPath}`)
    const guest = await runInGuest(GUEST_SCRIPT, [String(visibility.port), ...specs], {
      timeoutSeconds: 3 * 3600,
      memMiB: 1024 + 3 * options.seqMib,
      env: {BENCH_RUNS: String(options.runs), BENCH_SEQ_MIB: String(options.seqMib)},
      onLine: (line) => {
        const result = /^RESULT (\S+) (\S+) ([\d.]+)$/.exec(line)
        if (result) {
          const runs = results.get(result[1] as ServerLabel)
          if (runs) (runs[result[2] as Operation] ??= []).push(Number(result[3]))
        }
        progress(`guest: ${line}`)
      },
    })
    if (guest.code !== 0) throw new Error(`the kernel half failed (exit ${guest.code}):\n${guest.output.slice(-4000)}`)
  } finally {
    await visibility.close()
  }
  return results
}

async function benchS3fs(server: S3rverHandle): Promise<number> {
  const mounted = await mountS3fs(server, BUCKET)
  try {
    return (await measure('ls', ['-l', join(mounted.dir, LIST_DIRS.s3fs)])).wallMs
  } finally {
    await mounted.unmount()
  }
}

function s3Served(server: S3rverHandle, serve: ServeProcess): Served {
  const client = seedClient({endpoint: server.endpoint, ...S3RVER_CREDENTIALS}, 4)
  return {
    label: 'zerofs-s3',
    nfsPort: serve.port,
    mountPort: serve.port,
    exportPath: '/',
    async holds(name, size) {
      try {
        return (await client.send(new HeadObjectCommand({Bucket: BUCKET, Key: name}))).ContentLength === size
      } catch {
        return false
      }
    },
  }
}

function directoryServed(label: ServerLabel, root: string, ports: {nfsPort: number; mountPort: number}, exportPath: string): Served {
  return {
    label,
    ...ports,
    exportPath,
    holds: async (name, size) => (await stat(join(root, name)).catch(() => undefined))?.size === size,
  }
}

async function run(options: Options): Promise<Report> {
  await assertMeasurable()
  const scratch = await mkdtemp(join(tmpdir(), 'zerofs-bench-nfs-'))
  const cleanups: Array<() => Promise<unknown>> = [() => rm(scratch, {recursive: true, force: true})]
  try {
    const oneMib = randomBytes(MIB)
    const sources = {oneMib: join(scratch, 'one-mib'), seq: join(scratch, 'seq')}
    await writeFile(sources.oneMib, oneMib)
    await randomFile(sources.seq, options.seqMib * MIB)

    const s3 = await startS3rver([BUCKET])
    cleanups.unshift(() => s3.stop())
    progress(`seeding s3rver, a file store and ganesha's directory (${Object.keys(LIST_DIRS).length} × ${options.files} small files, 1 MiB)`)
    await seedBucket(s3, options, oneMib)
    const fileStore = join(scratch, 'file-store')
    const ganeshaDir = join(scratch, 'ganesha-export')
    for (const dir of [fileStore, ganeshaDir]) await seedDirectory(dir, options, oneMib)

    const env = {XDG_CACHE_HOME: join(scratch, 'xdg-cache'), XDG_DATA_HOME: join(scratch, 'xdg-data')}
    const serveS3 = await startServe([`s3://${BUCKET}`, '--cache-dir', join(scratch, 'cache-s3')], {env: {...env, ...s3.env}})
    cleanups.unshift(() => serveS3.stop())
    const serveFile = await startServe([fileStore, '--cache-dir', join(scratch, 'cache-file')], {env})
    cleanups.unshift(() => serveFile.stop())
    const ganesha: Ganesha = await startGanesha(ganeshaDir)
    cleanups.unshift(() => ganesha.stop())
    const servers: Served[] = [
      s3Served(s3, serveS3),
      directoryServed('zerofs-file', fileStore, {nfsPort: serveFile.port, mountPort: serveFile.port}, '/'),
      directoryServed('ganesha', ganeshaDir, ganesha, ganeshaDir),
    ]

    const report: Report = {
      options,
      runs: {'zerofs-s3': {kernel: {}, libnfs: {}}, 'zerofs-file': {kernel: {}, libnfs: {}}, ganesha: {kernel: {}, libnfs: {}}},
      sdk: {uploadMs: 0, downloadMs: 0, bytes: 0},
      s3fsLsColdMs: 0,
    }
    if (options.kernel) {
      progress('kernel client: one kclient guest mounts each server in turn (takes a while under emulation)')
      for (const [label, runs] of await benchKernel(servers, options)) report.runs[label].kernel = runs
    }
    for (const server of servers) {
      progress(`libnfs: ${server.label}`)
      report.runs[server.label].libnfs = await benchLibnfs(server, options, sources)
    }
    progress('raw SDK upload and download on the same s3rver')
    report.sdk = await sdkRates(s3, BUCKET, sources.seq, options.seqMib * MIB)
    progress('s3fs ls -l, cold')
    report.s3fsLsColdMs = await benchS3fs(s3)
    return report
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => progress(`cleanup: ${String(error)}`))
  }
}

// ── report ──────────────────────────────────────────────────────────────────────────────────────

function typical(runs: number[] | undefined): number | undefined {
  return runs && runs.length > 0 ? median(runs) : undefined
}

const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000)

function verdict(ratio: number | undefined, target: number, atMost: boolean): string {
  if (ratio === undefined) return 'n/a'
  const met = atMost ? ratio <= target : ratio >= target
  return `${ratio.toFixed(2)} ${met ? 'met' : 'MISSED'} (${atMost ? '≤' : '≥'} ${target})`
}

function render(report: Report): string {
  const {options} = report
  const clients: Client[] = options.kernel ? ['kernel', 'libnfs'] : ['libnfs']
  const seqBytes = options.seqMib * MIB
  const rows: string[][] = []
  for (const client of clients) {
    for (const operation of OPERATIONS) {
      const [s3, file, ganesha] = (['zerofs-s3', 'zerofs-file', 'ganesha'] as const).map((label) => typical(report.runs[label][client][operation]))
      const cell = (ms: number | undefined): string => {
        if (ms === undefined) return '-'
        return operation.endsWith('-seq') ? `${formatMs(ms)} (${mbps(seqBytes, ms).toFixed(1)} MB/s)` : formatMs(ms)
      }
      rows.push([`${client}: ${operationName(operation, options)}`, cell(s3), cell(file), cell(ganesha),
        verdict(file !== undefined && ganesha !== undefined ? file / ganesha : undefined, TARGET.fileVsGanesha, true)])
    }
  }
  const sdkUp = mbps(report.sdk.bytes, report.sdk.uploadMs)
  const sdkDown = mbps(report.sdk.bytes, report.sdk.downloadMs)
  const targets: string[][] = []
  for (const client of clients) {
    const runs = report.runs['zerofs-s3'][client]
    const write = typical(runs['write-seq'])
    const read = typical(runs['read-seq'])
    const lsCold = typical(runs['ls-l-cold'])
    targets.push(
      [`${client}: zerofs s3rver write ${options.seqMib} MiB / SDK upload`, write === undefined ? '-' : `${mbps(seqBytes, write).toFixed(1)} / ${sdkUp.toFixed(1)} MB/s`,
        verdict(write === undefined ? undefined : mbps(seqBytes, write) / sdkUp, TARGET.seqVsSdk, false)],
      [`${client}: zerofs s3rver read ${options.seqMib} MiB / SDK download`, read === undefined ? '-' : `${mbps(seqBytes, read).toFixed(1)} / ${sdkDown.toFixed(1)} MB/s`,
        verdict(read === undefined ? undefined : mbps(seqBytes, read) / sdkDown, TARGET.seqVsSdk, false)],
      [`${client}: s3fs ls -l cold / zerofs s3rver ls -l cold`, lsCold === undefined ? '-' : `${formatMs(report.s3fsLsColdMs)} / ${formatMs(lsCold)}`,
        verdict(lsCold === undefined ? undefined : report.s3fsLsColdMs / lsCold, TARGET.lsColdVsS3fs, false)],
    )
  }
  return [
    `bench/nfs: medians of ${options.runs} runs (cold and sequential: one run); all servers on this host's 127.0.0.1`,
    'kernel: the Linux NFSv3 client in one kclient guest; libnfs: libnfs-utils (nfs-ls, nfs-cat, nfs-cp) on the host',
    'warm: the server has listed the directory, the client dropped its caches; stat through libnfs: nfs-ls of a one-file directory',
    '',
    formatTable(['operation', 'zerofs s3rver', 'zerofs file', 'ganesha', 'file / ganesha'], rows),
    '',
    formatTable(['target', 'measured', 'ratio'], targets),
  ].join('\n')
}

await runBench({progress, parseOptions, run, render})
