/**
 * An LRU of fetched blocks bounded in bytes. Entries are promises, so concurrent readers of a block
 * share one fetch; a failed fetch is dropped so the next reader tries again.
 */
export class BlockCache<Block> {
  private readonly entries = new Map<string, {block: Promise<Block>; bytes: number}>()
  private bytes = 0

  constructor(private readonly maxBytes: number) {}

  get(key: string): Promise<Block> | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.block
  }

  has(key: string): boolean {
    return this.entries.has(key)
  }

  /** Starts (or joins) the fetch of a block of `expectedBytes`. */
  load(key: string, expectedBytes: number, fetch: () => Promise<Block>): Promise<Block> {
    const cached = this.get(key)
    if (cached) return cached
    const block = fetch()
    const entry = {block, bytes: expectedBytes}
    this.entries.set(key, entry)
    this.bytes += expectedBytes
    block.catch(() => this.remove(key, entry))
    this.evict()
    return block
  }

  /** Drops every block whose key starts with `prefix` (an inode's blocks after it changes). */
  dropPrefix(prefix: string): void {
    for (const [key, entry] of this.entries) {
      if (key.startsWith(prefix)) this.remove(key, entry)
    }
  }

  private remove(key: string, entry: {bytes: number}): void {
    if (this.entries.get(key) !== entry) return
    this.entries.delete(key)
    this.bytes -= entry.bytes
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) return
      this.remove(key, entry)
    }
  }
}
