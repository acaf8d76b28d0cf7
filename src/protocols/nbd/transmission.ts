import type {Socket} from 'node:net'
import type {BlockDevice} from '../../core/blockdev/types.js'
import type {Logger} from '../../core/logger.js'
import {execute} from './commands.js'
import {MAX_PAYLOAD, NBD_CMD_DISC, NBD_CMD_READ, NBD_CMD_WRITE, NBD_EINVAL, NBD_REQUEST_SIZE, NBD_ESHUTDOWN} from './constants.js'
import {toNbdError} from './nbd-error.js'
import {PayloadPool} from './payload-pool.js'
import {decodeRequest, simpleReplyHeader, type NbdRequest} from './request.js'
import type {StreamReader} from './stream-reader.js'

/** Idle payload buffers (WRITE data, READ replies) a connection keeps for its next requests. */
const IDLE_PAYLOAD_BYTES = 16 * 1024 * 1024

export interface TransmissionOptions {
  /** Requests executing at once; no further request is read beyond it. */
  maxInFlight: number
  /** True once the server is shutting down: new requests get ESHUTDOWN. */
  stopping: () => boolean
  logger: Logger
}

/**
 * The transmission phase: reads requests one after another and executes up to `maxInFlight` at
 * once; replies go out as they complete (by handle, in any order) through one writer. Returns after
 * NBD_CMD_DISC once every request in flight has been answered; malformed input throws NbdDecodeError.
 */
export async function transmit(reader: StreamReader, socket: Socket, device: BlockDevice, options: TransmissionOptions): Promise<void> {
  const inFlight = new Set<Promise<void>>()
  const payloads = new PayloadPool(IDLE_PAYLOAD_BYTES)
  let drained: Promise<void> | undefined
  let corked = false
  /** Sends a reply; READ data goes back to the pool once the socket is done with it. */
  const send = (header: Buffer, data?: Buffer): void => {
    if (socket.destroyed) {
      if (data !== undefined) payloads.give(data)
      return
    }
    if (!corked) {
      // The replies that complete in one turn of the event loop leave in one write: one system
      // call (and one wake-up of the client) for many small WRITE replies instead of one each.
      corked = true
      socket.cork()
      setImmediate(() => {
        corked = false
        socket.uncork()
      })
    }
    let flushed = socket.write(header)
    if (data !== undefined) flushed = socket.write(data, () => payloads.give(data))
    if (!flushed && drained === undefined) {
      drained = new Promise((resolve) => socket.once('drain', () => {
        drained = undefined
        resolve()
      }))
    }
  }
  const answer = async (request: NbdRequest, payload: Buffer | undefined): Promise<void> => {
    try {
      const data = await execute(device, request, payload, payloads)
      send(simpleReplyHeader(request.handle, 0), request.type === NBD_CMD_READ ? data : undefined)
    } catch (error) {
      const code = toNbdError(error)
      options.logger.debug(`nbd request failed: ${(error as Error).message}`, {handle: request.handle.toString('hex'), error: code})
      send(simpleReplyHeader(request.handle, code))
    }
  }

  try {
    for (;;) {
      while (inFlight.size >= options.maxInFlight) await Promise.race(inFlight)
      if (drained !== undefined) await drained
      const request = decodeRequest(await reader.read(NBD_REQUEST_SIZE))
      options.logger.debug('nbd request', {handle: request.handle.toString('hex'), type: request.type, offset: request.offset, length: request.length})
      if (request.type === NBD_CMD_DISC) return
      let payload: Buffer | undefined
      if (request.type === NBD_CMD_WRITE) {
        // A refused write still sends its data: read it (or drop it) to stay in step with the stream.
        if (request.length > MAX_PAYLOAD) {
          await reader.skip(request.length)
          send(simpleReplyHeader(request.handle, NBD_EINVAL))
          continue
        }
        payload = await reader.borrow(request.length, payloads)
      }
      if (options.stopping()) {
        if (payload !== undefined) reader.giveBack(payload, payloads)
        send(simpleReplyHeader(request.handle, NBD_ESHUTDOWN))
        continue
      }
      const done: Promise<void> = answer(request, payload).finally(() => {
        inFlight.delete(done)
        // The device has let go of the payload once its write is settled.
        if (payload !== undefined) reader.giveBack(payload, payloads)
      })
      inFlight.add(done)
    }
  } finally {
    await Promise.allSettled([...inFlight])
  }
}
