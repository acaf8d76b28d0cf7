/**
 * XDR (RFC 4506): big-endian, every item padded to a multiple of four bytes. One reader and one
 * writer; every bounds check goes through `XdrReader.take`, which throws the one `DecodeError`.
 */

export class DecodeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DecodeError'
  }
}

const padding = (length: number): number => (4 - (length & 3)) & 3

export class XdrReader {
  private offset = 0

  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.offset
  }

  /** Consumes `size` bytes and returns where they start. */
  private take(size: number): number {
    if (size < 0 || this.offset + size > this.buffer.length) {
      throw new DecodeError(`XDR underflow: need ${size} bytes at offset ${this.offset}, have ${this.remaining}`)
    }
    const start = this.offset
    this.offset += size
    return start
  }

  uint32(): number {
    return this.buffer.readUInt32BE(this.take(4))
  }

  int32(): number {
    return this.buffer.readInt32BE(this.take(4))
  }

  uint64(): bigint {
    return this.buffer.readBigUInt64BE(this.take(8))
  }

  int64(): bigint {
    return this.buffer.readBigInt64BE(this.take(8))
  }

  bool(): boolean {
    const value = this.uint32()
    if (value > 1) throw new DecodeError(`XDR bool out of range: ${value}`)
    return value === 1
  }

  /** An enum or discriminant checked against the values the spec allows. */
  enumOf<T extends number>(allowed: ReadonlySet<number>, what: string): T {
    const value = this.int32()
    if (!allowed.has(value)) throw new DecodeError(`invalid ${what}: ${value}`)
    return value as T
  }

  fixedOpaque(length: number): Buffer {
    const start = this.take(length)
    this.take(padding(length))
    return this.buffer.subarray(start, start + length)
  }

  /** Variable-length opaque<max>; the bytes are a view, not a copy. */
  opaque(max = 0xffffffff): Buffer {
    const length = this.uint32()
    if (length > max) throw new DecodeError(`XDR opaque of ${length} bytes exceeds its limit of ${max}`)
    return this.fixedOpaque(length)
  }

  /** string<max> as raw bytes: file names are bytes on the wire; the caller decides how to decode them. */
  string(max = 0xffffffff): Buffer {
    return this.opaque(max)
  }

  /** Optional data (`*T` in XDR): a bool then the value. */
  optional<T>(read: () => T): T | undefined {
    return this.bool() ? read() : undefined
  }

  array<T>(read: () => T, max = 0xffffffff): T[] {
    const count = this.uint32()
    if (count > max) throw new DecodeError(`XDR array of ${count} items exceeds its limit of ${max}`)
    if (count > this.remaining) throw new DecodeError(`XDR array of ${count} items cannot fit in ${this.remaining} bytes`)
    const items: T[] = []
    for (let i = 0; i < count; i++) items.push(read())
    return items
  }

  /** Everything that is left, e.g. procedure arguments after the RPC header. */
  rest(): Buffer {
    return this.buffer.subarray(this.take(this.remaining))
  }
}

/**
 * Opaque data at least this long is attached by reference instead of copied (READ data): the
 * message is then several pieces, which a stream transport writes one after another.
 */
const ATTACH_MIN = 64 * 1024

const TWO_TO_32 = 2 ** 32

export class XdrWriter {
  private buffer: Buffer
  /** The same bytes as `buffer`: DataView's setters skip the checks that make Buffer's slow. */
  private view: DataView
  private length = 0
  /** Pieces before `buffer`: what was written before each attached opaque, and the opaque itself. */
  private readonly sealed: Buffer[] = []
  private sealedLength = 0

  constructor(private readonly initialSize = 256) {
    this.buffer = Buffer.allocUnsafe(initialSize)
    this.view = viewOf(this.buffer)
  }

