import {createHash} from 'node:crypto'

import type {PosixFs} from '../core/fs/types.js'
import type {Logger} from '../core/logger.js'
import {MOUNT_PROGRAM, MOUNT_V3} from '../protocols/mount3/constants.js'
import {NFS_PROGRAM, NFS_V3} from '../protocols/nfs3/constants.js'
import {createNfsServer} from '../protocols/nfs3/server.js'
import {Portmapper} from '../protocols/portmap/server.js'
import {allowList} from '../protocols/rpc/allow-list.js'
import type {Squash} from '../protocols/rpc/squash.js'
import {shownHost, type ListenAddress} from './listen-address.js'

/**
 * `zerofs serve --nfs ADDR:PORT`: NFSv3 and MOUNT v3 on one port over the served Fs, and the
 * optional portmapper pointing at it; serve.ts only calls `startNfs`.
 */

export interface NfsServeOptions {
  listen: ListenAddress
  portmap?: ListenAddress
  /** CIDRs whose clients may call (empty: everyone who reaches the address). */
  allow: string[]
  squash: Squash
  readOnly: boolean
  /** The served store's URL: it names the store in the log and gives the fsid of file handles. */
  storeUrl: string
  /** How the store is shown in the log. */
  storeName: string
}

export interface RunningNfs {
  close(): Promise<void>
}

/** The fsid of NFS handles and attributes: the same store gives the same fsid on every start. */
export function fsidOf(url: string): bigint {
  return createHash('sha256').update(url).digest().readBigUInt64BE(0)
}

/** Starts NFS (and the portmapper when asked) and logs the mount lines a Linux client uses. */
export async function startNfs(fs: PosixFs, options: NfsServeOptions, logger: Logger): Promise<RunningNfs> {
  const {squash} = options
  const server = createNfsServer({fs, fsid: fsidOf(options.storeUrl), readOnly: options.readOnly, allow: options.allow, squash, logger})
  let portmapper: Portmapper | undefined
  const close = async (): Promise<void> => {
    await portmapper?.close()
    await server.close()
  }
  try {
    const bound = await server.listen(options.listen.port, options.listen.host)
    const host = shownHost(bound.address)
    const notes = [
      ...(options.readOnly ? ['read-only'] : []),
      ...(squash.mode === 'none' ? [] : [`${squash.mode} squashed to ${squash.anonUid}:${squash.anonGid}`]),
    ]
    logger.info(`serving ${options.storeName} over NFSv3 on ${host}:${bound.port}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`)
    logger.info(`mount -t nfs -o vers=3,proto=tcp,port=${bound.port},mountport=${bound.port},nolock ${host}:/ MOUNTPOINT`)
    if (options.portmap) {
      portmapper = new Portmapper({
        services: [{prog: NFS_PROGRAM, vers: NFS_V3, port: bound.port}, {prog: MOUNT_PROGRAM, vers: MOUNT_V3, port: bound.port}],
        allow: options.allow.length > 0 ? allowList(options.allow) : undefined,
        logger,
      })
      const mapped = await listenOrExplain(portmapper, options.portmap)
      logger.info(`portmapper on ${shownHost(mapped.address)}:${mapped.port} (TCP and UDP) points at port ${bound.port}`)
      logger.info(`mount -t nfs -o vers=3,nolock ${host}:/ MOUNTPOINT`)
    }
    return {close}
  } catch (error) {
    await close().catch(() => undefined)
    throw error
  }
}

/** Binds the portmapper; a refused bind names the likely cause (port 111 needs root, or rpcbind has it). */
async function listenOrExplain(portmapper: Portmapper, at: ListenAddress): Promise<{address: string; port: number}> {
  try {
    return await portmapper.listen(at.port, at.host)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EACCES') throw new Error(`cannot listen on ${shownHost(at.host)}:${at.port} for --portmap: ports below 1024 need root`, {cause: error})
    if (code === 'EADDRINUSE') throw new Error(`cannot listen on ${shownHost(at.host)}:${at.port} for --portmap: the port is in use (is rpcbind running?)`, {cause: error})
    throw error
  }
}
