import type {ObjectStore} from '../store/object-store.js'
import {BlockCache} from './block-cache.js'
import {slicePieces} from './pieces.js'
import {getRangePieces} from './ranged-get.js'
import type {Ino} from './types.js'

export interface ReadAheadOptions {
  /** Size of a fetched block. */
  blockSize: number
  /** Most blocks fetched ahead of a sequential reader. */
  maxWindowBlocks: number
  /** Bound of the in-memory block cache. */
  cacheBytes: number
}

/**
 * 8 MiB blocks, up to 4 ahead: on s3rver, sequential 1 MiB reads of a 256 MiB object ran 10–40%
 * faster than with 2 MiB blocks 8 ahead (fewer requests; a server that answers one at a time gains
 * nothing from more in flight).
 */
export const DEFAULT_READ_AHEAD: ReadAheadOptions = {blockSize: 8 * 1024 * 1024, maxWindowBlocks: 4, cacheBytes: 128 * 1024 * 1024}

/** One object version to read from: an inode's key, its etag (part of cache keys) and size. */
export interface ObjectVersion {
  ino: Ino
  key: string
  etag: string
  size: number
}

interface Stream {
  nextOffset: number
  windowBlocks: number
}

/**
 * Ranged reads of uploaded objects. A reader that continues where it stopped is sequential: its
 * window of blocks fetched ahead in parallel doubles up to `maxWindowBlocks`. Random reads fetch just
 * the bytes asked for, unless cached blocks already hold them. A store with `readRange` (local) is
 * read directly, neither ahead nor cached.
 */
export class ReadAhead {
  /** Blocks as the chunks they arrived in (see getRangePieces). */
  private readonly cache: BlockCache<Buffer[]>
  private readonly streams = new Map<Ino, Stream>()

  constructor(private readonly store: ObjectStore, private readonly options: ReadAheadOptions = DEFAULT_READ_AHEAD) {
    this.cache = new BlockCache(options.cacheBytes)
  }

  /** The bytes as pieces to be used in order (views of fetched blocks, not copies). */
  async read(object: ObjectVersion, offset: number, length: number): Promise<Buffer[]> {
    const end = Math.min(offset + length, object.size)
    if (end <= offset) return []
    // A local store reads at memory speed, and the OS reads ahead for it.
    if (this.store.readRange) return [await this.store.readRange(object.key, {offset, length: end - offset})]
    const stream = this.streams.get(object.ino)
    // A read that goes on where the last one ended is sequential (a lone first read is not: reading
    // the head of many files must not fetch megabytes of each).
    const sequential = stream !== undefined && offset === stream.nextOffset
    const windowBlocks = sequential ? Math.min(Math.max((stream?.windowBlocks ?? 0) * 2, 1), this.options.maxWindowBlocks) : 0
    this.streams.set(object.ino, {nextOffset: end, windowBlocks})
    if (this.streams.size > 1024) this.streams.delete(this.streams.keys().next().value!)

    const {blockSize} = this.options
    const first = Math.floor(offset / blockSize)
    const last = Math.floor((end - 1) / blockSize)
    if (!sequential && !this.allCached(object, first, last)) return this.fetch(object, offset, end - offset)

    const lastBlock = Math.floor((object.size - 1) / blockSize)
    for (let block = last + 1; block <= Math.min(last + windowBlocks, lastBlock); block++) {
      this.block(object, block).catch(() => undefined)
    }
    const blocks = await Promise.all(Array.from({length: last - first + 1}, (_, i) => this.block(object, first + i)))
    const start = offset - first * blockSize
    return slicePieces(blocks.flat(), start, start + end - offset)
  }

  /** Forgets cached blocks and the access pattern of an inode (its content changed). */
  forget(ino: Ino): void {
    this.streams.delete(ino)
    this.cache.dropPrefix(`${ino}:`)
  }

  private cacheKey(object: ObjectVersion, block: number): string {
    return `${object.ino}:${object.etag}:${block}`
  }

  private allCached(object: ObjectVersion, first: number, last: number): boolean {
    for (let block = first; block <= last; block++) {
      if (!this.cache.has(this.cacheKey(object, block))) return false
    }
    return true
  }

  private block(object: ObjectVersion, block: number): Promise<Buffer[]> {
    const offset = block * this.options.blockSize
    const length = Math.min(this.options.blockSize, object.size - offset)
    return this.cache.load(this.cacheKey(object, block), length, () => this.fetch(object, offset, length))
  }

  private fetch(object: ObjectVersion, offset: number, length: number): Promise<Buffer[]> {
    return getRangePieces(this.store, object.key, offset, length)
  }
}
