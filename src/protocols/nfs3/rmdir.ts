import {checkRemoval} from '../../core/fs/entry-checks.js'
import {readDirOpArgs, type DirOpArgs3} from './arguments.js'
import {writeWccData} from './attributes.js'
import {NFS3ERR_INVAL} from './constants.js'
import {entryName} from './names.js'
import {targetDirectory} from './new-object.js'
import type {Nfs3Procedure} from './procedure.js'

/*
 * struct RMDIR3args { diropargs3 object; };
 * struct RMDIR3resok { wcc_data dir_wcc; };
 * struct RMDIR3resfail { wcc_data dir_wcc; };
 * union RMDIR3res switch (nfsstat3 status) {
 *   case NFS3_OK: RMDIR3resok resok;
 *   default: RMDIR3resfail resfail;
 * };
 */

export const rmdir: Nfs3Procedure<DirOpArgs3> = {
  name: 'RMDIR',
  mutates: true,
  decode: readDirOpArgs,
  async execute(args, call) {
    const dir = await targetDirectory(call, args.dir)
    const name = entryName(args.name, NFS3ERR_INVAL)
    await checkRemoval(call.fs, call.caller, dir, name)
    await call.fs.rmdir(dir.ino, name)
    const after = await call.currentAttributes(args.dir)
    return (writer) => writeWccData(writer, dir, after, call.fsid)
  },
  failure: (args, call) => call.failureWcc(args.dir),
}
