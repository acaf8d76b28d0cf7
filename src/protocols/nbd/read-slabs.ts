/** Bytes per slab: a read takes what remains of one, at least MIN_READ. */
const SLAB_BYTES = 1024 * 1024
const MIN_READ = 64 * 1024
/** Idle slabs kept per connection: as many as the WRITE payloads in flight may hold. */
const IDLE_SLABS = 16

interface Slab {
  bytes: Buffer
  /** Bytes read into it so far (handed to the consumer), from its start. */
  delivered: number
  consumed: number
}

/**
 * The buffers a socket reads into (Node's `onread`): a few large slabs reused from one read to the
 * next, instead of a fresh 64 KiB buffer per read. A slab is reused once reads have moved on to a
 * newer one and every byte delivered from it has been released by the consumer, which copies
 * bytes out or holds views of them until it releases them.
 */
export class ReadSlabs {
  private readonly idle: Buffer[] = []
  /** Oldest first; reads go into the last. */
  private readonly slabs: Slab[] = []

  /** The buffer the next read fills: what remains of the last slab, or a slab of its own. */
  next(): Buffer {
    let last = this.slabs.at(-1)
    if (last === undefined || last.bytes.length - last.delivered < MIN_READ) {
      last = {bytes: this.idle.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES), delivered: 0, consumed: 0}
      this.slabs.push(last)
      this.recycle()
    }
    return last.bytes.subarray(last.delivered)
  }

  /** `length` bytes were read into the buffer next() gave: they, as a view of the slab. */
  deliver(length: number): Buffer {
    const last = this.slabs.at(-1)!
    const bytes = last.bytes.subarray(last.delivered, last.delivered + length)
    last.delivered += length
    return bytes
  }

  /** The consumer is done with `length` bytes it was given from the slab whose memory is `memory` (in any order). */
  release(memory: ArrayBufferLike, length: number): void {
    const slab = this.slabs.find((candidate) => candidate.bytes.buffer === memory)
    if (slab === undefined) return
    slab.consumed += length
    this.recycle()
  }

  /** Reuses the slabs reads have moved on from (all but the last) whose bytes were all consumed. */
  private recycle(): void {
    for (let index = this.slabs.length - 2; index >= 0; index--) {
      const slab = this.slabs[index]
      if (slab.consumed !== slab.delivered) continue
      this.slabs.splice(index, 1)
      if (this.idle.length < IDLE_SLABS) this.idle.push(slab.bytes)
    }
  }
}
