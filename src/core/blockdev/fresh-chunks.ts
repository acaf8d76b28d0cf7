import type {BufferPool} from './buffer-pool.js'

/**
 * The bytes of the clean chunks fetched last, kept in memory (beside their local files, or, for
 * chunks only read, instead of them), so that a reader's requests are answered from them while
 * they are fresh. Such a buffer is never changed: whatever changes or removes a chunk drops its
 * entry first. At most `capacity` chunks; the least recently used go first.
 *
 * A dropped buffer goes back to `pool`, to be filled by a later fetch: readers copy out of a buffer
 * they get here at once (in the same turn of the event loop), and a fetch fills a buffer only as
 * its response arrives, in a later turn. A caller that keeps the bytes across an await takes them
 * (take), and owns them from then on.
 */
export class FreshChunks {
  private readonly chunks = new Map<number, Buffer>()

  constructor(private readonly capacity: number, private readonly pool: BufferPool) {}

  get(index: number): Buffer | undefined {
    const data = this.chunks.get(index)
    if (data !== undefined) this.touch(index, data)
    return data
  }

  has(index: number): boolean {
    return this.chunks.has(index)
  }

  slice(index: number, offset: number, length: number): Buffer | undefined {
    return this.get(index)?.subarray(offset, offset + length)
  }

  set(index: number, data: Buffer): void {
    const replaced = this.chunks.get(index)
    this.chunks.delete(index)
    if (replaced !== undefined && replaced !== data) this.pool.give(replaced)
    this.chunks.set(index, data)
    for (const [oldest, bytes] of this.chunks) {
      if (this.chunks.size <= this.capacity) break
      this.chunks.delete(oldest)
      this.pool.give(bytes)
    }
  }

  /** Removes the chunk's entry and hands its buffer to the caller, who owns it from then on. */
  take(index: number): Buffer | undefined {
    const data = this.chunks.get(index)
    this.chunks.delete(index)
    return data
  }

  delete(index: number): void {
    const data = this.take(index)
    if (data !== undefined) this.pool.give(data)
  }

  /** Most recently used last: eviction takes the first in the map's order. */
  private touch(index: number, data: Buffer): void {
    this.chunks.delete(index)
    this.chunks.set(index, data)
  }
}
