import {spawn, type ChildProcess} from 'node:child_process'
import {fileURLToPath} from 'node:url'

/**
 * Runs `zerofs serve` in its own process, from the TypeScript sources (no build needed), on a free
 * loopback port, and learns the port from its startup line.
 */

const repo = fileURLToPath(new URL('../..', import.meta.url))

export interface ServeProcess {
  port: number
  child: ChildProcess
  /** Everything it printed on stderr so far. */
  log(): string
  /** Sends a signal and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

/** `args` without `--nfs` listen on a free 127.0.0.1 port. */
export async function startServe(args: string[], options: {env?: NodeJS.ProcessEnv} = {}): Promise<ServeProcess> {
  const listen = args.includes('--nfs') ? [] : ['--nfs', '127.0.0.1:0']
  const child = spawn(process.execPath, ['--import', 'tsx', `${repo}test/helpers/nfs-serve-main.ts`, ...args, ...listen], {
    cwd: repo,
    env: {...process.env, ...options.env},
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => {
    child.once('exit', (code, signal) => resolve({code, signal}))
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8')
      const match = /over NFSv3 on 127\.0\.0\.1:(\d+)/.exec(log)
      if (match) resolve(Number(match[1]))
    })
    void exited.then(({code, signal}) => reject(new Error(`zerofs serve exited (${code ?? signal}) before listening:\n${log}`)))
  })
  return {
    port,
    child,
    log: () => log,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
