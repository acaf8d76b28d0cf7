import {checkRemoval} from '../../core/fs/entry-checks.js'
import {readDirOpArgs, type DirOpArgs3} from './arguments.js'
import {writeWccData} from './attributes.js'
import {NFS3ERR_ACCES} from './constants.js'
import {entryName} from './names.js'
import {targetDirectory} from './new-object.js'
import type {Nfs3Procedure} from './procedure.js'

/*
 * struct REMOVE3args { diropargs3 object; };
 * struct REMOVE3resok { wcc_data dir_wcc; };
 * struct REMOVE3resfail { wcc_data dir_wcc; };
 * union REMOVE3res switch (nfsstat3 status) {
 *   case NFS3_OK: REMOVE3resok resok;
 *   default: REMOVE3resfail resfail;
 * };
 */

export const remove: Nfs3Procedure<DirOpArgs3> = {
  name: 'REMOVE',
  mutates: true,
  decode: readDirOpArgs,
  async execute(args, call) {
    const dir = await targetDirectory(call, args.dir)
    const name = entryName(args.name, NFS3ERR_ACCES)
    await checkRemoval(call.fs, call.caller, dir, name)
    await call.fs.unlink(dir.ino, name)
    const after = await call.currentAttributes(args.dir)
    return (writer) => writeWccData(writer, dir, after, call.fsid)
  },
  failure: (args, call) => call.failureWcc(args.dir),
}
