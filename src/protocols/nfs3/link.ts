import {readDirOpArgs, readFileHandle, type DirOpArgs3} from './arguments.js'
import type {Encoder} from './call.js'
import {NFS3ERR_NOTSUPP} from './constants.js'
import {targetDirectory} from './new-object.js'
import type {Nfs3Procedure} from './procedure.js'
import {Nfs3Error} from './status.js'

/*
 * struct LINK3args { nfs_fh3 file; diropargs3 link; };
 * struct LINK3resok { post_op_attr file_attributes; wcc_data linkdir_wcc; };
 * struct LINK3resfail { post_op_attr file_attributes; wcc_data linkdir_wcc; };
 * union LINK3res switch (nfsstat3 status) {
 *   case NFS3_OK: LINK3resok resok;
 *   default: LINK3resfail resfail;
 * };
 */

export interface Link3Args {
  file: Buffer
  link: DirOpArgs3
}

/** One object per file in the bucket leaves no room for a second name: hard links are not supported (FSINFO omits FSF3_LINK). */
export const link: Nfs3Procedure<Link3Args> = {
  name: 'LINK',
  mutates: true,
  decode: (reader) => ({file: readFileHandle(reader), link: readDirOpArgs(reader)}),
  async execute(args, call) {
    await call.resolve(args.file)
    await targetDirectory(call, args.link.dir)
    throw new Nfs3Error(NFS3ERR_NOTSUPP, 'hard links are not supported')
  },
  async failure(args, call): Promise<Encoder> {
    const fileAttributes = await call.failureAttributes(args.file)
    const dirWcc = await call.failureWcc(args.link.dir)
    return (writer) => {
      fileAttributes(writer)
      dirWcc(writer)
    }
  },
}
