import type {SetAttr} from '../../core/fs/types.js'
import {readDirOpArgs, type DirOpArgs3} from './arguments.js'
import {readSattr3} from './attributes.js'
import {NFS3ERR_EXIST} from './constants.js'
import {entryName} from './names.js'
import {applyRest, newObjectResult, newOwnership, targetDirectory} from './new-object.js'
import type {Nfs3Procedure} from './procedure.js'

/*
 * struct MKDIR3args { diropargs3 where; sattr3 attributes; };
 * struct MKDIR3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
 * struct MKDIR3resfail { wcc_data dir_wcc; };
 * union MKDIR3res switch (nfsstat3 status) {
 *   case NFS3_OK: MKDIR3resok resok;
 *   default: MKDIR3resfail resfail;
 * };
 */

export type Mkdir3Args = DirOpArgs3 & {attributes: SetAttr}

const DEFAULT_DIR_MODE = 0o755

export const mkdir: Nfs3Procedure<Mkdir3Args> = {
  name: 'MKDIR',
  mutates: true,
  decode: (reader) => ({...readDirOpArgs(reader), attributes: readSattr3(reader)}),
  async execute(args, call) {
    const dir = await targetDirectory(call, args.dir)
    const {attributes} = args
    const created = await call.fs.mkdir(dir.ino, entryName(args.name, NFS3ERR_EXIST), newOwnership(call, dir, 'dir', attributes.mode ?? DEFAULT_DIR_MODE, attributes))
    return newObjectResult(call, args.dir, dir, await applyRest(call, created, attributes))
  },
  failure: (args, call) => call.failureWcc(args.dir),
}
