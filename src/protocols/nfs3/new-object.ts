import type {Attr, Caller, SetAttr} from '../../core/fs/types.js'
import {writePostOpAttr, writeWccData} from './attributes.js'
import type {Encoder, Nfs3Call} from './call.js'
import {NFS3ERR_NOTDIR} from './constants.js'
import {Nfs3Error} from './status.js'

/*
 * What CREATE, MKDIR, SYMLINK and MKNOD share:
 * struct XXX3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
 * struct XXX3resfail { wcc_data dir_wcc; };
 */

/** The directory a new object goes into, resolved (its attributes are the wcc "before"). */
export async function targetDirectory(call: Nfs3Call, handle: Buffer): Promise<Attr> {
  const dir = await call.resolve(handle)
  if (dir.type !== 'dir') throw new Nfs3Error(NFS3ERR_NOTDIR, 'parent is not a directory')
  return dir
}

/** The owner of a new object: what the client set, else the caller (AUTH_SYS uid and primary gid). */
export function ownerOf(changes: SetAttr, caller: Caller): {uid: number; gid: number} {
  return {uid: changes.uid ?? caller.uid, gid: changes.gid ?? caller.gid}
}

/** The sattr3 parts a create call cannot take (size, times), applied right after it. */
export async function applyRest(call: Nfs3Call, object: Attr, changes: SetAttr): Promise<Attr> {
  const rest: SetAttr = {}
  if (changes.size !== undefined) rest.size = changes.size
  if (changes.atime !== undefined) rest.atime = changes.atime
  if (changes.mtime !== undefined) rest.mtime = changes.mtime
  return Object.keys(rest).length === 0 ? object : call.fs.setattr(object.ino, rest)
}

export async function newObjectResult(call: Nfs3Call, dirHandle: Buffer, dirBefore: Attr, object: Attr): Promise<Encoder> {
  const dirAfter = await call.currentAttributes(dirHandle)
  return (writer) => {
    writer.optional(call.handleOf(object), (handle) => writer.opaque(handle))
    writePostOpAttr(writer, object, call.fsid)
    writeWccData(writer, dirBefore, dirAfter, call.fsid)
  }
}
