import {NbdDecodeError} from './decode-error.js'

/** Big-endian reads from one buffer; every bounds check is in `advance`, which throws NbdDecodeError. */
export class Cursor {
  private position = 0

  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.position
  }

  u16(): number {
    return this.buffer.readUInt16BE(this.advance(2))
  }

  u32(): number {
    return this.buffer.readUInt32BE(this.advance(4))
  }

  u64(): bigint {
    return this.buffer.readBigUInt64BE(this.advance(8))
  }

  bytes(length: number): Buffer {
    const start = this.advance(length)
    return this.buffer.subarray(start, start + length)
  }

  /** Fails unless every byte was read. */
  end(what: string): void {
    if (this.remaining !== 0) throw new NbdDecodeError(`${what}: ${this.remaining} unexpected trailing bytes`)
  }

  private advance(size: number): number {
    if (size < 0 || this.position + size > this.buffer.length) {
      throw new NbdDecodeError(`truncated: ${size} bytes wanted at ${this.position} of ${this.buffer.length}`)
    }
    const start = this.position
    this.position += size
    return start
  }
}
