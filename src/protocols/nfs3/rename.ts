import {checkRename} from '../../core/fs/entry-checks.js'
import {readDirOpArgs, type DirOpArgs3} from './arguments.js'
import {writeWccData} from './attributes.js'
import type {Encoder} from './call.js'
import {NFS3ERR_INVAL} from './constants.js'
import {entryName} from './names.js'
import {targetDirectory} from './new-object.js'
import type {Nfs3Procedure} from './procedure.js'

/*
 * struct RENAME3args { diropargs3 from; diropargs3 to; };
 * struct RENAME3resok { wcc_data fromdir_wcc; wcc_data todir_wcc; };
 * struct RENAME3resfail { wcc_data fromdir_wcc; wcc_data todir_wcc; };
 * union RENAME3res switch (nfsstat3 status) {
 *   case NFS3_OK: RENAME3resok resok;
 *   default: RENAME3resfail resfail;
 * };
 */

export interface Rename3Args {
  from: DirOpArgs3
  to: DirOpArgs3
}

export const rename: Nfs3Procedure<Rename3Args> = {
  name: 'RENAME',
  mutates: true,
  decode: (reader) => ({from: readDirOpArgs(reader), to: readDirOpArgs(reader)}),
  async execute(args, call) {
    const fromDir = await targetDirectory(call, args.from.dir)
    const toDir = await targetDirectory(call, args.to.dir)
    const fromName = entryName(args.from.name, NFS3ERR_INVAL)
    const toName = entryName(args.to.name, NFS3ERR_INVAL)
    await checkRename(call.fs, call.caller, fromDir, fromName, toDir, toName)
    await call.fs.rename(fromDir.ino, fromName, toDir.ino, toName)
    const fromAfter = await call.currentAttributes(args.from.dir)
    const toAfter = await call.currentAttributes(args.to.dir)
    return (writer) => {
      writeWccData(writer, fromDir, fromAfter, call.fsid)
      writeWccData(writer, toDir, toAfter, call.fsid)
    }
  },
  async failure(args, call): Promise<Encoder> {
    const fromWcc = await call.failureWcc(args.from.dir)
    const toWcc = await call.failureWcc(args.to.dir)
    return (writer) => {
      fromWcc(writer)
      toWcc(writer)
    }
  },
}
