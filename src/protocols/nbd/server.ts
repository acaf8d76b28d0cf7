import {createServer, type Server, type Socket} from 'node:net'
import {listenTcp} from '../tcp-listen.js'
import type {Logger} from '../../core/logger.js'
import {NbdDecodeError} from './decode-error.js'
import type {NbdExports} from './exports.js'
import {negotiate} from './handshake.js'
import {ConnectionEnded, readAccepted, type StreamReader} from './stream-reader.js'
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
    // Paused until readAccepted has the socket read into its slabs.
    this.server = createServer({pauseOnConnect: true}, (accepted) => this.accept(accepted))
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

  private accept(accepted: Socket): void {
    const peer = `${accepted.remoteAddress}:${accepted.remotePort}`
    const {socket, reader} = readAccepted(accepted)
    const {logger} = this.options
    logger.info(`nbd connection from ${peer}`)
    socket.setNoDelay(true)
    socket.on('error', (error) => logger.debug(`nbd connection ${peer}: ${error.message}`))
    const session = this.serve(socket, reader, peer).finally(() => {
      this.connections.delete(socket)
      socket.end()
      logger.info(`nbd connection from ${peer} closed`)
    })
    this.connections.set(socket, session)
  }

  private async serve(socket: Socket, reader: StreamReader, peer: string): Promise<void> {
    const {logger} = this.options
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
