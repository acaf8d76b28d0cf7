import {joinDevice} from '../../../core/fs/device.js'
import {checkRemoval, checkRename} from '../../../core/fs/entry-checks.js'
import {newEntryOwnership, requireEntryChange, requireNodeCreation} from '../../../core/fs/permissions.js'
import type {Attr} from '../../../core/fs/types.js'
import {fileTypeOfMode, PERMISSION_BITS} from '../../../core/layout/mode.js'
import {AT_REMOVEDIR} from '../constants.js'
import {P9Error} from '../errors.js'
import type {Fid} from '../fid-table.js'
import type {Handler} from '../handler.js'
import {entryName} from '../names.js'
import {creator, qidOf, type P9Session} from '../session.js'

/*
 * size[4] Tmkdir tag[2] dfid[4] name[s] mode[4] gid[4]              size[4] Rmkdir tag[2] qid[13]
 * size[4] Tsymlink tag[2] fid[4] name[s] symtgt[s] gid[4]           size[4] Rsymlink tag[2] qid[13]
 * size[4] Tmknod tag[2] dfid[4] name[s] mode[4] major[4] minor[4] gid[4]  size[4] Rmknod tag[2] qid[13]
 * size[4] Treadlink tag[2] fid[4]                                   size[4] Rreadlink tag[2] target[s]
 * size[4] Tunlinkat tag[2] dirfd[4] name[s] flags[4]                size[4] Runlinkat tag[2]
 * size[4] Tremove tag[2] fid[4]                                     size[4] Rremove tag[2]
 * size[4] Trenameat tag[2] olddirfid[4] oldname[s] newdirfid[4] newname[s]  size[4] Rrenameat tag[2]
 * size[4] Trename tag[2] fid[4] dfid[4] name[s]                     size[4] Rrename tag[2]
 * size[4] Tlink tag[2] dfid[4] fid[4] name[s]                       size[4] Rlink tag[2]
 */

/** The directory fid names, whose entries the caller may change (write and search permission). */
async function targetDirectory(session: P9Session, dirFid: number): Promise<{fid: Fid; dir: Attr}> {
  const {fid, attr} = await session.directory(dirFid)
  requireEntryChange(attr, fid.caller, 'change entries')
  return {fid, dir: attr}
}

/** The directory and name of the file a fid names (for Tremove and Trename, which name no directory). */
async function placeOf(session: P9Session, fid: Fid): Promise<{dir: Attr; name: string}> {
  if (fid.ino === fid.root) throw new P9Error('EBUSY', 'the attach directory cannot be removed or renamed')
  const path = session.fs.pathOf(fid.ino)
  const slash = path.lastIndexOf('/')
  return {dir: await session.fs.resolve(path.slice(0, slash) || '/'), name: path.slice(slash + 1)}
}

export const mkdir: Handler<'Tmkdir'> = async (session, body) => {
  const {fid, dir} = await targetDirectory(session, body.dfid)
  const ownership = newEntryOwnership(dir, creator(fid, body.gid), 'dir', {mode: body.mode & PERMISSION_BITS})
  const created = await session.fs.mkdir(dir.ino, entryName(body.name, 'EEXIST'), ownership)
  return {name: 'Rmkdir', body: {qid: qidOf(created)}}
}

export const symlink: Handler<'Tsymlink'> = async (session, body) => {
  const {fid, dir} = await targetDirectory(session, body.fid)
  const {uid, gid} = newEntryOwnership(dir, creator(fid, body.gid), 'symlink', {mode: 0o777})
  const created = await session.fs.symlink(dir.ino, entryName(body.name, 'EEXIST'), body.symtgt, {uid, gid})
  return {name: 'Rsymlink', body: {qid: qidOf(created)}}
}

/** FIFOs, sockets and device nodes (mode carries the type); a regular file is a plain create. */
export const mknod: Handler<'Tmknod'> = async (session, body) => {
  const {fid, dir} = await targetDirectory(session, body.dfid)
  const type = fileTypeOfMode(body.mode)
  if (type === undefined || type === 'dir' || type === 'symlink') throw new P9Error('EINVAL', `Tmknod of mode ${body.mode.toString(8)}`)
  requireNodeCreation(type, fid.caller, 'mknod')
  const name = entryName(body.name, 'EEXIST')
  const ownership = newEntryOwnership(dir, creator(fid, body.gid), type, {mode: body.mode})
  const created = type === 'file'
    ? await session.fs.create(dir.ino, name, {...ownership, mode: ownership.mode & PERMISSION_BITS, exclusive: true})
    : await session.fs.mknod(dir.ino, name, {...ownership, rdev: joinDevice(body.major, body.minor)})
  return {name: 'Rmknod', body: {qid: qidOf(created)}}
}

export const readlink: Handler<'Treadlink'> = async (session, body) => {
  const {attr} = await session.attributes(body.fid)
  if (attr.type !== 'symlink') throw new P9Error('EINVAL', 'Treadlink of a non-symlink')
  return {name: 'Rreadlink', body: {target: await session.fs.readlink(attr.ino)}}
}

async function removeEntry(session: P9Session, fid: Fid, dir: Attr, name: string, directory: boolean): Promise<void> {
  await checkRemoval(session.fs, fid.caller, dir, name)
  if (directory) await session.fs.rmdir(dir.ino, name)
  else await session.fs.unlink(dir.ino, name)
}

export const unlinkat: Handler<'Tunlinkat'> = async (session, body) => {
  const {fid, dir} = await targetDirectory(session, body.dirfid)
  await removeEntry(session, fid, dir, entryName(body.name, 'EINVAL'), (body.flags & AT_REMOVEDIR) !== 0)
  return {name: 'Runlinkat', body: {}}
}

/** Removes the file fid names and clunks the fid, whether or not the removal succeeds. */
export const remove: Handler<'Tremove'> = async (session, body) => {
  const fid = session.fids.take(body.fid)
  try {
    const attr = await session.fs.getattr(fid.ino)
    const {dir, name} = await placeOf(session, fid)
    requireEntryChange(dir, fid.caller, 'remove')
    await removeEntry(session, fid, dir, name, attr.type === 'dir')
  } finally {
    await session.release(fid, {upload: false})
  }
  return {name: 'Rremove', body: {}}
}

async function renameEntry(session: P9Session, fid: Fid, from: {dir: Attr; name: string}, to: {dir: Attr; name: string}): Promise<void> {
  await checkRename(session.fs, fid.caller, from.dir, from.name, to.dir, to.name)
  await session.fs.rename(from.dir.ino, from.name, to.dir.ino, to.name)
}

export const renameat: Handler<'Trenameat'> = async (session, body) => {
  const from = await targetDirectory(session, body.olddirfid)
  const to = await targetDirectory(session, body.newdirfid)
  await renameEntry(session, from.fid, {dir: from.dir, name: entryName(body.oldname, 'EINVAL')}, {dir: to.dir, name: entryName(body.newname, 'EINVAL')})
  return {name: 'Rrenameat', body: {}}
}

export const rename: Handler<'Trename'> = async (session, body) => {
  const fid = session.fids.get(body.fid)
  const from = await placeOf(session, fid)
  requireEntryChange(from.dir, fid.caller, 'rename')
  const to = await targetDirectory(session, body.dfid)
  await renameEntry(session, fid, from, {dir: to.dir, name: entryName(body.name, 'EINVAL')})
  return {name: 'Rrename', body: {}}
}

/** Hard links do not exist in the on-bucket format (one object per file). */
export const link: Handler<'Tlink'> = async () => {
  throw new P9Error('EOPNOTSUPP', 'hard links are not supported')
}
