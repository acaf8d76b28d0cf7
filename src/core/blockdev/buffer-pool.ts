/**
 * Chunk-sized buffers handed out and given back, so that upload snapshots reuse a few buffers
 * instead of allocating one per chunk (hundreds of MiB a second of short-lived buffers keep V8's
 * garbage collector busy). Holds at most `keep` idle buffers; contents of a taken buffer are stale.
 */
export class BufferPool {
  private readonly idle: Buffer[] = []

  constructor(private readonly size: number, private readonly keep: number) {}

  take(): Buffer {
    return this.idle.pop() ?? Buffer.allocUnsafeSlow(this.size)
  }

  give(buffer: Buffer): void {
    if (this.idle.length < this.keep && buffer.length === this.size) this.idle.push(buffer)
  }
}
