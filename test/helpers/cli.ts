import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {isolatedEnv} from './run-tool.js'

/**
 * Runs the built CLI (`node bin/run.js`, as users run it) in a child process and captures what it
 * prints. The tests exercise the shipped artifact, so `npm run build` must have run (`npm test` does).
 */

const root = fileURLToPath(new URL('../..', import.meta.url))
const runJs = `${root}bin/run.js`

export interface CliResult {
  /** Raw bytes: `cat` output is binary. */
  stdout: Buffer
  stderr: string
  /** null when the process died of a signal. */
  code: number | null
  signal: NodeJS.Signals | null
}

export interface CliOptions {
  /**
   * Added to the parent's environment minus its AWS and rclone settings (see isolatedEnv; TZ=UTC).
   * A value of undefined removes the variable.
   */
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Stop reading stdout after this many bytes and close the pipe, like `| head -c N`. */
  stdoutLimit?: number
}

export function assertCliBuilt(): void {
  if (!existsSync(`${root}dist/commands/ls.js`)) {
    throw new Error('the CLI is not built: run `npm run build` first (npm test does)')
  }
}

export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  assertCliBuilt()
  const env = isolatedEnv(options.env)
  for (const [name, value] of Object.entries(options.env ?? {})) if (value === undefined) delete env[name]
  const child = spawn(process.execPath, [runJs, ...args], {cwd: options.cwd ?? root, env, stdio: ['ignore', 'pipe', 'pipe']})

  const stdout: Buffer[] = []
  let stdoutBytes = 0
  child.stdout.on('data', (chunk: Buffer) => {
    const limit = options.stdoutLimit
    if (limit === undefined) {
      stdout.push(chunk)
      return
    }
    if (stdoutBytes < limit) stdout.push(chunk.subarray(0, limit - stdoutBytes))
    stdoutBytes += chunk.length
    if (stdoutBytes >= limit) child.stdout.destroy()
  })
  const stderr: Buffer[] = []
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))

  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]))
  })
  return {stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8'), code, signal}
}

/** Lines of a text output, without the final empty one. */
export function lines(output: Buffer | string): string[] {
  const text = output.toString()
  return text === '' ? [] : text.replace(/\n$/, '').split('\n')
}
