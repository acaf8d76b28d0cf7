import {createServer, type Server, type Socket} from 'node:net'
import {listenTcp} from '../tcp-listen.js'
import type {Logger} from '../../core/logger.js'
import {NbdDecodeError} from './decode-error.js'
import type {NbdExports} from './exports.js'
import {negotiate} from './handshake.js'
import {ConnectionEnded, StreamReader} from './stream-reader.js'
import {transmit} from './transmission.js'

export interface NbdServerOptions {
  exports: NbdExports
  /** Requests executing at once per connection (default 64). */
  maxInFlight?: number
  logger: Logger
}

/**
 * An NBD server over TCP (fixed newstyle handshake, simple replies). Each connection negotiates an
 * export, then transmits; malformed input closes that connection only.
 */
export class NbdServer {
  private readonly server: Server
  private readonly connections = new Map<Socket, Promise<void>>()
  private stopping = false

  constructor(private readonly options: NbdServerOptions) {
    this.server = createServer((socket) => this.accept(socket))
  }

  listen(port: number, host: string): Promise<{address: string; port: number}> {
    return listenTcp(this.server, port, host)
  }


  /**
   * Stops accepting connections; requests in flight finish and are answered, later ones get
   * ESHUTDOWN; then every connection is closed (destroyed after `lingerMs`).
   */
  async close(lingerMs = 2000): Promise<void> {
    this.stopping = true
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const socket of this.connections.keys()) socket.end()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled([...this.connections.values()]), new Promise((resolve) => (timer = setTimeout(resolve, lingerMs)))])
    clearTimeout(timer)
    for (const socket of this.connections.keys()) socket.destroy()
    await closed
  }

  private accept(socket: Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`
    const {logger} = this.options
    logger.info(`nbd connection from ${peer}`)
    socket.setNoDelay(true)
    socket.on('error', (error) => logger.debug(`nbd connection ${peer}: ${error.message}`))
    const session = this.serve(socket, peer).finally(() => {
      this.connections.delete(socket)
      socket.end()
      logger.info(`nbd connection from ${peer} closed`)
    })
    this.connections.set(socket, session)
  }

  private async serve(socket: Socket, peer: string): Promise<void> {
    const {logger} = this.options
    const reader = new StreamReader(socket)
    try {
      const device = await negotiate(reader, (bytes) => socket.write(bytes), this.options.exports, logger)
      if (device === undefined) return
      logger.info(`nbd ${peer} uses export ${device.name}`)
      await transmit(reader, socket, device, {maxInFlight: this.options.maxInFlight ?? 64, stopping: () => this.stopping, logger})
    } catch (error) {
      if (error instanceof ConnectionEnded) return
      if (error instanceof NbdDecodeError) {
        logger.warn(`closing nbd connection from ${peer}: ${error.message}`)
        socket.destroy()
        return
      }
      logger.error(`nbd connection from ${peer} failed: ${(error as Error).message}`)
      socket.destroy()
    }
  }
}
