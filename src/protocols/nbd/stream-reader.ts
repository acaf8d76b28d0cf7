import {Socket, type OnReadOpts, type SocketConstructorOpts} from 'node:net'

import {ReadSlabs} from './read-slabs.js'

/** The peer closed the connection (or it failed) before the bytes wanted arrived. */
export class ConnectionEnded extends Error {
  constructor() {
    super('connection ended')
    this.name = 'ConnectionEnded'
  }
}

/** Bytes buffered before the socket is paused: a little more than the largest request. */
const HIGH_WATER = 33 * 1024 * 1024

/** Where a borrowed payload is copied when it did not arrive in one piece. */
export interface SpareBuffers {
  take(length: number): Buffer
  give(buffer: Buffer): void
}

/**
 * Pulls exact byte counts from a socket, in the order the protocol reads them. The socket is paused
 * while more than HIGH_WATER bytes wait unread, so a fast client cannot fill the server's memory.
 * It reads the socket's 'data' events, or, given `slabs`, what the socket's `onread` reads into
 * them (readAccepted): bytes are then copied out, or lent as views of a slab until given back.
 */
export class StreamReader {
  private chunks: Buffer[] = []
  private buffered = 0
  private ended = false
  private wake?: () => void
  /** Views handed out by borrow and not given back yet. */
  private readonly lent = new WeakSet<Buffer>()

  constructor(private readonly socket: Socket, private readonly slabs?: ReadSlabs) {
    if (slabs === undefined) socket.on('data', (chunk: Buffer) => this.receive(chunk))
    const end = (): void => {
      this.ended = true
      this.notify()
    }
    socket.on('end', end)
    socket.on('close', end)
  }

  /** Exactly `length` bytes; ConnectionEnded when the stream ends first. */
  async read(length: number): Promise<Buffer> {
    while (this.buffered < length) await this.more()
    return this.take(length)
  }

  /** Fills `target` (a reused buffer) with the next `target.length` bytes; ConnectionEnded when the stream ends first. */
  async readInto(target: Buffer): Promise<Buffer> {
    while (this.buffered < target.length) await this.more()
    return this.copyOut(target)
  }

  /**
   * The next `length` bytes, held until giveBack: a view of them as they arrived when they came in
   * one piece (not copied; their slab is not reused meanwhile), else a copy in a buffer of `spare`'s.
   */
  async borrow(length: number, spare: SpareBuffers): Promise<Buffer> {
    while (this.buffered < length) await this.more()
    const first = this.chunks[0]
    if (length === 0 || first.length < length) return this.copyOut(spare.take(length))
    if (first.length === length) this.chunks.shift()
    else this.chunks[0] = first.subarray(length)
    this.consumed(length)
    const view = first.subarray(0, length)
    this.lent.add(view)
    return view
  }

  /** Once nothing reads `bytes` (from borrow) any more. */
  giveBack(bytes: Buffer, spare: SpareBuffers): void {
    if (!this.lent.delete(bytes)) spare.give(bytes)
    else this.slabs?.release(bytes.buffer, bytes.length)
  }

  /** Reads and drops `length` bytes (a payload that is refused still has to leave the stream). */
  async skip(length: number): Promise<void> {
    for (let left = length; left > 0;) {
      if (this.buffered === 0) await this.more()
      const piece = Math.min(left, this.chunks[0].length)
      this.drop(piece)
      left -= piece
    }
  }

  /** Bytes that arrived (from 'data', or readAccepted's onread); false once the socket is paused (too much waits unread). */
  receive(chunk: Buffer): boolean {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    this.notify()
    if (this.buffered <= HIGH_WATER) return true
    this.socket.pause()
    return false
  }

  /** The next `length` buffered bytes: a slice of what arrived when it holds them all (and is not a slab's), else a copy. */
  private take(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0)
    const first = this.chunks[0]
    if (first.length < length || this.slabs !== undefined) return this.copyOut(Buffer.allocUnsafe(length))
    this.drop(length)
    return first.subarray(0, length)
  }

  /** Consumes the first `length` bytes of the first chunk. */
  private drop(length: number): void {
    const first = this.chunks[0]
    if (first.length === length) this.chunks.shift()
    else this.chunks[0] = first.subarray(length)
    this.slabs?.release(first.buffer, length)
    this.consumed(length)
  }

  /** Moves the next `target.length` buffered bytes into `target`. */
  private copyOut(target: Buffer): Buffer {
    for (let filled = 0; filled < target.length;) {
      const first = this.chunks[0]
      const piece = first.copy(target, filled, 0, Math.min(first.length, target.length - filled))
      if (piece === first.length) this.chunks.shift()
      else this.chunks[0] = first.subarray(piece)
      this.slabs?.release(first.buffer, piece)
      filled += piece
    }
    this.consumed(target.length)
    return target
  }

  private consumed(length: number): void {
    this.buffered -= length
    if (this.buffered <= HIGH_WATER && this.socket.isPaused()) this.socket.resume()
  }

  private async more(): Promise<void> {
    if (this.ended) throw new ConnectionEnded()
    await new Promise<void>((resolve) => {
      this.wake = resolve
    })
  }

  private notify(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

/**
 * A reader over an accepted connection whose reads go into a few reused slabs (ReadSlabs) rather
 * than a fresh 64 KiB buffer each: a client writing hundreds of MiB a second otherwise makes as
 * many short-lived buffers, whose external memory sets V8 off on a major collection every few dozen
 * MiB, and reads 16 times as often. Node gives `onread` only to a socket it builds, so the accepted
 * socket (which the server must accept paused, `pauseOnConnect`) is rebuilt around its handle, as
 * Node does for a socket passed to a child process; without a handle (another runtime), the
 * accepted socket is read as it is. Replies go to the returned socket.
 */
export function readAccepted(accepted: Socket): {socket: Socket; reader: StreamReader} {
  const holder = accepted as unknown as {_handle?: object | null}
  const handle = holder._handle
  if (handle === undefined || handle === null) {
    accepted.resume()
    return {socket: accepted, reader: new StreamReader(accepted)}
  }
  // The accepted socket lets go of the handle, and is closed without closing it.
  holder._handle = null
  accepted.destroy()
  const slabs = new ReadSlabs()
  // Called from the first read on, after `reader` is set.
  const onread: OnReadOpts = {
    buffer: () => slabs.next(),
    callback: (length) => reader.receive(slabs.deliver(length)),
  }
  const socket = new Socket({handle, onread} as SocketConstructorOpts)
  const reader = new StreamReader(socket, slabs)
  return {socket, reader}
}
