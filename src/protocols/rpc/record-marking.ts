/**
 * ONC RPC record marking over TCP (RFC 5531 §11): a record is one or more fragments, each preceded
 * by a 4-byte header whose top bit marks the last fragment and whose low 31 bits give its length.
 * The framer is pure (no socket): feed it bytes, take whole records.
 */

const LAST_FRAGMENT = 0x80000000
const LENGTH_MASK = 0x7fffffff

export class RecordTooLargeError extends Error {
  constructor(readonly size: number, readonly limit: number) {
    super(`RPC record of at least ${size} bytes exceeds the limit of ${limit}`)
    this.name = 'RecordTooLargeError'
  }
}

export class RecordFramer {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private fragments: Buffer[] = []
  private recordBytes = 0

  constructor(private readonly maxRecordSize: number) {}

  /** Appends bytes; returns every record now complete, in order. Throws RecordTooLargeError. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk)
    this.pendingBytes += chunk.length
    const records: Buffer[] = []
    for (;;) {
      if (this.pendingBytes < 4) break
      const header = this.peekHeader()
      const length = header & LENGTH_MASK
      if (this.recordBytes + length > this.maxRecordSize) {
        throw new RecordTooLargeError(this.recordBytes + length, this.maxRecordSize)
      }
      if (this.pendingBytes < 4 + length) break
      this.consume(4)
      this.fragments.push(this.consume(length))
      this.recordBytes += length
      if ((header & LAST_FRAGMENT) !== 0) {
        records.push(this.fragments.length === 1 ? this.fragments[0] : Buffer.concat(this.fragments))
        this.fragments = []
        this.recordBytes = 0
      }
    }
    return records
  }

  private peekHeader(): number {
    if (this.pending[0].length < 4) this.pending = [Buffer.concat(this.pending)]
    return this.pending[0].readUInt32BE(0) >>> 0
  }

  private consume(size: number): Buffer {
    if (this.pending[0].length < size) this.pending = [Buffer.concat(this.pending)]
    const head = this.pending[0]
    const taken = head.subarray(0, size)
    if (head.length === size) this.pending.shift()
    else this.pending[0] = head.subarray(size)
    this.pendingBytes -= size
    return taken
  }
}

/** One record as a single last fragment: the header, then the payload. */
export function recordHeader(payloadLength: number): Buffer {
  const header = Buffer.allocUnsafe(4)
  header.writeUInt32BE((LAST_FRAGMENT | payloadLength) >>> 0, 0)
  return header
}
