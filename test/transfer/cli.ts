import {spawn, type ChildProcess} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {isolatedEnv} from '../helpers/run-tool.js'

/** `zerofs migrate|verify …` from the source tree in a child process (see run-command.ts). */

const script = fileURLToPath(new URL('run-command.ts', import.meta.url))

export interface CommandResult {
  stdout: string
  stderr: string
  code: number | null
}

export interface CommandOptions {
  /** Added to an environment without the host's AWS settings (TZ=UTC). */
  env?: NodeJS.ProcessEnv
}

export function spawnCommand(args: readonly string[], options: CommandOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {env: isolatedEnv(options.env), stdio: ['ignore', 'pipe', 'pipe']})
}

export async function runCommand(args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const child = spawnCommand(args, options)
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  return {stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), code}
}
