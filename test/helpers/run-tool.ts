import {spawn} from 'node:child_process'

/**
 * Runs the real peer tools (rclone, aws, s3fs, zerofs's own bin) as child processes for the interop
 * tests and benchmarks. Output is collected in memory: only for the small outputs of tests.
 */

export interface ToolResult {
  stdout: string
  stderr: string
  /** Exit code; null when the process died of a signal. */
  code: number | null
}

export interface RunToolOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Return a failed run instead of throwing. */
  allowFailure?: boolean
}

export class ToolError extends Error {
  readonly result: ToolResult

  constructor(command: string, args: readonly string[], result: ToolResult) {
    super(`${command} ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`)
    this.name = 'ToolError'
    this.result = result
  }
}

export async function runTool(command: string, args: readonly string[], options: RunToolOptions = {}): Promise<ToolResult> {
  const child = spawn(command, args, {env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe']})
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new Error(`${command} is not installed (npm run setup:test installs the test peers)`, {cause: error}) : error)
    })
    child.once('close', (exitCode) => resolve(exitCode))
  })
  const result = {stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), code}
  if (code !== 0 && !options.allowFailure) throw new ToolError(command, args, result)
  return result
}

/**
 * The environment a peer tool gets: this process's, minus every AWS and rclone setting that could
 * point it at real AWS or a developer's own config (AWS_CA_BUNDLE alone makes rclone 1.60 refuse
 * to start against plain HTTP), in UTC so printed times parse unambiguously.
 */
export function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(AWS_|RCLONE_)/.test(name)) env[name] = value
  }
  return {...env, TZ: 'UTC', ...extra}
}
