import {spawn, type ChildProcess} from 'node:child_process'
import {fileURLToPath} from 'node:url'

/**
 * Runs `zerofs serve` in its own process, from the TypeScript sources (no build needed), on a free
 * loopback port, and learns the port from its startup line. With `isolatedNetwork` it runs in a
 * network namespace of its own (root only), whose loopback has every port free: the place to test
 * well-known ports such as the portmapper's 111 without touching the host's.
 */

const repo = fileURLToPath(new URL('../..', import.meta.url))

export interface ServeProcess {
  port: number
  child: ChildProcess
  /** Everything it printed on stderr so far. */
  log(): string
  /** Sends a signal and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<{code: number | null; signal: NodeJS.Signals | null}>
  /** `command args` as run in the server's network (through nsenter when it has a namespace of its own). */
  inNetwork(command: string, args: readonly string[]): [string, string[]]
}

export interface StartServeOptions {
  env?: NodeJS.ProcessEnv
  isolatedNetwork?: boolean
  /** The protocol whose port `port` is: 'nfs' (default), or '9p' (then NFS starts only if `args` has --nfs). */
  protocol?: 'nfs' | '9p'
}

/**
 * `args` without `--nfs` (or `--9p` for protocol '9p') listen on a free 127.0.0.1 port, unless they
 * serve NBD only (`--nbd`); `port` is then the NBD port.
 */
export async function startServe(args: string[], options: StartServeOptions = {}): Promise<ServeProcess> {
  const ninep = options.protocol === '9p'
  const nbdOnly = !ninep && args.includes('--nbd') && !args.includes('--nfs')
  const flag = ninep ? '--9p' : '--nfs'
  const listen = args.includes(flag) || nbdOnly ? [] : [flag, '127.0.0.1:0']
  const ready = ninep ? /over 9P2000\.L on 127\.0\.0\.1:(\d+)/ : nbdOnly ? /over NBD on 127\.0\.0\.1:(\d+)/ : /over NFSv3 on 127\.0\.0\.1:(\d+)/
  const serve = [process.execPath, '--import', 'tsx', `${repo}test/helpers/nfs-serve-main.ts`, ...args, ...listen]
  // unshare execs the shell in the new namespace, which brings its loopback up and execs node: one pid throughout.
  const [command, ...commandArgs] = options.isolatedNetwork
    ? ['unshare', '--net', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...serve]
    : serve
  const child = spawn(command, commandArgs, {
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
      const match = ready.exec(log)
      // With --portmap, ready once the portmapper listens too (it starts after NFS).
      if (match && (!args.includes('--portmap') || log.includes('portmapper on '))) resolve(Number(match[1]))
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
    inNetwork(tool, toolArgs) {
      return options.isolatedNetwork ? ['nsenter', ['--target', String(child.pid), '--net', tool, ...toolArgs]] : [tool, [...toolArgs]]
    },
  }
}
