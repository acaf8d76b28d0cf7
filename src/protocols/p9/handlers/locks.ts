import {
  P9_LOCK_BLOCKED, P9_LOCK_SUCCESS, P9_LOCK_TYPE_RDLCK, P9_LOCK_TYPE_UNLCK, P9_LOCK_TYPE_WRLCK,
} from '../constants.js'
import {P9Error} from '../errors.js'
import type {Handler} from '../handler.js'
import {LOCK_END, type LockKind, type LockOwner} from '../lock-table.js'

/*
 * size[4] Tlock tag[2] fid[4] type[1] flags[4] start[8] length[8] proc_id[4] client_id[s]
 * size[4] Rlock tag[2] status[1]
 * size[4] Tgetlock tag[2] fid[4] type[1] start[8] length[8] proc_id[4] client_id[s]
 * size[4] Rgetlock tag[2] type[1] start[8] length[8] proc_id[4] client_id[s]
 *
 * A conflicting Tlock answers BLOCKED at once, with or without P9_LOCK_FLAGS_BLOCK: the Linux
 * client turns BLOCKED into EAGAIN for F_SETLK and, for F_SETLKW and flock, waits and asks again.
 */

function kindOf(type: number): LockKind | 'unlock' {
  if (type === P9_LOCK_TYPE_RDLCK) return 'read'
  if (type === P9_LOCK_TYPE_WRLCK) return 'write'
  if (type === P9_LOCK_TYPE_UNLCK) return 'unlock'
  throw new P9Error('EINVAL', `lock type ${type}`)
}

export const lock: Handler<'Tlock'> = async (session, body) => {
  const {fid, attr} = await session.attributes(body.fid)
  const owner: LockOwner = {procId: body.procId, clientId: body.clientId}
  const conflict = session.locks.set(attr.ino, owner, kindOf(body.type), body.start, body.length)
  if (conflict) return {name: 'Rlock', body: {status: P9_LOCK_BLOCKED}}
  if (!fid.lockOwners.some((known) => known.procId === owner.procId && known.clientId === owner.clientId)) fid.lockOwners.push(owner)
  return {name: 'Rlock', body: {status: P9_LOCK_SUCCESS}}
}

/**
 * The first lock that would block the one described, or the request back with type UNLCK. The
 * Linux client always sends type UNLCK (its local F_GETLK check has overwritten the type by then),
 * so UNLCK asks as a write lock would: any other owner's lock over the range is reported.
 */
export const getlock: Handler<'Tgetlock'> = async (session, body) => {
  const {attr} = await session.attributes(body.fid)
  const kind = kindOf(body.type)
  const conflict = session.locks.conflict(attr.ino, {procId: body.procId, clientId: body.clientId}, kind === 'unlock' ? 'write' : kind, body.start, body.length)
  if (conflict === undefined) return {name: 'Rgetlock', body: {...body, type: P9_LOCK_TYPE_UNLCK}}
  return {
    name: 'Rgetlock',
    body: {
      type: conflict.kind === 'read' ? P9_LOCK_TYPE_RDLCK : P9_LOCK_TYPE_WRLCK,
      start: conflict.start,
      length: conflict.end === LOCK_END ? 0n : conflict.end - conflict.start,
      procId: conflict.owner.procId,
      clientId: conflict.owner.clientId,
    },
  }
}
