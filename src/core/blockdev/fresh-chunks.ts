/**
 * The bytes of the clean chunks fetched last, kept in memory (beside their local files, or, for
 * chunks only read, instead of them), so that a reader's requests are answered from them while
 * they are fresh. Such a buffer is never changed: whatever changes or removes a chunk drops its
 * entry first. At most `capacity` chunks, the oldest fetched go first.
 */
export class FreshChunks {
  private readonly chunks = new Map<number, Buffer>()

  constructor(private readonly capacity: number) {}

  get(index: number): Buffer | undefined {
    return this.chunks.get(index)
  }

  has(index: number): boolean {
    return this.chunks.has(index)
  }

  slice(index: number, offset: number, length: number): Buffer | undefined {
    return this.chunks.get(index)?.subarray(offset, offset + length)
  }

  set(index: number, data: Buffer): void {
    this.chunks.delete(index)
    this.chunks.set(index, data)
    for (const oldest of this.chunks.keys()) {
      if (this.chunks.size <= this.capacity) break
      this.chunks.delete(oldest)
    }
  }

  delete(index: number): void {
    this.chunks.delete(index)
  }
}
