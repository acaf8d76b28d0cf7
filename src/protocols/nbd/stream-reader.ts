import type {Socket} from 'node:net'

/** The peer closed the connection (or it failed) before the bytes wanted arrived. */
export class ConnectionEnded extends Error {
  constructor() {
    super('connection ended')
    this.name = 'ConnectionEnded'
  }
}

/** Bytes buffered before the socket is paused: a little more than the largest request. */
const HIGH_WATER = 33 * 1024 * 1024

/**
 * Pulls exact byte counts from a socket, in the order the protocol reads them. The socket is paused
 * while more than HIGH_WATER bytes wait unread, so a fast client cannot fill the server's memory.
 */
export class StreamReader {
  private chunks: Buffer[] = []
  private buffered = 0
  private ended = false
  private wake?: () => void

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk)
      this.buffered += chunk.length
      if (this.buffered > HIGH_WATER) socket.pause()
      this.notify()
    })
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

  /** Reads and drops `length` bytes (a payload that is refused still has to leave the stream). */
  async skip(length: number): Promise<void> {
    for (let left = length; left > 0;) {
      if (this.buffered === 0) await this.more()
      const piece = Math.min(left, this.buffered)
      this.take(piece)
      left -= piece
    }
  }

  /** The next `length` buffered bytes: a slice of what arrived when it holds them all, else a copy. */
  private take(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0)
    const first = this.chunks[0]
    if (first.length < length) return this.copyOut(Buffer.allocUnsafe(length))
    if (first.length === length) this.chunks.shift()
    else this.chunks[0] = first.subarray(length)
    this.consumed(length)
    return first.subarray(0, length)
  }

  /** Moves the next `target.length` buffered bytes into `target`. */
  private copyOut(target: Buffer): Buffer {
    for (let filled = 0; filled < target.length;) {
      const first = this.chunks[0]
      const piece = first.copy(target, filled, 0, Math.min(first.length, target.length - filled))
      if (piece === first.length) this.chunks.shift()
      else this.chunks[0] = first.subarray(piece)
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
