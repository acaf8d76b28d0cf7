import {P9_DOTL_APPEND} from '../constants.js'
import {P9Error} from '../errors.js'
import type {Handler} from '../handler.js'
import {opensForReading, opensForWriting} from './open.js'

/*
 * size[4] Tread tag[2] fid[4] offset[8] count[4]
 * size[4] Rread tag[2] count[4] data[count]
 * size[4] Twrite tag[2] fid[4] offset[8] count[4] data[count]
 * size[4] Rwrite tag[2] count[4]
 * size[4] Tfsync tag[2] fid[4] datasync[4]
 * size[4] Tclunk tag[2] fid[4]
 */

function fileOffset(offset: bigint): number {
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new P9Error('EFBIG', `offset ${offset}`)
  return Number(offset)
}

export const read: Handler<'Tread'> = async (session, body) => {
  const fid = session.opened(body.fid)
  if (!opensForReading(fid.openFlags!)) throw new P9Error('EBADF', 'fid is not open for reading')
  const attr = await session.fs.getattr(fid.ino)
  if (attr.type === 'dir') throw new P9Error('EISDIR', 'Tread of a directory (Treaddir lists it)')
  const {data} = await session.fs.read(fid.ino, fileOffset(body.offset), Math.min(body.count, session.maxData))
  return {name: 'Rread', body: {data}}
}

export const write: Handler<'Twrite'> = async (session, body) => {
  const fid = session.opened(body.fid)
  if (!opensForWriting(fid.openFlags!)) throw new P9Error('EBADF', 'fid is not open for writing')
  // O_APPEND writes land at the end whatever offset comes with them, as pwrite(2) on Linux does.
  const offset = (fid.openFlags! & P9_DOTL_APPEND) !== 0 ? (await session.fs.getattr(fid.ino)).size : fileOffset(body.offset)
  fid.written = true
  await session.fs.write(fid.ino, offset, body.data)
  return {name: 'Rwrite', body: {count: body.data.length}}
}

/** Replies once what is staged for the file is in the bucket (design.md). */
export const fsync: Handler<'Tfsync'> = async (session, body) => {
  const {attr} = await session.attributes(body.fid)
  if (attr.type === 'file') await session.fs.fsync(attr.ino)
  return {name: 'Rfsync', body: {}}
}

/** The fid is gone whatever happens; a written one replies once its data is in the bucket. */
export const clunk: Handler<'Tclunk'> = async (session, body) => {
  await session.release(session.fids.take(body.fid))
  return {name: 'Rclunk', body: {}}
}
