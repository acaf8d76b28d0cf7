/**
 * The bytes of the chunks fetched last, kept in memory beside their local files, so that a reader's
 * requests are answered with slices of them (no read back, no copy) while they are fresh. Such a
 * buffer is never changed: whatever changes or removes a chunk's local file drops its entry first.
 * At most `capacity` chunks, the oldest fetched go first.
 */
export class FreshChunks {
  private readonly chunks = new Map<number, Buffer>()

  constructor(private readonly capacity: number) {}

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
