import {createServer, type Server, type Socket} from 'node:net'

import {listenTcp} from '../tcp-listen.js'
import {RpcDispatcher, type RpcLogger} from './dispatcher.js'
import type {CallContext, RpcProgram} from './program.js'
import {RecordFramer, RecordTooLargeError, recordHeader} from './record-marking.js'

export type {RpcLogger} from './dispatcher.js'

export interface RpcServerOptions {
  programs: RpcProgram[]
  /** Largest record accepted; a bigger one closes the connection (default 1 MiB of data plus headers). */
  maxRecordSize?: number
  /** Calls executing at once per connection; reading pauses beyond it (default 64). */
  maxInFlight?: number
  /** Refuses connections from addresses it returns false for. */
  allow?: (address: string) => boolean
  logger: RpcLogger
}

/** An ONC RPC server over TCP: record marking, dispatch by program/version/procedure, out-of-order replies. */
export class RpcServer {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private readonly inFlight = new Set<Promise<void>>()
  private readonly dispatcher: RpcDispatcher
  private closing = false

  constructor(private readonly options: RpcServerOptions) {
    this.dispatcher = new RpcDispatcher(options.programs, options.logger)
    this.server = createServer((socket) => this.accept(socket))
  }

  listen(port: number, host: string): Promise<{address: string; port: number}> {
    return listenTcp(this.server, port, host)
  }


  /**
   * Stops accepting connections and reading calls, lets the calls in flight finish and their
   * replies go out, then closes every connection (destroying those that do not close within
   * `lingerMs`).
   */
  async close(lingerMs = 2000): Promise<void> {
    this.closing = true
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const socket of this.sockets) socket.pause()
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
    const ended = [...this.sockets].map((socket) => new Promise<void>((resolve) => {
      socket.once('close', () => resolve())
      socket.resume() // reads (and discards) until the client's FIN, so the close completes
      socket.end()
    }))
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.all(ended), new Promise((resolve) => (timer = setTimeout(resolve, lingerMs)))])
    clearTimeout(timer)
    for (const socket of this.sockets) socket.destroy()
    await closed
  }

  private accept(socket: Socket): void {
    const context: CallContext = {remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0}
    const peer = `${context.remoteAddress}:${context.remotePort}`
    const {logger} = this.options
    if (this.options.allow && !this.options.allow(context.remoteAddress)) {
      logger.warn(`refused connection from ${peer}: not in --allow`)
      socket.destroy()
      return
    }
    logger.info(`connection from ${peer}`)
    this.sockets.add(socket)
    socket.setNoDelay(true)
    const framer = new RecordFramer(this.options.maxRecordSize ?? (1 << 20) + 64 * 1024)
    const maxInFlight = this.options.maxInFlight ?? 64
    let active = 0
    let blockedOnDrain = false
    const updateFlow = (): void => {
      if (this.closing || active >= maxInFlight || blockedOnDrain) socket.pause()
      else socket.resume()
    }
    const send = (reply: Buffer[]): void => {
      if (socket.destroyed) return
      socket.cork()
      socket.write(recordHeader(reply.reduce((total, piece) => total + piece.length, 0)))
      let flushed = true
      for (const piece of reply) flushed = socket.write(piece)
      socket.uncork()
      if (!flushed && !blockedOnDrain) {
        blockedOnDrain = true
        updateFlow()
        socket.once('drain', () => {
          blockedOnDrain = false
          updateFlow()
        })
      }
    }
    socket.on('data', (chunk: Buffer) => {
      if (this.closing) return // calls that arrive during shutdown are not started; the client resends them
      let records: Buffer[]
      try {
        records = framer.push(chunk)
      } catch (error) {
        logger.warn(`closing ${peer}: ${error instanceof RecordTooLargeError ? error.message : String(error)}`)
        socket.destroy()
        return
      }
      for (const record of records) {
        active++
        updateFlow()
        const done = this.dispatcher.dispatch(record, context)
          .then((reply) => {
            // A message that is not a call means the stream is out of step: nothing after it can be trusted.
            if (reply === 'drop') socket.destroy()
            else send(reply)
          })
          .finally(() => {
            active--
            this.inFlight.delete(done)
            updateFlow()
          })
        this.inFlight.add(done)
      }
    })
    socket.on('error', (error) => logger.debug(`connection ${peer}: ${error.message}`))
    socket.on('close', () => {
      this.sockets.delete(socket)
      logger.info(`connection from ${peer} closed`)
    })
  }
}
