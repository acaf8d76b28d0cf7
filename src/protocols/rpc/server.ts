import {createServer, type Server, type Socket} from 'node:net'

import {GARBAGE_ARGS, PROC_UNAVAIL, PROG_UNAVAIL, SYSTEM_ERR} from './constants.js'
import {
  CallRejected, decodeCall, encodeAcceptError, encodeProgMismatch, encodeSuccess, type RpcCall,
} from './message.js'
import type {CallContext, RpcProgram} from './program.js'
import {RecordFramer, RecordTooLargeError, recordHeader} from './record-marking.js'
import {DecodeError} from './xdr.js'

export interface RpcLogger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

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
  private closing = false

  constructor(private readonly options: RpcServerOptions) {
    this.server = createServer((socket) => this.accept(socket))
  }

  listen(port: number, host: string): Promise<{address: string; port: number}> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        const address = this.server.address()
        if (address === null || typeof address === 'string') throw new Error('RPC server has no TCP address')
        resolve({address: address.address, port: address.port})
      })
    })
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
    const send = (reply: Buffer): void => {
      if (socket.destroyed) return
      socket.cork()
      socket.write(recordHeader(reply.length))
      const flushed = socket.write(reply)
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
        const done = this.handle(record, context, peer)
          .then((reply) => {
            if (reply === 'close') socket.destroy()
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

  /** Turns one record into one reply; never throws. 'close' when the stream cannot be trusted any more. */
  private async handle(record: Buffer, context: CallContext, peer: string): Promise<Buffer | 'close'> {
    const {logger} = this.options
    let call: RpcCall
    try {
      call = decodeCall(record)
    } catch (error) {
      if (error instanceof CallRejected) {
        logger.debug(`xid ${error.xid} from ${peer} rejected: ${error.message}`)
        return error.reply
      }
      logger.warn(`closing ${peer}: ${error instanceof Error ? error.message : String(error)}`)
      return 'close'
    }
    const program = this.options.programs.find((candidate) => candidate.prog === call.prog)
    if (!program) return encodeAcceptError(call.xid, PROG_UNAVAIL)
    const procedures = program.versions.get(call.vers)
    if (!procedures) {
      const versions = [...program.versions.keys()]
      return encodeProgMismatch(call.xid, Math.min(...versions), Math.max(...versions))
    }
    const handler = procedures[call.proc]
    if (!handler) return encodeAcceptError(call.xid, PROC_UNAVAIL)
    logger.debug(`xid ${call.xid} ${program.name} v${call.vers} proc ${call.proc} from ${peer}`)
    try {
      const encode = await handler(call, context)
      return encodeSuccess(call.xid, encode)
    } catch (error) {
      if (error instanceof DecodeError) {
        logger.debug(`xid ${call.xid}: garbage arguments: ${error.message}`)
        return encodeAcceptError(call.xid, GARBAGE_ARGS)
      }
      logger.error(`xid ${call.xid} ${program.name} proc ${call.proc} failed: ${error instanceof Error ? error.stack : String(error)}`)
      return encodeAcceptError(call.xid, SYSTEM_ERR)
    }
  }
}
