import type {Socket} from 'node:net'

import {isFsError} from '../../core/errors.js'
import type {Logger} from '../../core/logger.js'
import type {PosixFs} from '../../core/fs/types.js'
import {LINUX_ERRNO, MAX_MSIZE, MIN_MSIZE, VERSION_9P2000_L, VERSION_UNKNOWN} from './constants.js'
import {P9Error, toRlerror} from './errors.js'
import {P9Framer} from './framer.js'
import type {Handler} from './handler.js'
import {handlers} from './handlers/index.js'
import type {LockTable} from './lock-table.js'
import {decodeMessage, encodeMessage, messageName, readHeader, type Body, type Message, type RequestName} from './messages.js'
import {P9Session, type Reply} from './session.js'
import {DecodeError} from './wire.js'

export interface ConnectionOptions {
  fs: PosixFs
  locks: LockTable
  logger: Logger
  maxFids: number
  /** Requests executing at once; reading pauses beyond it. */
  maxInFlight: number
}

/**
 * One 9P connection: frames in, one reply per request out, in whatever order requests finish.
 * Every request is validated → executed → encoded inside one try/catch, so no request can break
 * the connection; only a frame whose size cannot be trusted closes it.
 */
export class P9Connection {
  private readonly framer = new P9Framer(MAX_MSIZE)
  private readonly session: P9Session
  /** Requests not yet answered, by tag; each promise resolves once its reply is written. */
  private readonly pending = new Map<number, Promise<void>>()
  private blockedOnDrain = false
  private stopped = false

  constructor(private readonly socket: Socket, private readonly options: ConnectionOptions, private readonly peer: string) {
    this.session = new P9Session(options)
    socket.setNoDelay?.(true)
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
  }

  /** Stops reading requests; the ones in flight finish and answer. */
  pause(): void {
    this.stopped = true
    this.socket.pause()
  }

  /** Resolves once every request received so far has answered. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending.values()])
  }

  /** After the socket closed: its fids are released (locks dropped, written data uploaded). */
  async closed(): Promise<void> {
    await this.settled()
    await this.session.releaseAll()
  }

  private receive(chunk: Buffer): void {
    if (this.stopped) return
    let frames: Buffer[]
    try {
      frames = this.framer.push(chunk)
    } catch (error) {
      this.options.logger.warn(`closing 9P connection ${this.peer}: ${error instanceof Error ? error.message : String(error)}`)
      this.socket.destroy()
      return
    }
    for (const frame of frames) this.start(frame)
  }

  private start(frame: Buffer): void {
    const {type, tag} = readHeader(frame)
    const name = messageName(type)
    let done: Promise<void>
    if (name === 'Tversion') done = this.version(frame, tag)
    else if (name === 'Tflush') done = this.flush(frame, tag)
    else done = this.answer(tag, name, () => this.execute(frame, type, name))
    this.pending.set(tag, done)
    this.updateFlow()
    void done.finally(() => {
      if (this.pending.get(tag) === done) this.pending.delete(tag)
      this.updateFlow()
    })
  }

  private async execute(frame: Buffer, type: number, name: ReturnType<typeof messageName>): Promise<Reply> {
    const handler = name === undefined ? undefined : handlers[name as RequestName] as Handler<RequestName> | undefined
    if (handler === undefined) throw new P9Error('EOPNOTSUPP', `message type ${type}`)
    const message = decodeMessage(frame) as Message<RequestName>
    return handler(this.session, message.body as Body<RequestName>)
  }

  /** Runs a request and writes its reply, or Rlerror with the errno of what it threw. */
  private async answer(tag: number, name: string | undefined, run: () => Promise<Reply>): Promise<void> {
    const {logger} = this.options
    let reply: Buffer
    try {
      const result = await run()
      reply = encodeMessage(result.name, tag, result.body as never)
      logger.debug(`9P ${this.peer} tag ${tag} ${name}: ok`)
    } catch (error) {
      const ecode = error instanceof DecodeError ? LINUX_ERRNO.EINVAL : toRlerror(error)
      if (error instanceof P9Error || error instanceof DecodeError || isFsError(error)) {
        logger.debug(`9P ${this.peer} tag ${tag} ${name}: ${error.message}`)
      } else {
        logger.error(`9P ${this.peer} tag ${tag} ${name}: ${error instanceof Error ? error.stack : String(error)}`)
      }
      reply = encodeMessage('Rlerror', tag, {ecode})
    }
    this.send(reply)
  }

  /**
   * Tversion starts the session over: it waits for the requests in flight, clunks every fid, and
   * settles msize (capped by the server). A version other than 9P2000.L (or a 9P2000.L.x variant)
   * is answered `unknown`.
   */
  private version(frame: Buffer, tag: number): Promise<void> {
    return this.answer(tag, 'Tversion', async () => {
      const {body} = decodeMessage(frame) as Message<'Tversion'>
      const others = [...this.pending.values()]
      await Promise.allSettled(others)
      await this.session.releaseAll()
      const msize = Math.min(body.msize, MAX_MSIZE)
      if (msize < MIN_MSIZE) throw new P9Error('EINVAL', `msize ${body.msize} is too small`)
      this.session.msize = msize
      this.framer.setMaxSize(msize)
      const version = body.version === VERSION_9P2000_L || body.version.startsWith(`${VERSION_9P2000_L}.`) ? VERSION_9P2000_L : VERSION_UNKNOWN
      return {name: 'Rversion', body: {msize, version}}
    })
  }

  /**
   * Tflush: a request still executing cannot be called back from the core, so Rflush waits for its
   * reply to go out first, which the spec allows (the client honours a reply that precedes Rflush).
   * An unknown oldtag has nothing to wait for.
   */
  private flush(frame: Buffer, tag: number): Promise<void> {
    return this.answer(tag, 'Tflush', async () => {
      const {body} = decodeMessage(frame) as Message<'Tflush'>
      await this.pending.get(body.oldtag)
      return {name: 'Rflush', body: {}}
    })
  }

  private send(reply: Buffer): void {
    if (this.socket.destroyed) return
    if (!this.socket.write(reply) && !this.blockedOnDrain) {
      this.blockedOnDrain = true
      this.updateFlow()
      this.socket.once('drain', () => {
        this.blockedOnDrain = false
        this.updateFlow()
      })
    }
  }

  private updateFlow(): void {
    if (this.stopped || this.blockedOnDrain || this.pending.size >= this.options.maxInFlight) this.socket.pause()
    else this.socket.resume()
  }
}
