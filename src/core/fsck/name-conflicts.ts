/**
 * Finds a file `a` and a directory `a/` (a marker or keys below it) in one pass over keys in S3
 * order. Keys that start with `a` are contiguous in that order, so a file key only needs to be
 * remembered while the keys that follow still start with it: the memory is one chain of file keys,
 * each a prefix of the next (at most a key's length), never the listing.
 */
export class NameConflicts {
  /** File keys that are prefixes of the last key seen, shortest first. */
  private readonly open: string[] = []

  /** Takes the next key; returns the file key it shows to be shadowed by a directory, if any. */
  next(key: string, isFile: boolean): string | undefined {
    while (this.open.length > 0 && !key.startsWith(this.open[this.open.length - 1])) this.open.pop()
    // Any remembered file key `f` with `key` under `f/` is shadowed; report each once.
    let shadowed: string | undefined
    const index = this.open.findIndex((file) => key.startsWith(`${file}/`))
    if (index !== -1) {
      shadowed = this.open[index]
      this.open.splice(index, 1)
    }
    if (isFile) this.open.push(key)
    return shadowed
  }
}
