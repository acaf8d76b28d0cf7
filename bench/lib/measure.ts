import {spawn} from 'node:child_process'
import {access, mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import type {Readable} from 'node:stream'

/**
 * Runs one command and measures it: wall time from spawn to exit (measured here) and peak resident
 * memory (the kernel's exact maximum RSS of the process, read through GNU time, which every
 * measured command runs under, so tools are compared under identical conditions).
 */

export interface Measurement {
  wallMs: number
  /** Peak resident set size, bytes. */
  maxRssBytes: number
}

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv
  /** Reads the command's stdout (e.g. to verify it); without it, stdout goes to /dev/null. */
  consume?: (stdout: Readable) => Promise<void>
}

const GNU_TIME = '/usr/bin/time'

export async function assertMeasurable(): Promise<void> {
  await access(GNU_TIME).catch(() => {
    throw new Error(`${GNU_TIME} (GNU time) is needed to read peak RSS: apt-get install time`)
  })
}

export async function measure(command: string, args: readonly string[], options: MeasureOptions = {}): Promise<Measurement> {
  const work = await mkdtemp(join(tmpdir(), 'zerofs-measure-'))
  const rssFile = join(work, 'maxrss')
  try {
    const started = performance.now()
    const child = spawn(GNU_TIME, ['-f', '%M', '-o', rssFile, command, ...args], {
      env: options.env ?? process.env,
      stdio: ['ignore', options.consume ? 'pipe' : 'ignore', 'pipe'],
      detached: true, // its own process group, so a failed run can be ended together with GNU time's child
    })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000)
    })
    const exit = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code) => resolve(code))
    })
    const consumed = options.consume && child.stdout
      ? options.consume(child.stdout).catch((error: unknown) => {
        if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL')
        throw error
      })
      : undefined
    const [exited, consumption] = await Promise.allSettled([exit, consumed])
    if (exited.status === 'rejected') throw exited.reason
    if (consumption.status === 'rejected') throw consumption.reason
    const code = exited.value
    const wallMs = performance.now() - started
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`)
    const maxRssKiB = Number((await readFile(rssFile, 'utf8')).trim().split('\n').pop())
    return {wallMs, maxRssBytes: maxRssKiB * 1024}
  } finally {
    await rm(work, {recursive: true, force: true})
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/**
 * Commands measured `runs` times each, taking turns at going first (so that none always meets a
 * server another has just warmed): each command's measurements, in the order of `commands`.
 */
export async function takingTurns(runs: number, commands: ReadonlyArray<() => Promise<Measurement>>, onRun?: (run: number) => void): Promise<Measurement[][]> {
  const measurements = commands.map((): Measurement[] => [])
  for (let run = 0; run < runs; run++) {
    onRun?.(run)
    for (let step = 0; step < commands.length; step++) {
      const index = (run + step) % commands.length
      measurements[index].push(await commands[index]())
    }
  }
  return measurements
}

/** Two commands measured taking turns (takingTurns), each as its median run (medianRun). */
export async function alternatingMedians(runs: number, first: () => Promise<Measurement>, second: () => Promise<Measurement>): Promise<[Measurement, Measurement]> {
  const [firsts, seconds] = await takingTurns(Math.max(1, runs), [first, second])
  return [medianRun(firsts), medianRun(seconds)]
}

/** Runs of one command as one: the median wall time and the largest peak RSS. */
export function medianRun(measurements: readonly Measurement[]): Measurement {
  return {wallMs: median(measurements.map((m) => m.wallMs)), maxRssBytes: Math.max(...measurements.map((m) => m.maxRssBytes))}
}
