import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Fs} from '../../src/core/fs/fs.js'
import {silentLogger} from '../../src/core/logger.js'
import {FileStore} from '../../src/core/store/file-store.js'
import {P9Server} from '../../src/protocols/p9/server.js'

export interface InProcessP9 {
  port: number
  fs: Fs
  server: P9Server
  /** The FileStore directory. */
  storeDir: string
  dispose(): Promise<void>
}

/** A P9Server over a FileStore in a temp directory, on a free loopback port, in this process. */
export async function startInProcessP9(): Promise<InProcessP9> {
  const scratch = await mkdtemp(join(tmpdir(), 'zerofs-p9-test-'))
  const storeDir = join(scratch, 'store')
  await mkdir(storeDir)
  const fs = await Fs.open({store: new FileStore(storeDir), cacheDir: join(scratch, 'cache'), readOnly: false, flushDelayMs: 50})
  const server = new P9Server({fs, logger: silentLogger})
  const bound = await server.listen({host: '127.0.0.1', port: 0})
  return {
    port: 'port' in bound ? bound.port : 0,
    fs,
    server,
    storeDir,
    async dispose() {
      await server.close()
      await fs.close()
      await rm(scratch, {recursive: true, force: true})
    },
  }
}
