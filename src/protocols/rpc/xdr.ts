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

export class XdrWriter {
  private buffer: Buffer
  private length = 0
  /** Pieces before `buffer`: what was written before each attached opaque, and the opaque itself. */
  private readonly sealed: Buffer[] = []
  private sealedLength = 0

  constructor(private readonly initialSize = 256) {
    this.buffer = Buffer.allocUnsafe(initialSize)
  }

  /** Grows the buffer if needed; callers must read `this.buffer` only after calling it. */
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
    return this.sealedLength + this.length
  }

  uint32(value: number): this {
    const at = this.reserve(4)
    this.buffer.writeUInt32BE(value >>> 0, at)
    return this
  }

  int32(value: number): this {
    const at = this.reserve(4)
    this.buffer.writeInt32BE(value, at)
    return this
  }

  uint64(value: bigint): this {
    const at = this.reserve(8)
    this.buffer.writeBigUInt64BE(BigInt.asUintN(64, value), at)
    return this
  }

  int64(value: bigint): this {
    const at = this.reserve(8)
    this.buffer.writeBigInt64BE(BigInt.asIntN(64, value), at)
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

  string(value: string | Uint8Array): this {
    return this.opaque(typeof value === 'string' ? Buffer.from(value, 'utf8') : value)
  }

  optional<T>(value: T | undefined, write: (value: T) => void): this {
    this.bool(value !== undefined)
    if (value !== undefined) write(value)
    return this
  }

  /** Patches a uint32 written earlier (e.g. a length known only at the end), after the last attached opaque. */
  setUint32(at: number, value: number): this {
    if (at < this.sealedLength) throw new RangeError('XdrWriter.setUint32: the position lies before attached data')
    this.buffer.writeUInt32BE(value >>> 0, at - this.sealedLength)
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

  private attach(bytes: Uint8Array): this {
    const piece = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.sealed.push(this.buffer.subarray(0, this.length), piece)
    this.sealedLength += this.length + piece.length
    this.buffer = Buffer.allocUnsafe(this.initialSize)
    this.length = 0
    const start = this.reserve(padding(piece.length))
    this.buffer.fill(0, start, this.length)
    return this
  }
}
