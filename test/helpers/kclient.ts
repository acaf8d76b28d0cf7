import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * Runs a shell script as root inside the kclient guest (../shared/kclient: the Debian kernel under
 * QEMU), where the host's 127.0.0.1:P is $HOST:P. Output is streamed to `onLine` as it arrives.
 */

const repo = fileURLToPath(new URL('../..', import.meta.url))
export const KCLIENT_DIR = resolve(repo, '../shared/kclient')

export interface KclientResult {
  /** The script's exit status; 124 timeout, 125 the guest did not boot. */
  code: number | null
  output: string
}

export function assertKclientReady(): void {
  if (!existsSync(resolve(KCLIENT_DIR, 'run'))) throw new Error(`kclient not found at ${KCLIENT_DIR}`)
  if (!existsSync('/usr/bin/qemu-system-x86_64')) throw new Error(`QEMU is missing: run ${KCLIENT_DIR}/setup first`)
}

export interface GuestOptions {
  timeoutSeconds: number
  onLine?: (line: string) => void
  /** Guest memory (kclient's default is 1024 MiB). */
  memMiB?: number
  /** Added to the environment the script sees (the guest gets the caller's environment). */
  env?: NodeJS.ProcessEnv
}

export async function runInGuest(script: string, args: string[], options: GuestOptions): Promise<KclientResult> {
  assertKclientReady()
  const memory = options.memMiB === undefined ? [] : ['--mem', String(options.memMiB)]
  const child = spawn(resolve(KCLIENT_DIR, 'run'), ['--timeout', String(options.timeoutSeconds), ...memory, script, ...args], {
    cwd: repo,
    env: {...process.env, ...options.env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let partial = ''
  // Decode through each stream's own StringDecoder: a chunk may end inside a multi-byte character.
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  const collect = (text: string): void => {
    output += text
    const lines = (partial + text).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) options.onLine?.(line)
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const code = await new Promise<number | null>((resolveCode, reject) => {
    child.once('error', reject)
    child.once('close', (exitCode) => resolveCode(exitCode))
  })
  if (partial !== '') options.onLine?.(partial)
  return {code, output}
}
