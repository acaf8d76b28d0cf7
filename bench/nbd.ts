/**
 * bench/nbd: `nbdcopy` of a random image into and out of `zerofs serve --nbd`, on s3rver and on a
 * file store, beside nbdkit's `file` plugin on a local file (the reference NBD server) and the raw
 * SDK's upload and download rates on the same s3rver, in one run. "in" lasts until nbdcopy's final
 * FLUSH is answered (the data is in the store); "out" reads from a freshly restarted server, whose
 * local chunk cache is empty. Prints the numbers and the ratios against the targets.
 *
 *   node --import tsx bench/nbd.ts [--mib 256] [--chunk-sizes 1M,4M] [--only nbdkit,file,s3] [--json]
 *
 * --only runs a part of the servers (the raw SDK runs whenever s3 does); ratios need both sides.
 *
 * Needs libnbd-bin (nbdcopy), nbdkit and GNU time. Servers run from the sources (no build needed);
 * all listen on 127.0.0.1 only, and everything is removed at the end.
 */
import {spawn} from 'node:child_process'
import {mkdir, mkdtemp, rm, truncate, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {startServe} from '../test/helpers/nfs-serve.js'
import {startS3rver, type S3rverHandle} from '../test/helpers/s3rver.js'
import {freePort} from './lib/free-port.js'
import {assertMeasurable, measure} from './lib/measure.js'
import {sdkRates, type SdkRates} from './lib/sdk-rates.js'
import {formatMs, formatTable} from './lib/table.js'
import {randomFile} from './lib/random-file.js'

const BUCKET = 'zerofs-bench'
const MIB = 1 << 20
const TARGET = {fileVsNbdkit: 2, s3VsSdk: 0.7}

const PARTS = ['nbdkit', 'file', 's3'] as const
type Part = typeof PARTS[number]

interface Options {
  mib: number
  chunkSizes: string[]
  only: Part[]
  json: boolean
}

interface Copy {
  label: string
  inMs: number
  outMs: number
}

interface Report {
  options: Options
  copies: Copy[]
  sdk?: SdkRates
}

function parseOptions(): Options {
  const {values} = parseArgs({
    options: {
      mib: {type: 'string', default: '256'},
      'chunk-sizes': {type: 'string', default: '1M,4M'},
      only: {type: 'string', default: PARTS.join(',')},
      json: {type: 'boolean', default: false},
    },
  })
  const mib = Number(values.mib)
  if (!Number.isInteger(mib) || mib < 1) throw new Error(`--mib must be a positive whole number, not ${values.mib}`)
  const only = values.only.split(',').map((part) => {
    if (!(PARTS as readonly string[]).includes(part)) throw new Error(`--only takes ${PARTS.join(', ')}, not ${part}`)
    return part as Part
  })
  return {mib, chunkSizes: values['chunk-sizes'].split(','), only, json: values.json}
}

function progress(message: string): void {
  process.stderr.write(`bench/nbd: ${message}\n`)
}

/** nbdcopy in (with the final FLUSH) and out to null: of the server `start` brings up, restarted between. */
async function copyThrough(label: string, source: string, start: () => Promise<{url: string; stop: () => Promise<void>}>): Promise<Copy> {
  progress(`${label}: in`)
  let server = await start()
  const copiedIn = await measure('nbdcopy', ['--flush', source, server.url]).finally(() => server.stop())
  server = await start()
  progress(`${label}: out`)
  const copiedOut = await measure('nbdcopy', [server.url, 'null:']).finally(() => server.stop())
  return {label, inMs: copiedIn.wallMs, outMs: copiedOut.wallMs}
}

/** `zerofs serve --nbd` on a store; the device is created by the first start. */
function zerofs(store: string, cacheDir: string, mib: number, chunkSize: string, env: NodeJS.ProcessEnv) {
  return async () => {
    const serve = await startServe([store, '--cache-dir', cacheDir, '--nbd', '127.0.0.1:0', '--nbd-device', `disk=${mib}M`, '--nbd-chunk-size', chunkSize], {env})
    return {
      url: `nbd://127.0.0.1:${serve.port}/disk`,
      stop: async () => {
        const {code} = await serve.stop('SIGTERM')
        if (code !== 0) throw new Error(`zerofs serve exited with ${code}:\n${serve.log()}`)
      },
    }
  }
}

function nbdkitFile(file: string) {
  return async () => {
    const port = await freePort()
    const child = spawn('nbdkit', ['-f', '-i', '127.0.0.1', '-p', String(port), 'file', file], {stdio: ['ignore', 'ignore', 'inherit']})
    const exited = new Promise((resolve) => child.once('exit', resolve))
    await waitForNbd(port)
    return {
      url: `nbd://127.0.0.1:${port}`,
      stop: async () => {
        child.kill('SIGTERM')
        await exited
      },
    }
  }
}

async function waitForNbd(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await measure('nbdinfo', ['--size', `nbd://127.0.0.1:${port}`])
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  throw new Error(`nbdkit did not listen on ${port}`)
}

async function run(options: Options): Promise<Report> {
  await assertMeasurable()
  const scratch = await mkdtemp(join(tmpdir(), 'zerofs-bench-nbd-'))
  let s3: S3rverHandle | undefined
  try {
    const bytes = options.mib * MIB
    const source = join(scratch, 'image.raw')
    await randomFile(source, bytes)
    s3 = await startS3rver([BUCKET])
    const copies: Copy[] = []
    const wanted = (part: Part): boolean => options.only.includes(part)
    if (wanted('nbdkit')) {
      const nbdkitImage = join(scratch, 'nbdkit.raw')
      await writeFile(nbdkitImage, '')
      await truncate(nbdkitImage, bytes)
      copies.push(await copyThrough('nbdkit file', source, nbdkitFile(nbdkitImage)))
    }
    for (const chunkSize of options.chunkSizes) {
      if (wanted('file')) {
        const store = join(scratch, `store-${chunkSize}`)
        await mkdir(store)
        copies.push(await copyThrough(`zerofs file store, ${chunkSize} chunks`, source, zerofs(store, join(scratch, `cache-file-${chunkSize}`), options.mib, chunkSize, {})))
      }
      if (wanted('s3')) {
        copies.push(await copyThrough(`zerofs s3rver, ${chunkSize} chunks`, source,
          zerofs(`s3://${BUCKET}/${chunkSize}`, join(scratch, `cache-s3-${chunkSize}`), options.mib, chunkSize, s3.env)))
        // Each chunk size gets its own bucket space: one serve's devices live at the bucket root.
        await emptyBucket(s3)
      }
    }
    if (!wanted('s3')) return {options, copies}
    progress('raw SDK')
    const sdk = await sdkRates(s3, BUCKET, source, bytes)
    return {options, copies, sdk}
  } finally {
    await s3?.stop()
    await rm(scratch, {recursive: true, force: true})
  }
}

/** Deletes every object of the bench bucket (s3rver keeps them as files in its directory). */
async function emptyBucket(s3: S3rverHandle): Promise<void> {
  const {S3Store} = await import('../src/core/store/s3-store.js')
  const store = await S3Store.open(BUCKET, '', {endpoint: s3.endpoint, credentials: {accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER'}})
  try {
    const keys = async function* (): AsyncGenerator<string> {
      for await (const entry of store.list()) if (entry.kind === 'object') yield entry.key
    }
    await store.delete(keys())
  } finally {
    await store.close()
  }
}

function render(report: Report): string {
  const bytes = report.options.mib * MIB
  const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000)
  const cell = (ms: number): string => `${formatMs(ms)} (${mbps(ms).toFixed(1)} MB/s)`
  const nbdkit = report.copies.find((copy) => copy.label === 'nbdkit file')
  const {sdk} = report
  const rows = report.copies.map((copy) => [copy.label, cell(copy.inMs), cell(copy.outMs)])
  if (sdk !== undefined) rows.push(['raw SDK upload / download (s3rver)', cell(sdk.uploadMs), cell(sdk.downloadMs)])
  const verdict = (ratio: number, target: number, atMost: boolean): string =>
    `${ratio.toFixed(2)} ${(atMost ? ratio <= target : ratio >= target) ? 'meets' : 'misses'} ${atMost ? '<=' : '>='} ${target}`
  const targets: string[][] = []
  for (const copy of report.copies) {
    if (copy.label.startsWith('zerofs file') && nbdkit !== undefined) {
      targets.push([`${copy.label} / nbdkit file, in`, verdict(copy.inMs / nbdkit.inMs, TARGET.fileVsNbdkit, true)])
      targets.push([`${copy.label} / nbdkit file, out`, verdict(copy.outMs / nbdkit.outMs, TARGET.fileVsNbdkit, true)])
    }
    if (copy.label.startsWith('zerofs s3rver') && sdk !== undefined) {
      targets.push([`${copy.label} in rate / SDK upload rate`, verdict(sdk.uploadMs / copy.inMs, TARGET.s3VsSdk, false)])
      targets.push([`${copy.label} out rate / SDK download rate`, verdict(sdk.downloadMs / copy.outMs, TARGET.s3VsSdk, false)])
    }
  }
  return [
    `bench/nbd: nbdcopy of ${report.options.mib} MiB of random bytes, one run each; all servers on this host's 127.0.0.1`,
    'in: until nbdcopy --flush returns (zerofs: every chunk in the store); out: from a restarted server (empty chunk cache) to null:',
    '',
    formatTable(['server', 'in', 'out'], rows),
    '',
    formatTable(['target', 'ratio'], targets),
  ].join('\n')
}

try {
  const options = parseOptions()
  const report = await run(options)
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${render(report)}\n`)
} catch (error) {
  progress(error instanceof Error ? error.stack ?? error.message : String(error))
  process.exitCode = 1
}
