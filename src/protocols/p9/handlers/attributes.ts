import {permittedChanges} from '../../../core/fs/permissions.js'
import type {SetAttr} from '../../../core/fs/types.js'
import {PERMISSION_BITS} from '../../../core/layout/mode.js'
import {
  P9_GETATTR_BASIC, P9_SETATTR_ATIME, P9_SETATTR_ATIME_SET, P9_SETATTR_GID, P9_SETATTR_MODE, P9_SETATTR_MTIME,
  P9_SETATTR_MTIME_SET, P9_SETATTR_SIZE, P9_SETATTR_UID, V9FS_MAGIC,
} from '../constants.js'
import type {Handler} from '../handler.js'
import {qidOf} from '../session.js'

/*
 * size[4] Tgetattr tag[2] fid[4] request_mask[8]
 * size[4] Rgetattr tag[2] valid[8] qid[13] mode[4] uid[4] gid[4] nlink[8] rdev[8] size[8] blksize[8]
 *   blocks[8] atime_sec[8] atime_nsec[8] mtime_sec[8] mtime_nsec[8] ctime_sec[8] ctime_nsec[8]
 *   btime_sec[8] btime_nsec[8] gen[8] data_version[8]
 * size[4] Tsetattr tag[2] fid[4] valid[4] mode[4] uid[4] gid[4] size[8] atime_sec[8] atime_nsec[8]
 *   mtime_sec[8] mtime_nsec[8]
 * size[4] Tstatfs tag[2] fid[4]
 * size[4] Rstatfs tag[2] type[4] bsize[4] blocks[8] bfree[8] bavail[8] files[8] ffree[8] fsid[8] namelen[4]
 */

const BLOCK_SIZE = 4096

/** Every basic attribute is known, so all of them are sent whatever subset was asked for (valid says so). */
export const getattr: Handler<'Tgetattr'> = async (session, body) => {
  const {attr} = await session.attributes(body.fid)
  return {
    name: 'Rgetattr',
    body: {
      valid: P9_GETATTR_BASIC,
      qid: qidOf(attr),
      mode: attr.mode,
      uid: attr.uid,
      gid: attr.gid,
      nlink: BigInt(attr.nlink),
      rdev: BigInt(attr.rdev),
      size: BigInt(attr.size),
      blksize: BigInt(BLOCK_SIZE),
      blocks: BigInt(Math.ceil(attr.size / 512)),
      atimeSec: BigInt(attr.atime.sec),
      atimeNsec: BigInt(attr.atime.nsec),
      mtimeSec: BigInt(attr.mtime.sec),
      mtimeNsec: BigInt(attr.mtime.nsec),
      ctimeSec: BigInt(attr.ctime.sec),
      ctimeNsec: BigInt(attr.ctime.nsec),
      btimeSec: 0n,
      btimeNsec: 0n,
      gen: BigInt(attr.generation),
      dataVersion: 0n,
    },
  }
}

/** Tsetattr's valid bits as the core's changes: a time without its _SET bit means "now". */
export function setAttrOf(body: {valid: number; mode: number; uid: number; gid: number; size: bigint; atimeSec: bigint; atimeNsec: bigint; mtimeSec: bigint; mtimeNsec: bigint}): SetAttr {
  const changes: SetAttr = {}
  const has = (bit: number): boolean => (body.valid & bit) !== 0
  if (has(P9_SETATTR_MODE)) changes.mode = body.mode & PERMISSION_BITS
  if (has(P9_SETATTR_UID)) changes.uid = body.uid
  if (has(P9_SETATTR_GID)) changes.gid = body.gid
  if (has(P9_SETATTR_SIZE)) changes.size = Number(body.size)
  if (has(P9_SETATTR_ATIME)) changes.atime = has(P9_SETATTR_ATIME_SET) ? {sec: Number(body.atimeSec), nsec: Number(body.atimeNsec)} : 'now'
  if (has(P9_SETATTR_MTIME)) changes.mtime = has(P9_SETATTR_MTIME_SET) ? {sec: Number(body.mtimeSec), nsec: Number(body.mtimeNsec)} : 'now'
  return changes
}

export const setattr: Handler<'Tsetattr'> = async (session, body) => {
  const {fid, attr} = await session.attributes(body.fid)
  const changes = setAttrOf(body)
  // P9_SETATTR_CTIME alone asks for nothing the core keeps apart: ctime follows every change.
  if (Object.keys(changes).length > 0) {
    await session.fs.setattr(attr.ino, permittedChanges(attr, fid.caller, changes, 'setattr'))
    if (changes.size !== undefined) fid.written = true
  }
  return {name: 'Rsetattr', body: {}}
}

export const statfs: Handler<'Tstatfs'> = async (session, body) => {
  session.fids.get(body.fid)
  const stats = await session.fs.statfs()
  const bsize = stats.blockSize
  return {
    name: 'Rstatfs',
    body: {
      type: V9FS_MAGIC,
      bsize,
      blocks: BigInt(Math.floor(stats.totalBytes / bsize)),
      bfree: BigInt(Math.floor(stats.freeBytes / bsize)),
      bavail: BigInt(Math.floor(stats.availBytes / bsize)),
      files: BigInt(stats.totalFiles),
      ffree: BigInt(stats.freeFiles),
      fsid: 0n,
      namelen: stats.nameMax,
    },
  }
}
