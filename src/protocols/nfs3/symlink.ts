import type {SetAttr} from '../../core/fs/types.js'
import {readDirOpArgs, readPath, type DirOpArgs3} from './arguments.js'
import {readSattr3} from './attributes.js'
import {NFS3ERR_EXIST} from './constants.js'
import {entryName} from './names.js'
import {applyRest, newObjectResult, newOwnership, targetDirectory} from './new-object.js'
import type {Nfs3Procedure} from './procedure.js'

/*
 * struct symlinkdata3 { sattr3 symlink_attributes; nfspath3 symlink_data; };
 * struct SYMLINK3args { diropargs3 where; symlinkdata3 symlink; };
 * struct SYMLINK3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
 * struct SYMLINK3resfail { wcc_data dir_wcc; };
 * union SYMLINK3res switch (nfsstat3 status) {
 *   case NFS3_OK: SYMLINK3resok resok;
 *   default: SYMLINK3resfail resfail;
 * };
 */

export type Symlink3Args = DirOpArgs3 & {attributes: SetAttr; target: string}

export const symlink: Nfs3Procedure<Symlink3Args> = {
  name: 'SYMLINK',
  mutates: true,
  decode: (reader) => ({...readDirOpArgs(reader), attributes: readSattr3(reader), target: readPath(reader)}),
  async execute(args, call) {
    const dir = await targetDirectory(call, args.dir)
    const {uid, gid} = newOwnership(call, dir, 'symlink', 0o777, args.attributes)
    const created = await call.fs.symlink(dir.ino, entryName(args.name, NFS3ERR_EXIST), args.target, {uid, gid})
    // A symlink's permission bits mean nothing on Linux; only its times are worth applying.
    return newObjectResult(call, args.dir, dir, await applyRest(call, created, {atime: args.attributes.atime, mtime: args.attributes.mtime}))
  },
  failure: (args, call) => call.failureWcc(args.dir),
}
