import {newEntryOwnership, requireAccess, requireEntryChange} from '../../../core/fs/permissions.js'
import {ACCESS_READ, ACCESS_WRITE, type Attr} from '../../../core/fs/types.js'
import {PERMISSION_BITS} from '../../../core/layout/mode.js'
import {P9_DOTL_ACCMODE, P9_DOTL_EXCL, P9_DOTL_RDONLY, P9_DOTL_RDWR, P9_DOTL_TRUNC, P9_DOTL_WRONLY} from '../constants.js'
import {P9Error} from '../errors.js'
import type {Fid} from '../fid-table.js'
import type {Handler} from '../handler.js'
import {entryName} from '../names.js'
import {creator, qidOf} from '../session.js'

/*
 * size[4] Tlopen tag[2] fid[4] flags[4]
 * size[4] Rlopen tag[2] qid[13] iounit[4]
 * size[4] Tlcreate tag[2] fid[4] name[s] flags[4] mode[4] gid[4]
 * size[4] Rlcreate tag[2] qid[13] iounit[4]
 *
 * Permissions are checked at open, as a local open does; reads and writes through the open fid
 * need no further check. iounit 0: the client moves msize - IOHDRSZ bytes per message.
 */

export function opensForReading(flags: number): boolean {
  return (flags & P9_DOTL_ACCMODE) !== P9_DOTL_WRONLY
}

export function opensForWriting(flags: number): boolean {
  const access = flags & P9_DOTL_ACCMODE
  return access === P9_DOTL_WRONLY || access === P9_DOTL_RDWR
}

function accessMask(flags: number): number {
  const access = flags & P9_DOTL_ACCMODE
  if (access === P9_DOTL_RDONLY) return ACCESS_READ | ((flags & P9_DOTL_TRUNC) !== 0 ? ACCESS_WRITE : 0)
  if (access === P9_DOTL_WRONLY) return ACCESS_WRITE
  return ACCESS_READ | ACCESS_WRITE
}

function checkOpen(fid: Fid, attr: Attr, flags: number): void {
  if (fid.openFlags !== undefined) throw new P9Error('EINVAL', 'fid is already open')
  if (attr.type === 'symlink') throw new P9Error('ELOOP', 'Tlopen of a symlink')
  if (attr.type === 'dir' && (opensForWriting(flags) || (flags & P9_DOTL_TRUNC) !== 0)) throw new P9Error('EISDIR', 'a directory opened for writing')
  requireAccess(attr, fid.caller, accessMask(flags), 'open')
}

export const lopen: Handler<'Tlopen'> = async (session, body) => {
  const {fid, attr} = await session.attributes(body.fid)
  checkOpen(fid, attr, body.flags)
  let opened = attr
  if ((body.flags & P9_DOTL_TRUNC) !== 0 && attr.type === 'file' && attr.size > 0) {
    opened = await session.fs.setattr(attr.ino, {size: 0})
    fid.written = true
  }
  session.fs.openFile(attr.ino)
  fid.openFlags = body.flags
  return {name: 'Rlopen', body: {qid: qidOf(opened), iounit: 0}}
}

/** Creates a file in the directory fid names; the fid then names the new file, open. */
export const lcreate: Handler<'Tlcreate'> = async (session, body) => {
  const {fid, attr: dir} = await session.directory(body.fid)
  if (fid.openFlags !== undefined) throw new P9Error('EINVAL', 'fid is already open')
  requireEntryChange(dir, fid.caller, 'create')
  const ownership = newEntryOwnership(dir, creator(fid, body.gid), 'file', {mode: body.mode & PERMISSION_BITS})
  const created = await session.fs.create(dir.ino, entryName(body.name, 'EEXIST'), {...ownership, exclusive: (body.flags & P9_DOTL_EXCL) !== 0})
  session.fs.openFile(created.ino)
  session.fids.replace(body.fid, {...session.derive(fid, created.ino), openFlags: body.flags})
  return {name: 'Rlcreate', body: {qid: qidOf(created), iounit: 0}}
}
