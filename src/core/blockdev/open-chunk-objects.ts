import type {FileStore, ObjectFile} from '../store/file-store.js'

/** Chunk objects kept open at once (a few hundred MiB of a device at the default chunk size). */
const MAX_OPEN = 64

interface Entry {
  file: Promise<ObjectFile>
  /** Reads in flight on the file: it is closed once it is retired and has none. */
  readers: number
  retired: boolean
}

/**
 * The chunk objects of a device on a local store, kept open for reads: a sequential reader's
 * requests each cost one positional read instead of an open, a stat, a read and a close. An open
 * file reads the version it opened, so the device forgets a chunk's file whenever it replaces or
 * deletes that chunk's object; the device is the only writer of its chunk objects (its owner lock).
 */
export class OpenChunkObjects {
  private readonly entries = new Map<number, Entry>()

  constructor(private readonly store: FileStore, private readonly keyOf: (index: number) => string) {}

  /**
   * Reads chunk `index`'s object from `offset` into `target`; returns how many bytes were read
   * (fewer at the object's end). Throws the store's NotFound when the chunk has no object.
   */
  async read(index: number, offset: number, target: Buffer): Promise<number> {
    const entry = this.entryOf(index)
    entry.readers++
    try {
      return await (await entry.file).read(offset, target)
    } finally {
      entry.readers--
      if (entry.retired && entry.readers === 0) void close(entry)
    }
  }

  /** The chunk's object was replaced or deleted: later reads open it anew. */
  forget(index: number): void {
    const entry = this.entries.get(index)
    if (entry === undefined) return
    this.entries.delete(index)
    void retire(entry)
  }

  /** Forgets every chunk; resolves once the files without reads in flight are closed. */
  async forgetAll(): Promise<void> {
    const entries = [...this.entries.values()]
    this.entries.clear()
    await Promise.all(entries.map(retire))
  }

  private entryOf(index: number): Entry {
    const open = this.entries.get(index)
    if (open !== undefined) {
      // Most recently used last: the first entries are the ones closed when too many are open.
      this.entries.delete(index)
      this.entries.set(index, open)
      return open
    }
    const entry: Entry = {file: this.store.openObjectFile(this.keyOf(index)), readers: 0, retired: false}
    // A chunk without an object (or a failed open) is not remembered: the next read tries again.
    entry.file.catch(() => {
      if (this.entries.get(index) === entry) this.entries.delete(index)
    })
    this.entries.set(index, entry)
    for (const [oldest, old] of this.entries) {
      if (this.entries.size <= MAX_OPEN) break
      this.entries.delete(oldest)
      void retire(old)
    }
    return entry
  }
}

function retire(entry: Entry): Promise<void> | undefined {
  entry.retired = true
  return entry.readers === 0 ? close(entry) : undefined
}

function close(entry: Entry): Promise<void> {
  return entry.file.then((file) => file.close()).catch(() => undefined)
}
