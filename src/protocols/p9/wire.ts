/**
 * The 9P byte order: little-endian integers, strings as a 16-bit length and UTF-8 bytes, qids of
 * 13 bytes. One reader and one writer; every bounds check goes through `P9Reader.take`, which
 * throws the one `DecodeError`.
 */

export class DecodeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DecodeError'
  }
}

/** qid[13]: type[1] version[4] path[8], the server's identity of a file. */
export interface Qid {
  type: number
  version: number
  path: bigint
}

export const QID_SIZE = 13

export class P9Reader {
  private offset = 0

  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.offset
  }

  private take(size: number): number {
    if (this.offset + size > this.buffer.length) {
      throw new DecodeError(`9P underflow: need ${size} bytes at offset ${this.offset}, have ${this.remaining}`)
    }
    const start = this.offset
    this.offset += size
    return start
  }

  u8(): number {
    return this.buffer.readUInt8(this.take(1))
  }

  u16(): number {
    return this.buffer.readUInt16LE(this.take(2))
  }

  u32(): number {
    return this.buffer.readUInt32LE(this.take(4))
  }

  u64(): bigint {
    return this.buffer.readBigUInt64LE(this.take(8))
  }

  /** Raw bytes (a view, not a copy). */
  bytes(length: number): Buffer {
    const start = this.take(length)
    return this.buffer.subarray(start, start + length)
  }

  str(): string {
    return this.bytes(this.u16()).toString('utf8')
  }

  qid(): Qid {
    return {type: this.u8(), version: this.u32(), path: this.u64()}
  }
}

export class P9Writer {
  private buffer: Buffer
  private length = 0

  constructor(initialSize = 256) {
    this.buffer = Buffer.allocUnsafe(initialSize)
  }

  private reserve(size: number): number {
    if (this.length + size > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + size))
      this.buffer.copy(grown, 0, 0, this.length)
      this.buffer = grown
    }
    const start = this.length
    this.length += size
    return start
  }

  get size(): number {
    return this.length
  }

  u8(value: number): this {
    const at = this.reserve(1)
    this.buffer.writeUInt8(value & 0xff, at)
    return this
  }

  u16(value: number): this {
    const at = this.reserve(2)
    this.buffer.writeUInt16LE(value & 0xffff, at)
    return this
  }

  u32(value: number): this {
    const at = this.reserve(4)
    this.buffer.writeUInt32LE(value >>> 0, at)
    return this
  }

  u64(value: bigint): this {
    const at = this.reserve(8)
    this.buffer.writeBigUInt64LE(BigInt.asUintN(64, value), at)
    return this
  }

  bytes(data: Uint8Array): this {
    const at = this.reserve(data.length)
    this.buffer.set(data, at)
    return this
  }

  str(value: string): this {
    const bytes = Buffer.from(value, 'utf8')
    if (bytes.length > 0xffff) throw new RangeError(`9P string of ${bytes.length} bytes`)
    return this.u16(bytes.length).bytes(bytes)
  }

  qid(qid: Qid): this {
    return this.u8(qid.type).u32(qid.version).u64(qid.path)
  }

  /** Patches a u32 written earlier (a size known only at the end). */
  setU32(at: number, value: number): this {
    this.buffer.writeUInt32LE(value >>> 0, at)
    return this
  }

  toBuffer(): Buffer {
    return this.buffer.subarray(0, this.length)
  }
}
