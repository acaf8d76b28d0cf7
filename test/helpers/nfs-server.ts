import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Fs} from '../../src/core/fs/fs.js'
import {FileStore} from '../../src/core/store/file-store.js'
import {createNfsServer} from '../../src/protocols/nfs3/server.js'
import type {RpcLogger} from '../../src/protocols/rpc/dispatcher.js'
import type {RpcServer} from '../../src/protocols/rpc/server.js'
import type {Squash} from '../../src/protocols/rpc/squash.js'

export const silentLogger: RpcLogger = {debug() {}, info() {}, warn() {}, error() {}}

export interface InProcessNfs {
  port: number
  fs: Fs
  store: FileStore
  /** The FileStore directory. */
  storeDir: string
  /** Stops the server and closes the core (uploading what is staged), as a clean shutdown does. */
  stop(): Promise<void>
  /** stop(), then a new core and server over the same store and cache (new port, new write verifier). */
  restart(options?: {readOnly?: boolean}): Promise<void>
  dispose(): Promise<void>
}

/** `createNfsServer` over a FileStore in a temp directory, on a free loopback port, in this process. */
export async function startInProcessNfs(options: {readOnly?: boolean; allow?: string[]; fsid?: bigint; squash?: Squash} = {}): Promise<InProcessNfs> {
  const scratch = await mkdtemp(join(tmpdir(), 'zerofs-nfs-test-'))
  const storeDir = join(scratch, 'store')
  await mkdir(storeDir)
  const store = new FileStore(storeDir)
  let fs: Fs
  let server: RpcServer
  let port = 0
  const start = async (readOnly: boolean): Promise<void> => {
    fs = await Fs.open({store, cacheDir: join(scratch, 'cache'), readOnly, flushDelayMs: 50})
    server = createNfsServer({fs, fsid: options.fsid ?? 42n, readOnly, allow: options.allow, squash: options.squash, logger: silentLogger})
    port = (await server.listen(0, '127.0.0.1')).port
  }
  const stop = async (): Promise<void> => {
    await server.close()
    await fs.close()
  }
  await start(options.readOnly ?? false)
  return {
    get port() {
      return port
    },
    get fs() {
      return fs
    },
    store,
    storeDir,
    stop,
    async restart(restartOptions = {}) {
      await stop()
      await start(restartOptions.readOnly ?? options.readOnly ?? false)
    },
    async dispose() {
      await stop().catch(() => undefined)
      await store.close()
      await rm(scratch, {recursive: true, force: true})
    },
  }
}
