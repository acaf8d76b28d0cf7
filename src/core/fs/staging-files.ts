import {open, rm, type FileHandle} from 'node:fs/promises'
import type {Ino} from './types.js'

const MAX_OPEN = 64

/**
 * The data files of staged inodes (`staging/<ino>`, sparse), with a small pool of open handles.
 * Callers serialise access per inode. Block devices keep their chunk files the same way, keyed by
 * chunk index.
 */
export class StagingFiles<K = Ino> {
  private readonly handles = new Map<K, Promise<FileHandle>>()
  private readonly inUse = new Map<K, number>()

  constructor(private readonly pathOf: (ino: K) => string) {}

  path(ino: K): string {
    return this.pathOf(ino)
  }

  /** Creates (or empties) the data file of a newly staged inode, with the given length. */
  async create(ino: K, size: number): Promise<void> {
    await this.close(ino)
    const handle = await open(this.pathOf(ino), 'w+')
    await handle.truncate(size)
    this.remember(ino, Promise.resolve(handle))
  }

  async write(ino: K, offset: number, data: Buffer): Promise<void> {
    await this.use(ino, async (handle) => {
      let written = 0
      while (written < data.length) {
        const {bytesWritten} = await handle.write(data, written, data.length - written, offset + written)
        written += bytesWritten
      }
    })
  }

  /** Reads `length` bytes at `offset`; bytes past the end of the file read as zeros. */
  async read(ino: K, offset: number, length: number): Promise<Buffer> {
    // Not zero-filled first: readInto writes every byte.
    return this.readInto(ino, offset, Buffer.allocUnsafe(length))
  }

  /** Fills `target` (a reused buffer) from `offset` on; bytes past the end of the file read as zeros. */
  async readInto(ino: K, offset: number, target: Buffer): Promise<Buffer> {
    return this.use(ino, async (handle) => {
      let done = 0
      while (done < target.length) {
        const {bytesRead} = await handle.read(target, done, target.length - done, offset + done)
        if (bytesRead === 0) break
        done += bytesRead
      }
      target.fill(0, done)
      return target
    })
  }

  async truncate(ino: K, size: number): Promise<void> {
    await this.use(ino, (handle) => handle.truncate(size))
  }

  async remove(ino: K): Promise<void> {
    await this.close(ino)
    await rm(this.pathOf(ino), {force: true})
  }

  async close(ino: K): Promise<void> {
    const handle = this.handles.get(ino)
    if (!handle) return
    this.handles.delete(ino)
    await (await handle).close()
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.handles.keys()].map((ino) => this.close(ino)))
  }

  private async use<T>(ino: K, fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    this.inUse.set(ino, (this.inUse.get(ino) ?? 0) + 1)
    try {
      return await fn(await this.handle(ino))
    } finally {
      const count = this.inUse.get(ino)! - 1
      if (count === 0) this.inUse.delete(ino)
      else this.inUse.set(ino, count)
    }
  }

  private handle(ino: K): Promise<FileHandle> {
    const existing = this.handles.get(ino)
    if (existing) {
      this.handles.delete(ino)
      this.handles.set(ino, existing)
      return existing
    }
    const opening = open(this.pathOf(ino), 'r+')
    opening.catch(() => this.handles.delete(ino))
    this.remember(ino, opening)
    return opening
  }

  private remember(ino: K, handle: Promise<FileHandle>): void {
    this.handles.set(ino, handle)
    for (const oldest of this.handles.keys()) {
      if (this.handles.size <= MAX_OPEN) break
      if (oldest !== ino && !this.inUse.has(oldest)) void this.close(oldest).catch(() => undefined)
    }
  }
}
