import type {Ino} from './types.js'

/**
 * How many times clients hold each file open (9P's Tlopen; NFS has no open: its clients rename an
 * open file away instead of unlinking it). Unlinking an open file detaches it rather than deleting
 * it, so reads and writes through the open handle go on until the last close (POSIX unlink(2)).
 */
export class OpenFiles {
  private readonly counts = new Map<Ino, number>()

  open(ino: Ino): void {
    this.counts.set(ino, (this.counts.get(ino) ?? 0) + 1)
  }

  /** True when this was the file's last open. */
  close(ino: Ino): boolean {
    const count = this.counts.get(ino) ?? 0
    if (count <= 1) {
      this.counts.delete(ino)
      return count === 1
    }
    this.counts.set(ino, count - 1)
    return false
  }

  isOpen(ino: Ino): boolean {
    return this.counts.has(ino)
  }
}
