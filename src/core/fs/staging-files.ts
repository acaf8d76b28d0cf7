import {copyFile, open, rename, rm, type FileHandle} from 'node:fs/promises'
import type {Ino} from './types.js'

const MAX_OPEN = 64

/**
 * The data files of staged inodes (`staging/<ino>`, sparse), with a small pool of open handles.
 * Callers serialise access per inode. Block devices keep their chunk files the same way, keyed by
 * chunk index.
 *
 * A data file may also be an object: a FileStore takes a file it uploads by a hard link (PutBody
 * `final`). Such a file is never written through that link: creating a data file replaces the path
 * (never truncates the inode), and a data file opened with another link (after a crash between the
 * upload and the removal of the data file, or an upload that failed after publishing) is first
 * copied to an inode of its own.
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
    await rm(this.pathOf(ino), {force: true})
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
    const opening = this.openOwn(this.pathOf(ino))
    opening.catch(() => this.handles.delete(ino))
    this.remember(ino, opening)
    return opening
  }

  /** Opens a data file for writing, first giving it an inode of its own if another link shares it. */
  private async openOwn(path: string): Promise<FileHandle> {
    const handle = await open(path, 'r+')
    if ((await handle.stat()).nlink <= 1) return handle
    await handle.close()
    const copy = `${path}.unshared`
    try {
      await copyFile(path, copy)
      await rename(copy, path)
    } catch (error) {
      await rm(copy, {force: true})
      throw error
    }
    return open(path, 'r+')
  }

  private remember(ino: K, handle: Promise<FileHandle>): void {
    this.handles.set(ino, handle)
    for (const oldest of this.handles.keys()) {
      if (this.handles.size <= MAX_OPEN) break
      if (oldest !== ino && !this.inUse.has(oldest)) void this.close(oldest).catch(() => undefined)
    }
  }
}
