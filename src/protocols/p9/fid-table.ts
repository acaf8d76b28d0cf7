import type {Caller, Ino} from '../../core/fs/types.js'
import {P9Error} from './errors.js'
import type {LockOwner} from './lock-table.js'

/** What a fid stands for on one connection. */
export interface Fid {
  ino: Ino
  /** The attach's user: every permission check of calls on this fid is made for it. */
  caller: Caller
  /** The attach's directory: `..` does not walk above it. */
  root: Ino
  /** Tlopen/Tlcreate flags once opened. */
  openFlags?: number
  /** Data was written or truncated through it: its clunk replies once the data is in the bucket. */
  written: boolean
  /** Owners that took locks through it: their locks on the file go when it is clunked. */
  lockOwners: LockOwner[]
}

/** The fids of one connection, bounded; every message names fids that must (or must not) exist. */
export class FidTable {
  private readonly fids = new Map<number, Fid>()

  constructor(private readonly maxFids: number) {}

  get size(): number {
    return this.fids.size
  }

  /** EBADF for a fid the client never made or already clunked. */
  get(fid: number): Fid {
    const found = this.fids.get(fid)
    if (found === undefined) throw new P9Error('EBADF', `unknown fid ${fid}`)
    return found
  }

  /** EBADF when `fid` is in use, EMFILE past the bound. */
  checkNew(fid: number): void {
    if (this.fids.has(fid)) throw new P9Error('EBADF', `fid ${fid} is in use`)
    if (this.fids.size >= this.maxFids) throw new P9Error('EMFILE', `more than ${this.maxFids} fids on one connection`)
  }

  add(fid: number, state: Fid): void {
    this.checkNew(fid)
    this.fids.set(fid, state)
  }

  /** Sets `fid` whether or not it exists (a walk whose newfid is its fid). */
  replace(fid: number, state: Fid): void {
    this.fids.set(fid, state)
  }

  /** Removes and returns `fid` (EBADF when unknown). */
  take(fid: number): Fid {
    const found = this.get(fid)
    this.fids.delete(fid)
    return found
  }

  /** Removes and returns every fid (Tversion, disconnect). */
  takeAll(): Fid[] {
    const all = [...this.fids.values()]
    this.fids.clear()
    return all
  }
}
