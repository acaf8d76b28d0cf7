import {parentDirectory} from '../../../core/fs/parent.js'
import {requireAccess} from '../../../core/fs/permissions.js'
import {ACCESS_EXECUTE, type Attr} from '../../../core/fs/types.js'
import {MAXWELEM} from '../constants.js'
import {P9Error} from '../errors.js'
import type {Fid} from '../fid-table.js'
import type {Handler} from '../handler.js'
import {validName} from '../names.js'
import {qidOf, type P9Session} from '../session.js'
import type {Qid} from '../wire.js'

/*
 * size[4] Twalk tag[2] fid[4] newfid[4] nwname[2] nwname*(wname[s])
 * size[4] Rwalk tag[2] nwqid[2] nwqid*(wqid[13])
 *
 * nwname 0 clones fid into newfid. When the first name fails the walk fails; when a later one
 * does, Rwalk carries the qids of the names that succeeded and newfid is not made.
 */

async function step(session: P9Session, fid: Fid, dir: Attr, name: string): Promise<Attr> {
  if (dir.type !== 'dir') throw new P9Error('ENOTDIR', `${session.fs.pathOf(dir.ino)} is not a directory`)
  requireAccess(dir, fid.caller, ACCESS_EXECUTE, 'walk')
  if (name === '.') return dir
  if (name === '..') return dir.ino === fid.root ? dir : parentDirectory(session.fs, dir)
  return session.fs.lookup(dir.ino, validName(name))
}

export const walk: Handler<'Twalk'> = async (session, body) => {
  const from = session.fids.get(body.fid)
  // Clients (diod's libnpclient) walk from open directories to new fids; an open fid cannot become another file.
  if (from.openFlags !== undefined && body.newfid === body.fid) throw new P9Error('EBADF', `fid ${body.fid} is open: it cannot walk in place`)
  if (body.wnames.length > MAXWELEM) throw new P9Error('EINVAL', `Twalk of ${body.wnames.length} names`)
  if (body.newfid !== body.fid) session.fids.checkNew(body.newfid)
  let current = await session.fs.getattr(from.ino)
  const wqids: Qid[] = []
  for (const name of body.wnames) {
    try {
      current = await step(session, from, current, name)
    } catch (error) {
      if (wqids.length === 0) throw error
      return {name: 'Rwalk', body: {wqids}}
    }
    wqids.push(qidOf(current))
  }
  if (body.newfid === body.fid) session.fids.replace(body.fid, {...from, ino: current.ino})
  else session.fids.add(body.newfid, session.derive(from, current.ino))
  return {name: 'Rwalk', body: {wqids}}
}
