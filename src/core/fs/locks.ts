/**
 * Two small async locks: a mutex per key (a directory's entries, an inode's staged data) and a
 * readers-writer lock (directory renames exclude everything else that touches the store).
 */

/** One holder per key at a time; waiters run in arrival order. */
export class KeyedMutex<K> {
  private readonly tails = new Map<K, Promise<void>>()

  async run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const current = new Promise<void>((resolve) => {
      release = resolve
    })
    const tail = previous.then(() => current)
    this.tails.set(key, tail)
    await previous
    try {
      return await fn()
    } finally {
      release()
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }

  /** Holds several keys, taken in a fixed order so two holders of overlapping sets cannot deadlock. */
  async runAll<T>(keys: K[], fn: () => Promise<T>): Promise<T> {
    const ordered = [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    const take = (index: number): Promise<T> => (index === ordered.length ? fn() : this.run(ordered[index], () => take(index + 1)))
    return take(0)
  }

  isHeld(key: K): boolean {
    return this.tails.has(key)
  }
}

/** Many readers or one writer; a waiting writer holds back new readers, so it cannot starve. */
export class ReadWriteLock {
  private readers = 0
  private writing = false
  private readonly waiting: Array<{writer: boolean; wake: () => void}> = []

  async read<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writing || this.waiting.length > 0) {
      await new Promise<void>((wake) => this.waiting.push({writer: false, wake}))
    } else {
      this.readers++
    }
    try {
      return await fn()
    } finally {
      this.readers--
      this.wakeNext()
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writing || this.readers > 0 || this.waiting.length > 0) {
      await new Promise<void>((wake) => this.waiting.push({writer: true, wake}))
    } else {
      this.writing = true
    }
    try {
      return await fn()
    } finally {
      this.writing = false
      this.wakeNext()
    }
  }

  private wakeNext(): void {
    if (this.writing || this.readers > 0) return
    const next = this.waiting[0]
    if (!next) return
    if (next.writer) {
      this.waiting.shift()
      this.writing = true
      next.wake()
      return
    }
    while (this.waiting[0] && !this.waiting[0].writer) {
      this.readers++
      this.waiting.shift()!.wake()
    }
  }
}
