import {requireAccess} from '../../../core/fs/permissions.js'
import {ACCESS_EXECUTE, type Caller} from '../../../core/fs/types.js'
import {NOFID} from '../constants.js'
import {P9Error} from '../errors.js'
import type {Handler} from '../handler.js'
import {qidOf} from '../session.js'

/*
 * size[4] Tattach tag[2] fid[4] afid[4] uname[s] aname[s] n_uname[4]
 * size[4] Rattach tag[2] qid[13]
 * size[4] Tauth tag[2] afid[4] uname[s] aname[s] n_uname[4]
 */

/** The uid a client without n_uname means by its uname: root is 0, anyone else nobody. */
const NOBODY = 65534

/**
 * The attach user: n_uname, like NFS's AUTH_SYS uid, trusted as sent. 9P carries no groups; a
 * create call brings the creator's gid (see `creator`), every other check knows only the uid.
 */
function callerOf(uname: string, nUname: number): Caller {
  const uid = nUname !== NOFID ? nUname : uname === 'root' ? 0 : NOBODY
  return {uid, gid: NOFID, gids: []}
}

export const attach: Handler<'Tattach'> = async (session, body) => {
  session.fids.checkNew(body.fid)
  const caller = callerOf(body.uname, body.nUname)
  // aname selects a directory of the store; '' and '/' are its root.
  const root = await session.fs.resolve(`/${body.aname.replace(/^\/+/, '')}`, {follow: true})
  if (root.type !== 'dir') throw new P9Error('ENOTDIR', `aname ${body.aname} is not a directory`)
  requireAccess(root, caller, ACCESS_EXECUTE, 'attach')
  session.fids.add(body.fid, {ino: root.ino, caller, root: root.ino, written: false, lockOwners: []})
  return {name: 'Rattach', body: {qid: qidOf(root)}}
}

/** No authentication: Rlerror ENOENT is how diod says so, and clients then attach with afid NOFID. */
export const auth: Handler<'Tauth'> = async () => {
  throw new P9Error('ENOENT', 'no authentication is required')
}
