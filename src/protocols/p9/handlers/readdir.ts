import {parentDirectory} from '../../../core/fs/parent.js'
import {requireAccess} from '../../../core/fs/permissions.js'
import {ACCESS_READ, type FileType} from '../../../core/fs/types.js'
import {DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, HEADER_SIZE} from '../constants.js'
import type {Handler} from '../handler.js'
import {qidOf, qidTypeOf} from '../session.js'
import {P9Writer, QID_SIZE} from '../wire.js'

/*
 * size[4] Treaddir tag[2] fid[4] offset[8] count[4]
 * size[4] Rreaddir tag[2] count[4] data[count]
 *   where data holds entries qid[13] offset[8] type[1] name[s]
 *
 * An entry's offset is where the next Treaddir continues after it. Offsets 1 and 2 follow `.` and
 * `..` (the core lists neither); a core cookie c travels as c + 2, so offsets stay valid across
 * calls and changes of the directory, as the core's cookies do.
 */

const DOT_OFFSET = 1n
const DOTDOT_OFFSET = 2n
/** qid, offset, type and the name's length. */
const ENTRY_FIXED_SIZE = QID_SIZE + 8 + 1 + 2
/** Rreaddir's header and count. */
const REPLY_FIXED_SIZE = HEADER_SIZE + 4

const direntTypes: Record<FileType, number> = {
  file: DT_REG, dir: DT_DIR, symlink: DT_LNK, fifo: DT_FIFO, socket: DT_SOCK, chardev: DT_CHR, blockdev: DT_BLK,
}

export const readdir: Handler<'Treaddir'> = async (session, body) => {
  const {fid, attr: dir} = await session.directory(body.fid)
  requireAccess(dir, fid.caller, ACCESS_READ, 'readdir')
  const room = Math.min(body.count, session.msize - REPLY_FIXED_SIZE)
  const out = new P9Writer(Math.min(room, 64 * 1024))
  const add = (qid: {type: number; version: number; path: bigint}, offset: bigint, type: number, name: string): boolean => {
    if (out.size + ENTRY_FIXED_SIZE + Buffer.byteLength(name) > room) return false
    out.qid(qid).u64(offset).u8(type).str(name)
    return true
  }
  let offset = body.offset
  if (offset < DOT_OFFSET) {
    if (!add(qidOf(dir), DOT_OFFSET, DT_DIR, '.')) return {name: 'Rreaddir', body: {data: out.toBuffer()}}
    offset = DOT_OFFSET
  }
  if (offset < DOTDOT_OFFSET) {
    const parent = dir.ino === fid.root ? dir : await parentDirectory(session.fs, dir)
    if (!add(qidOf(parent), DOTDOT_OFFSET, DT_DIR, '..')) return {name: 'Rreaddir', body: {data: out.toBuffer()}}
    offset = DOTDOT_OFFSET
  }
  let cookie = offset - DOTDOT_OFFSET
  for (;;) {
    const pageSize = Math.max(1, Math.min(1000, Math.ceil((room - out.size) / (ENTRY_FIXED_SIZE + 8))))
    const page = await session.fs.readdir(dir.ino, cookie, pageSize)
    for (const entry of page.entries) {
      const qid = {type: qidTypeOf(entry.type), version: 0, path: entry.ino}
      if (!add(qid, entry.cookie + DOTDOT_OFFSET, direntTypes[entry.type], entry.name)) return {name: 'Rreaddir', body: {data: out.toBuffer()}}
      cookie = entry.cookie
    }
    if (page.eof || page.entries.length === 0) return {name: 'Rreaddir', body: {data: out.toBuffer()}}
  }
}
