import {parentDirectory} from '../../core/fs/parent.js'
import {requireAccess} from '../../core/fs/permissions.js'
import {ACCESS_EXECUTE} from '../../core/fs/types.js'
import {readDirOpArgs, type DirOpArgs3} from './arguments.js'
import {writePostOpAttr} from './attributes.js'
import {NFS3ERR_NOTDIR} from './constants.js'
import {isDotName, validName} from './names.js'
import type {Nfs3Procedure} from './procedure.js'
import {Nfs3Error} from './status.js'

/*
 * struct LOOKUP3args { diropargs3 what; };
 * struct LOOKUP3resok { nfs_fh3 object; post_op_attr obj_attributes; post_op_attr dir_attributes; };
 * struct LOOKUP3resfail { post_op_attr dir_attributes; };
 * union LOOKUP3res switch (nfsstat3 status) {
 *   case NFS3_OK: LOOKUP3resok resok;
 *   default: LOOKUP3resfail resfail;
 * };
 */

export const lookup: Nfs3Procedure<DirOpArgs3> = {
  name: 'LOOKUP',
  mutates: false,
  decode: readDirOpArgs,
  async execute(args, call) {
    const dir = await call.resolve(args.dir)
    if (dir.type !== 'dir') throw new Nfs3Error(NFS3ERR_NOTDIR, 'LOOKUP in a non-directory')
    requireAccess(dir, call.caller, ACCESS_EXECUTE, 'lookup')
    const object = isDotName(args.name)
      ? (args.name === '.' ? dir : await parentDirectory(call.fs, dir))
      : await call.fs.lookup(dir.ino, validName(args.name))
    return (writer) => {
      writer.opaque(call.handleOf(object))
      writePostOpAttr(writer, object, call.fsid)
      writePostOpAttr(writer, dir, call.fsid)
    }
  },
  failure: (args, call) => call.failureAttributes(args.dir),
}
