import type {Ino} from '../../core/fs/types.js'

/**
 * POSIX byte-range advisory locks (fcntl F_SETLK/F_GETLK semantics) as Tlock and Tgetlock ask for
 * them: one table per served filesystem, shared by every 9P connection, so a lock taken through one
 * mount is seen through another. An owner (proc_id + client_id) holds at most one lock kind on each
 * byte: locking part of its own range splits it, adjacent or overlapping ranges of one kind merge.
 * Locks of different owners conflict unless both are read locks.
 */

export type LockKind = 'read' | 'write'

export interface LockOwner {
  procId: number
  clientId: string
}

export interface HeldLock {
  kind: LockKind
  start: bigint
  /** Exclusive; LOCK_END for "to the end of the file, however far it grows". */
  end: bigint
  owner: LockOwner
}

/** One past the largest offset: a length of 0 locks up to here. */
export const LOCK_END = 1n << 64n

function rangeEnd(start: bigint, length: bigint): bigint {
  const end = start + length
  return length === 0n || end > LOCK_END ? LOCK_END : end
}

function sameOwner(a: LockOwner, b: LockOwner): boolean {
  return a.procId === b.procId && a.clientId === b.clientId
}

function overlaps(lock: HeldLock, start: bigint, end: bigint): boolean {
  return lock.start < end && start < lock.end
}

export class LockTable {
  private readonly files = new Map<Ino, HeldLock[]>()

  /** The first lock of another owner that keeps `owner` from taking `kind` over the range, if any. */
  conflict(ino: Ino, owner: LockOwner, kind: LockKind, start: bigint, length: bigint): HeldLock | undefined {
    const end = rangeEnd(start, length)
    return this.files.get(ino)?.find((lock) => !sameOwner(lock.owner, owner) && overlaps(lock, start, end) && (kind === 'write' || lock.kind === 'write'))
  }

  /**
   * Takes `kind` over the range for `owner` (replacing what it held there), or releases the range
   * with 'unlock'. Returns the conflicting lock, and changes nothing, when another owner holds one.
   */
  set(ino: Ino, owner: LockOwner, kind: LockKind | 'unlock', start: bigint, length: bigint): HeldLock | undefined {
    if (kind !== 'unlock') {
      const conflict = this.conflict(ino, owner, kind, start, length)
      if (conflict) return conflict
    }
    const end = rangeEnd(start, length)
    const kept: HeldLock[] = []
    for (const lock of this.files.get(ino) ?? []) {
      if (!sameOwner(lock.owner, owner) || !overlaps(lock, start, end)) {
        kept.push(lock)
        continue
      }
      if (lock.start < start) kept.push({...lock, end: start})
      if (lock.end > end) kept.push({...lock, start: end})
    }
    if (kind !== 'unlock') kept.push({kind, start, end, owner})
    this.store(ino, merged(kept, owner))
    return undefined
  }

  /** Drops every lock `owner` holds on `ino` (its fid was clunked, its connection closed). */
  release(ino: Ino, owner: LockOwner): void {
    this.store(ino, (this.files.get(ino) ?? []).filter((lock) => !sameOwner(lock.owner, owner)))
  }

  /** The locks on `ino`, in range order. */
  held(ino: Ino): readonly HeldLock[] {
    return this.files.get(ino) ?? []
  }

  private store(ino: Ino, locks: HeldLock[]): void {
    if (locks.length === 0) this.files.delete(ino)
    else this.files.set(ino, locks)
  }
}

/** `owner`'s touching or overlapping ranges of one kind become one; the result is in range order. */
function merged(locks: HeldLock[], owner: LockOwner): HeldLock[] {
  const sorted = [...locks].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
  const result: HeldLock[] = []
  for (const lock of sorted) {
    const previous = sameOwner(lock.owner, owner)
      ? result.findLast((other) => sameOwner(other.owner, owner) && other.kind === lock.kind)
      : undefined
    if (previous && previous.end >= lock.start) previous.end = previous.end > lock.end ? previous.end : lock.end
    else result.push({...lock})
  }
  return result
}
