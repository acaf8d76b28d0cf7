import type {Logger} from '../../core/logger.js'
import type {Attr, Caller, FileType, Ino, PosixFs} from '../../core/fs/types.js'
import {IOHDRSZ, MAX_MSIZE, QTDIR, QTFILE, QTSYMLINK} from './constants.js'
import {P9Error} from './errors.js'
import {FidTable, type Fid} from './fid-table.js'
import type {LockTable} from './lock-table.js'
import type {Body, ReplyName} from './messages.js'
import type {Qid} from './wire.js'

/** What a handler answers: an R-message and its fields. */
export type Reply = {[R in ReplyName]: {name: R; body: Body<R>}}[ReplyName]

export interface SessionOptions {
  fs: PosixFs
  /** Shared by every connection to the same filesystem. */
  locks: LockTable
  maxFids: number
  logger: Logger
}

export function qidTypeOf(type: FileType): number {
  return type === 'dir' ? QTDIR : type === 'symlink' ? QTSYMLINK : QTFILE
}

/** A file's qid: its inode number as path; version 0, as the contents carry no version. */
export function qidOf(attr: Attr): Qid {
  return {type: qidTypeOf(attr.type), version: 0, path: attr.ino}
}

/** The state of one 9P connection: the negotiated msize and the fid table. */
export class P9Session {
  readonly fs: PosixFs
  readonly locks: LockTable
  readonly logger: Logger
  readonly fids: FidTable
  msize = MAX_MSIZE

  constructor(options: SessionOptions) {
    this.fs = options.fs
    this.locks = options.locks
    this.logger = options.logger
    this.fids = new FidTable(options.maxFids)
  }

  /** The most data one Tread/Twrite may carry. */
  get maxData(): number {
    return this.msize - IOHDRSZ
  }

  /** A fid and the current attributes of its file. */
  async attributes(fid: number): Promise<{fid: Fid; attr: Attr}> {
    const state = this.fids.get(fid)
    return {fid: state, attr: await this.fs.getattr(state.ino)}
  }

  /** A fid that must name a directory (ENOTDIR otherwise). */
  async directory(fid: number): Promise<{fid: Fid; attr: Attr}> {
    const found = await this.attributes(fid)
    if (found.attr.type !== 'dir') throw new P9Error('ENOTDIR', `fid ${fid} is not a directory`)
    return found
  }

  /** A fid opened with Tlopen/Tlcreate, for data transfer. */
  opened(fid: number): Fid {
    const state = this.fids.get(fid)
    if (state.openFlags === undefined) throw new P9Error('EBADF', `fid ${fid} is not open`)
    return state
  }

  /** A fid's new state after a walk or create, sharing its attach. */
  derive(from: Fid, ino: Ino): Fid {
    return {ino, caller: from.caller, root: from.root, written: false, lockOwners: []}
  }

  /**
   * Lets go of a clunked fid: its owners' locks on the file go, data written through it is
   * uploaded before this resolves, and an open file is closed (design.md: the clunk of a written fid replies once it is in the bucket).
   */
  async release(fid: Fid, options: {upload: boolean} = {upload: true}): Promise<void> {
    for (const owner of fid.lockOwners) this.locks.release(fid.ino, owner)
    try {
      if (fid.written && options.upload) await this.fs.fsync(fid.ino)
    } finally {
      if (fid.openFlags !== undefined) await this.fs.closeFile(fid.ino)
    }
  }

  /** Releases every fid (Tversion, disconnect); failures are logged, not thrown. */
  async releaseAll(): Promise<void> {
    for (const fid of this.fids.takeAll()) {
      try {
        await this.release(fid)
      } catch (error) {
        this.logger.warn(`releasing a fid of ${this.fs.pathOf(fid.ino)}: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }
}

/** The caller of a create call: the attach's user with the group the client asks for (its fsgid). */
export function creator(fid: Fid, gid: number): Caller {
  return {uid: fid.caller.uid, gid, gids: fid.caller.gids}
}
