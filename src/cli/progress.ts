import type CliProgress from 'cli-progress'
import {Writable} from 'node:stream'

import {formatBytes, formatDuration} from '../core/transfer/summary.js'

/** How migrate and verify show their phases: listr2 tasks and bars on a terminal, status lines elsewhere. */
export type ProgressMode = 'tty' | 'lines' | 'off'

export interface ProgressStatus {
  /** One line: what the phase has done so far. */
  text: string
  /** Bytes done of a known total: shown as a bar with rate and ETA on a terminal. */
  bar?: {value: number; total: number; items: string}
}

export interface ProgressOptions<Result, Phase extends string> {
  mode: ProgressMode
  /** Prefix of status lines: the command id. */
  command: string
  phases: ReadonlyArray<{id: Phase; title: string}>
  status: (phase: Phase) => ProgressStatus
  /** The work; it calls `enter` as each phase starts. */
  work: (enter: (phase: Phase) => void) => Promise<Result>
}

/** Status lines on a pipe or in a log: one per phase start, then one every this many ms. */
const STATUS_INTERVAL_MS = 10_000
const REFRESH_MS = 200

export function progressMode(enabled: boolean): ProgressMode {
  if (!enabled) return 'off'
  return process.stdout.isTTY && process.stderr.isTTY ? 'tty' : 'lines'
}

/**
 * Shows the phases of a long command while it runs: on a terminal, listr2 tasks (one per phase)
 * whose output line is the status, with a cli-progress bar of bytes (rate, ETA) where the phase
 * knows its total; elsewhere, a status line on stderr at each phase start and every 10 s.
 */
export async function withProgress<Result, Phase extends string>(options: ProgressOptions<Result, Phase>): Promise<Result> {
  if (options.mode === 'off') return options.work(() => undefined)
  if (options.mode === 'lines') return withStatusLines(options)
  return withTaskList(options)
}

async function withStatusLines<Result, Phase extends string>(options: ProgressOptions<Result, Phase>): Promise<Result> {
  let current: Phase | undefined
  const print = (): void => {
    if (current === undefined) return
    const title = options.phases.find((phase) => phase.id === current)?.title ?? current
    process.stderr.write(`${options.command}: ${title.toLowerCase()}: ${statusLine(options.status(current), startedAt)}\n`)
  }
  const startedAt = Date.now()
  const timer = setInterval(print, STATUS_INTERVAL_MS)
  try {
    return await options.work((phase) => {
      current = phase
      print()
    })
  } finally {
    clearInterval(timer)
  }
}

async function withTaskList<Result, Phase extends string>(options: ProgressOptions<Result, Phase>): Promise<Result> {
  // Loaded only for a terminal: scripts and cron jobs (no TTY) do not pay for them at every start.
  const [{Listr}, {default: cliProgress}] = await Promise.all([import('listr2'), import('cli-progress')])
  const phases = new PhaseSignals(options.phases.map((phase) => phase.id))
  const list = new Listr(options.phases.map((phase, index) => ({
    title: phase.title,
    task: async (_context: unknown, task: {output: string}) => {
      await phases.entered(index)
      const bar = new ByteBar(cliProgress)
      const refresh = (): void => {
        const status = options.status(phase.id)
        task.output = status.bar === undefined ? status.text : bar.line(status.bar)
      }
      refresh()
      const timer = setInterval(refresh, REFRESH_MS)
      try {
        await phases.ended(index)
      } finally {
        clearInterval(timer)
        bar.stop()
      }
    },
  })), {exitOnError: true, rendererOptions: {collapseErrors: false}})
  const work = options.work((phase) => phases.enter(options.phases.findIndex((candidate) => candidate.id === phase)))
  work.then(() => phases.finish(), (error: unknown) => phases.fail(error))
  const [result] = await Promise.allSettled([work, list.run()])
  if (result.status === 'rejected') throw result.reason
  return result.value
}

function statusLine(status: ProgressStatus, startedAt: number): string {
  const bar = status.bar
  if (bar === undefined || bar.value === 0) return status.text
  const elapsed = (Date.now() - startedAt) / 1000
  const rate = bar.value / Math.max(elapsed, 0.001)
  const eta = rate > 0 ? formatDuration(((bar.total - bar.value) / rate) * 1000) : '?'
  return `${status.text}, ${formatBytes(rate)}/s, ETA ${eta}`
}

/** Promises for "phase i has started" and "phase i is over", driven by the work's `enter` calls. */
class PhaseSignals {
  private readonly started: Array<Deferred>
  private readonly over: Array<Deferred>
  private current = -1

  constructor(ids: readonly string[]) {
    this.started = ids.map(() => deferred())
    this.over = ids.map(() => deferred())
  }

  entered(index: number): Promise<void> {
    return this.started[index].promise
  }

  ended(index: number): Promise<void> {
    return this.over[index].promise
  }

  enter(index: number): void {
    for (let phase = Math.max(this.current, 0); phase < index; phase++) this.over[phase].resolve()
    for (let phase = this.current + 1; phase <= index; phase++) this.started[phase].resolve()
    this.current = Math.max(this.current, index)
  }

  finish(): void {
    for (const signal of [...this.started, ...this.over]) signal.resolve()
  }

  fail(error: unknown): void {
    const failing = Math.max(this.current, 0)
    this.started[failing].resolve()
    this.over[failing].reject(error)
    // Later phases never start: listr2 stops at the failed one.
  }
}

interface Deferred {
  promise: Promise<void>
  resolve(): void
  reject(error: unknown): void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise
    reject = rejectPromise
  })
  promise.catch(() => undefined)
  return {promise, resolve, reject}
}

/**
 * A cli-progress bar rendered into a string (listr2 owns the terminal): the bar draws into a sink
 * in its non-terminal mode and the last line it drew is shown as the task's output.
 */
class ByteBar {
  private bar?: CliProgress.SingleBar
  private drawn = ''
  private readonly startedAt = Date.now()

  constructor(private readonly cliProgress: typeof CliProgress) {}

  line(status: {value: number; total: number; items: string}): string {
    const rate = status.value / Math.max((Date.now() - this.startedAt) / 1000, 0.001)
    const payload = {items: status.items, done: formatBytes(status.value), all: formatBytes(status.total), rate: `${formatBytes(rate)}/s`}
    if (this.bar === undefined) {
      const sink = new Writable({
        write: (chunk: Buffer, _encoding, callback) => {
          const text = chunk.toString('utf8')
          if (text.trim() !== '') this.drawn = text
          callback()
        },
      })
      this.bar = new this.cliProgress.SingleBar({
        stream: sink as unknown as NodeJS.WritableStream,
        noTTYOutput: true,
        notTTYSchedule: REFRESH_MS / 2,
        format: '{bar} {percentage}% | {items} | {done}/{all} | {rate} | ETA {eta_formatted}',
        etaBuffer: 50,
        hideCursor: null,
        gracefulExit: false,
      }, this.cliProgress.Presets.shades_classic)
      this.bar.start(status.total, status.value, payload)
    } else {
      this.bar.setTotal(status.total)
      this.bar.update(status.value, payload)
    }
    return this.drawn
  }

  stop(): void {
    this.bar?.stop()
  }
}
