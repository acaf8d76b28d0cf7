import {HEADER_SIZE} from './constants.js'
import {DecodeError} from './wire.js'

/**
 * Splits a byte stream into 9P messages by their size[4] prefix (which counts itself). Pure: no
 * socket. Chunks are joined only once a whole message is there. A size below the header's or above
 * the negotiated limit throws DecodeError: the stream cannot be trusted after it.
 */
export class P9Framer {
  private pending: Buffer[] = []
  private pendingLength = 0

  constructor(private maxSize: number) {}

  /** The largest message accepted from now on (msize after Tversion). */
  setMaxSize(maxSize: number): void {
    this.maxSize = maxSize
  }

  /** The complete messages `chunk` finishes, in order; a partial one is kept for the next call. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk)
    this.pendingLength += chunk.length
    const messages: Buffer[] = []
    while (this.pendingLength >= 4) {
      const size = this.nextSize()
      if (size < HEADER_SIZE) throw new DecodeError(`9P message size ${size} is smaller than its header`)
      if (size > this.maxSize) throw new DecodeError(`9P message size ${size} exceeds msize ${this.maxSize}`)
      if (this.pendingLength < size) break
      const joined = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLength)
      messages.push(joined.subarray(0, size))
      const rest = joined.subarray(size)
      this.pending = rest.length > 0 ? [rest] : []
      this.pendingLength = rest.length
    }
    return messages
  }

  private nextSize(): number {
    const first = this.pending[0]
    if (first.length >= 4) return first.readUInt32LE(0)
    return Buffer.concat(this.pending, this.pendingLength).readUInt32LE(0)
  }
}
