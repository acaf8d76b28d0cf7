/**
 * bench/9p: `zerofs serve --9p` on a file store against diod (the reference 9P2000.L server)
 * exporting a local directory, in one run, through the Linux kernel's 9P client in one kclient
 * guest: the seed operations of bench/nfs (`ls -l` of a 1,000-file directory cold and warm, `stat`,
 * reading 1 MiB, writing 1 MiB until it is in the store) and a sequential write (until in the
 * store) and read. Prints the numbers and the ratios against the target (within 2× diod).
 *
 *   node --import tsx bench/9p.ts [--runs 5] [--seq-mib 256] [--files 1000] [--json]
 *
 * Needs root (diod, the guest's mounts), ../shared/kclient and diod. zerofs runs from the sources;
 * both servers listen on 127.0.0.1 only, and everything is removed at the end.
 */
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdir, mkdtemp, rm, stat, writeFile} from 'node:fs/promises'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {runInGuest} from '../test/helpers/kclient.js'
import {startServe} from '../test/helpers/nfs-serve.js'
import {freePort} from './lib/free-port.js'
import {OPERATIONS, operationName, until, type Operation} from './lib/kernel-bench.js'
import {answerLines} from './lib/line-server.js'
import {progressLine, runBench} from './lib/main.js'
import {median} from './lib/measure.js'
import {formatMs, formatTable} from './lib/table.js'

const GUEST_SCRIPT = fileURLToPath(new URL('lib/nfs-kernel-bench.sh', import.meta.url))
const MIB = 1 << 20
const TARGET_VS_DIOD = 2

type ServerLabel = 'zerofs-file' | 'diod'

interface Options {
  runs: number
  seqMib: number
  files: number
  json: boolean
}

interface Served {
  label: ServerLabel
  port: number
  /** The aname the guest attaches. */
  aname: string
  /** The directory whose files are the store's objects. */
  root: string
}

type Report = {options: Options; runs: Record<ServerLabel, Partial<Record<Operation, number[]>>>}

