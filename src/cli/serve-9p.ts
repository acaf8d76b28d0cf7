import type {PosixFs} from '../core/fs/types.js'
import type {Logger} from '../core/logger.js'
import {parseListenAddress, shownHost} from './listen-address.js'
import {P9Server, type P9ListenAddress} from '../protocols/p9/server.js'

/**
 * `zerofs serve --9p ADDR:PORT | unix:/path.sock`: the 9P2000.L server over the served Fs, started
 * beside (or instead of) NFS; serve.ts only calls `startP9`.
 */

const UNIX_PREFIX = 'unix:'

/** `127.0.0.1:564`, `[::1]:564`, `unix:/run/zerofs.sock`. */
export function parseP9Address(value: string): P9ListenAddress {
  if (value.startsWith(UNIX_PREFIX)) {
    const path = value.slice(UNIX_PREFIX.length)
    if (path === '') throw new Error(`expected unix:/path/to.sock, got ${value}`)
    return {path}
  }
  return parseListenAddress(value)
}

export interface RunningP9 {
  close(): Promise<void>
}

/** Starts the 9P server and logs the mount line a Linux client uses. */
export async function startP9(fs: PosixFs, at: P9ListenAddress, logger: Logger, storeName: string): Promise<RunningP9> {
  const server = new P9Server({fs, logger})
  const bound = await server.listen(at)
  if ('path' in bound) {
    logger.info(`serving ${storeName} over 9P2000.L on unix:${bound.path}`)
    logger.info(`mount -t 9p -o trans=unix,version=9p2000.L ${bound.path} MOUNTPOINT`)
  } else {
    logger.info(`serving ${storeName} over 9P2000.L on ${shownHost(bound.host)}:${bound.port}`)
    logger.info(`mount -t 9p -o trans=tcp,port=${bound.port},version=9p2000.L ${bound.host} MOUNTPOINT`)
  }
  return {close: () => server.close()}
}