  /** Grows the buffer if needed; callers must read `this.buffer` only after calling it. */
  private reserve(size: number): number {
    if (this.length + size > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + size))
      this.buffer.copy(grown, 0, 0, this.length)
      this.buffer = grown
      this.view = viewOf(grown)
    }
    const start = this.length
    this.length += size
    return start
  }

  get size(): number {
    return this.sealedLength + this.length
  }

  uint32(value: number): this {
    const at = this.reserve(4)
    this.view.setUint32(at, value >>> 0)
    return this
  }

  int32(value: number): this {
    const at = this.reserve(4)
    this.view.setInt32(at, value | 0)
    return this
  }

  /** A bigint is taken modulo 2^64; a number must be a non-negative safe integer (a size, an offset). */
  uint64(value: bigint | number): this {
    const at = this.reserve(8)
    if (typeof value === 'bigint') {
      this.view.setBigUint64(at, value)
    } else {
      this.view.setUint32(at, Math.floor(value / TWO_TO_32))
      this.view.setUint32(at + 4, value >>> 0)
    }
    return this
  }

  int64(value: bigint): this {
    const at = this.reserve(8)
    this.view.setBigInt64(at, value)
    return this
  }

  bool(value: boolean): this {
    return this.uint32(value ? 1 : 0)
  }

  fixedOpaque(bytes: Uint8Array): this {
    if (bytes.length >= ATTACH_MIN) return this.attach(bytes)
    const start = this.reserve(bytes.length + padding(bytes.length))
    this.buffer.set(bytes, start)
    this.buffer.fill(0, start + bytes.length, this.length)
    return this
  }

  opaque(bytes: Uint8Array): this {
    return this.uint32(bytes.length).fixedOpaque(bytes)
  }

  /** Variable-length opaque data given as pieces in order: attached uncopied unless short in all. */
  opaquePieces(pieces: readonly Buffer[]): this {
    let length = 0
    for (const piece of pieces) length += piece.length
    this.uint32(length)
    if (length < ATTACH_MIN) {
      const start = this.reserve(length + padding(length))
      let at = start
      for (const piece of pieces) {
        this.buffer.set(piece, at)
        at += piece.length
      }
      this.buffer.fill(0, at, this.length)
      return this
    }
    return this.attach(...pieces)
  }

  string(value: string | Uint8Array): this {
    if (typeof value !== 'string') return this.opaque(value)
    const length = Buffer.byteLength(value, 'utf8')
    if (length >= ATTACH_MIN) return this.opaque(Buffer.from(value, 'utf8'))
    this.uint32(length)
    const start = this.reserve(length + padding(length))
    this.buffer.write(value, start, 'utf8')
    this.buffer.fill(0, start + length, this.length)
    return this
  }

  optional<T>(value: T | undefined, write: (value: T) => void): this {
    this.bool(value !== undefined)
    if (value !== undefined) write(value)
    return this
  }

  /** Patches a uint32 written earlier (e.g. a length known only at the end), after the last attached opaque. */
  setUint32(at: number, value: number): this {
    if (at < this.sealedLength) throw new RangeError('XdrWriter.setUint32: the position lies before attached data')
    if (at + 4 > this.size) throw new RangeError(`XdrWriter.setUint32: the position ${at} lies beyond what was written`)
    this.view.setUint32(at - this.sealedLength, value >>> 0)
    return this
  }

  /** The message in one buffer (copied together when opaque data was attached). */
  toBuffer(): Buffer {
    const pieces = this.toBuffers()
    return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, this.size)
  }

  /** The message as the pieces to send in order, attached opaque data among them uncopied. */
  toBuffers(): Buffer[] {
    return [...this.sealed, this.buffer.subarray(0, this.length)]
  }

  /** Attaches the bytes of one opaque, given in one or more pieces, and pads them. */
  private attach(...bytes: Uint8Array[]): this {
    this.sealed.push(this.buffer.subarray(0, this.length))
    this.sealedLength += this.length
    let length = 0
    for (const part of bytes) {
      const piece = Buffer.isBuffer(part) ? part : Buffer.from(part.buffer, part.byteOffset, part.byteLength)
      this.sealed.push(piece)
      length += piece.length
    }
    this.sealedLength += length
    this.buffer = Buffer.allocUnsafe(this.initialSize)
    this.view = viewOf(this.buffer)
    this.length = 0
    const start = this.reserve(padding(length))
    this.buffer.fill(0, start, this.length)
    return this
  }
}

function viewOf(buffer: Buffer): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}