function parseOptions(): Options {
  const {values} = parseArgs({
    options: {
      runs: {type: 'string', default: '5'},
      'seq-mib': {type: 'string', default: '256'},
      files: {type: 'string', default: '1000'},
      json: {type: 'boolean', default: false},
    },
  })
  const count = (name: string, value: string): number => {
    const parsed = Number(value)
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive whole number, not ${value}`)
    return parsed
  }
  return {runs: count('runs', values.runs), seqMib: count('seq-mib', values['seq-mib']), files: count('files', values.files), json: values.json}
}

const progress = progressLine('9p')

/** What the guest script reads: a directory of small files and a 1 MiB file (the file store takes a plain directory as its objects). */
async function seedDirectory(root: string, options: Options): Promise<void> {
  await mkdir(join(root, 'ls-kernel'), {recursive: true})
  await writeFile(join(root, 'one-mib.bin'), randomBytes(MIB))
  for (let index = 0; index < options.files; index++) {
    await writeFile(join(root, 'ls-kernel', `f${String(index).padStart(4, '0')}`), `small file ${index}\n`)
  }
}

/** diod in the foreground, without authentication, exporting `dir` on 127.0.0.1:port; resolves once it accepts connections. */
async function startDiod(dir: string): Promise<{port: number; stop(): Promise<void>}> {
  const port = await freePort()
  const child = spawn('/usr/sbin/diod', ['-f', '-n', '-l', `127.0.0.1:${port}`, '-e', dir, '-L', 'stderr'], {stdio: ['ignore', 'ignore', 'pipe']})
  let log = ''
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  for (;;) {
    if (child.exitCode !== null) throw new Error(`diod exited: ${log}`)
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy()
        resolve(true)
      }).once('error', () => resolve(false))
    })
    if (accepted) break
    await sleep(20)
  }
  return {port, async stop() {
    child.kill('SIGTERM')
    await exited
  }}
}

async function run(options: Options): Promise<Report> {
  const scratch = await mkdtemp(join(tmpdir(), 'zerofs-bench-9p-'))
  const cleanups: Array<() => Promise<unknown>> = [() => rm(scratch, {recursive: true, force: true})]
  try {
    const fileStore = join(scratch, 'file-store')
    const diodDir = join(scratch, 'diod-export')
    progress(`seeding a file store and diod's directory (${options.files} small files, 1 MiB)`)
    for (const dir of [fileStore, diodDir]) await seedDirectory(dir, options)
    const env = {XDG_CACHE_HOME: join(scratch, 'xdg-cache'), XDG_DATA_HOME: join(scratch, 'xdg-data')}
    const zerofs = await startServe([fileStore, '--cache-dir', join(scratch, 'cache-file')], {env, protocol: '9p'})
    cleanups.unshift(() => zerofs.stop())
    const diod = await startDiod(diodDir)
    cleanups.unshift(() => diod.stop())
    const servers: Served[] = [
      {label: 'zerofs-file', port: zerofs.port, aname: '/', root: fileStore},
      {label: 'diod', port: diod.port, aname: diodDir, root: diodDir},
    ]
    const byLabel = new Map(servers.map((server) => [server.label, server]))
    const visibility = await answerLines(async (line) => {
      const [verb, label, name, size] = line.split(' ')
      const server = byLabel.get(label as ServerLabel)
      if (verb !== 'visible' || !server) return 'unknown'
      await until(async () => (await stat(join(server.root, name)).catch(() => undefined))?.size === Number(size), `${label} ${name}`)
      return 'yes'
    })
    cleanups.unshift(() => visibility.close())
    const report: Report = {options, runs: {'zerofs-file': {}, diod: {}}}
    progress('kernel client: one kclient guest mounts each server in turn (takes a while under emulation)')
    const guest = await runInGuest(GUEST_SCRIPT, [String(visibility.port), ...servers.map((server) => `${server.label}:${server.port}:0:${server.aname}`)], {
      timeoutSeconds: 3 * 3600,
      memMiB: 1024 + 3 * options.seqMib,
      env: {PROTO: '9p', BENCH_RUNS: String(options.runs), BENCH_SEQ_MIB: String(options.seqMib)},
      onLine: (line) => {
        const result = /^RESULT (\S+) (\S+) ([\d.]+)$/.exec(line)
        if (result && result[1] in report.runs) (report.runs[result[1] as ServerLabel][result[2] as Operation] ??= []).push(Number(result[3]))
        progress(`guest: ${line}`)
      },
    })
    if (guest.code !== 0) throw new Error(`the kernel run failed (exit ${guest.code}):\n${guest.output.slice(-4000)}`)
    return report
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => progress(`cleanup: ${String(error)}`))
  }
}

function render(report: Report): string {
  const {options} = report
  const seqBytes = options.seqMib * MIB
  const rows = OPERATIONS.map((operation) => {
    const [zerofs, diod] = (['zerofs-file', 'diod'] as const).map((label) => {
      const runs = report.runs[label][operation]
      return runs && runs.length > 0 ? median(runs) : undefined
    })
    const cell = (ms: number | undefined): string => {
      if (ms === undefined) return '-'
      return operation.endsWith('-seq') ? `${formatMs(ms)} (${(seqBytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s)` : formatMs(ms)
    }
    const ratio = zerofs !== undefined && diod !== undefined ? zerofs / diod : undefined
    const verdict = ratio === undefined ? 'n/a' : `${ratio.toFixed(2)} ${ratio <= TARGET_VS_DIOD ? 'met' : 'MISSED'} (≤ ${TARGET_VS_DIOD})`
    return [operationName(operation, options), cell(zerofs), cell(diod), verdict]
  })
  return [
    `bench/9p: medians of ${options.runs} runs (cold and sequential: one run); both servers on this host's 127.0.0.1`,
    'the Linux 9P2000.L client (trans=tcp, default cache) in one kclient guest; warm: the client dropped its caches',
    '',
    formatTable(['operation', 'zerofs file', 'diod', 'zerofs / diod'], rows),
  ].join('\n')
}

await runBench({progress, parseOptions, run, render})
