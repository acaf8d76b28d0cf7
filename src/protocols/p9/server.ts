import {createServer, type Server, type Socket} from 'node:net'

import type {Logger} from '../../core/logger.js'
import type {PosixFs} from '../../core/fs/types.js'
import {P9Connection} from './connection.js'
import {LockTable} from './lock-table.js'

export interface P9ServerOptions {
  fs: PosixFs
  logger: Logger
  /** Fids one connection may hold (default 65536; the Linux client keeps one per cached dentry). */
  maxFids?: number
  /** Requests executing at once per connection (default 64). */
  maxInFlight?: number
}

/** Where to listen: TCP, or a unix socket (`mount -t 9p -o trans=unix PATH`). */
export type P9ListenAddress = {host: string; port: number} | {path: string}

/** Where it listens, once bound (the port resolved when 0 was asked for). */
export type P9BoundAddress = {host: string; port: number} | {path: string}

/**
 * A 9P2000.L server over one filesystem: every connection has its own fids, and all of them share
 * one lock table, so byte-range locks hold between clients.
 */
export class P9Server {
  readonly locks = new LockTable()
  private readonly server: Server
  private readonly connections = new Map<Socket, P9Connection>()
  private readonly closing = new Set<Promise<void>>()

  constructor(private readonly options: P9ServerOptions) {
    this.server = createServer((socket) => this.accept(socket))
  }

  listen(at: P9ListenAddress): Promise<P9BoundAddress> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      const bound = (): void => {
        this.server.off('error', reject)
        const address = this.server.address()
        if (address === null) return reject(new Error('9P server has no address'))
        resolve(typeof address === 'string' ? {path: address} : {host: address.address, port: address.port})
      }
      if ('path' in at) this.server.listen(at.path, bound)
      else this.server.listen(at.port, at.host, bound)
    })
  }

  /**
   * Stops accepting connections and reading requests, lets the requests in flight answer, closes
   * every connection (destroying those that do not close within `lingerMs`), and releases their
   * fids: locks dropped, written data uploaded.
   */
  async close(lingerMs = 2000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const connection of this.connections.values()) connection.pause()
    await Promise.all([...this.connections.values()].map((connection) => connection.settled()))
    const ended = [...this.connections.keys()].map((socket) => new Promise<void>((resolve) => {
      socket.once('close', () => resolve())
      socket.end()
    }))
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.all(ended), new Promise((resolve) => (timer = setTimeout(resolve, lingerMs)))])
    clearTimeout(timer)
    for (const socket of this.connections.keys()) socket.destroy()
    await Promise.allSettled([...this.closing])
    await closed
  }

  private accept(socket: Socket): void {
    const peer = socket.remoteAddress === undefined ? 'unix socket' : `${socket.remoteAddress}:${socket.remotePort}`
    const {logger} = this.options
    logger.info(`9P connection from ${peer}`)
    const connection = new P9Connection(socket, {
      fs: this.options.fs,
      locks: this.locks,
      logger,
      maxFids: this.options.maxFids ?? 65536,
      maxInFlight: this.options.maxInFlight ?? 64,
    }, peer)
    this.connections.set(socket, connection)
    socket.on('error', (error) => logger.debug(`9P connection ${peer}: ${error.message}`))
    socket.on('close', () => {
      this.connections.delete(socket)
      const released = connection.closed().then(() => logger.info(`9P connection from ${peer} closed`))
      this.closing.add(released)
      void released.finally(() => this.closing.delete(released))
    })
  }
}
