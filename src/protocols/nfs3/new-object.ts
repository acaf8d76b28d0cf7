import {newEntryOwnership, permittedChanges, requireEntryChange} from '../../core/fs/permissions.js'
import type {Attr, FileType, SetAttr} from '../../core/fs/types.js'
import {writePostOpAttr, writeWccData} from './attributes.js'
import type {Encoder, Nfs3Call} from './call.js'
import {NFS3ERR_NOTDIR} from './constants.js'
import {Nfs3Error} from './status.js'

/*
 * What CREATE, MKDIR, SYMLINK and MKNOD share:
 * struct XXX3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
 * struct XXX3resfail { wcc_data dir_wcc; };
 */

/**
 * The directory whose entries a call adds, removes or renames, resolved (its attributes are the wcc
 * "before"); the caller needs write and search permission on it.
 */
export async function targetDirectory(call: Nfs3Call, handle: Buffer): Promise<Attr> {
  const dir = await call.resolve(handle)
  if (dir.type !== 'dir') throw new Nfs3Error(NFS3ERR_NOTDIR, 'parent is not a directory')
  requireEntryChange(dir, call.caller, 'change entries')
  return dir
}

/**
 * Mode, owner and group of a new object: the caller's ids (the sattr3 ids count only from root),
 * the group of a setgid directory.
 */
export function newOwnership(call: Nfs3Call, dir: Attr, type: FileType, mode: number, changes: SetAttr): {mode: number; uid: number; gid: number} {
  return newEntryOwnership(dir, call.caller, type, {mode, uid: changes.uid, gid: changes.gid})
}

/** The sattr3 parts a create call cannot take (size, times), applied right after it as the caller may. */
export async function applyRest(call: Nfs3Call, object: Attr, changes: SetAttr): Promise<Attr> {
  const rest: SetAttr = {}
  if (changes.size !== undefined) rest.size = changes.size
  if (changes.atime !== undefined) rest.atime = changes.atime
  if (changes.mtime !== undefined) rest.mtime = changes.mtime
  return Object.keys(rest).length === 0 ? object : call.fs.setattr(object.ino, permittedChanges(object, call.caller, rest, 'setattr'))
}

export async function newObjectResult(call: Nfs3Call, dirHandle: Buffer, dirBefore: Attr, object: Attr): Promise<Encoder> {
  const dirAfter = await call.currentAttributes(dirHandle)
  return (writer) => {
    writer.optional(call.handleOf(object), (handle) => writer.opaque(handle))
    writePostOpAttr(writer, object, call.fsid)
    writeWccData(writer, dirBefore, dirAfter, call.fsid)
  }
}
