import {P9Error} from '../errors.js'
import type {Handler} from '../handler.js'

/*
 * size[4] Txattrwalk tag[2] fid[4] newfid[4] name[s]      size[4] Rxattrwalk tag[2] size[8]
 * size[4] Txattrcreate tag[2] fid[4] name[s] attr_size[8] flags[4]
 *
 * The core keeps no extended attributes yet: both answer EOPNOTSUPP, which the Linux client
 * reports to getxattr/listxattr/setxattr callers as "not supported" (cp -a and rsync go on).
 */

export const xattrwalk: Handler<'Txattrwalk'> = async (session, body) => {
  session.fids.get(body.fid)
  throw new P9Error('EOPNOTSUPP', 'extended attributes are not supported')
}

export const xattrcreate: Handler<'Txattrcreate'> = async (session, body) => {
  session.fids.get(body.fid)
  throw new P9Error('EOPNOTSUPP', 'extended attributes are not supported')
}
