import {readFileHandle} from './arguments.js'
import {writePostOpAttr} from './attributes.js'
import {NFS3ERR_INVAL} from './constants.js'
import type {Nfs3Procedure} from './procedure.js'
import {Nfs3Error} from './status.js'

/*
 * struct READLINK3args { nfs_fh3 symlink; };
 * struct READLINK3resok { post_op_attr symlink_attributes; nfspath3 data; };
 * struct READLINK3resfail { post_op_attr symlink_attributes; };
 * union READLINK3res switch (nfsstat3 status) {
 *   case NFS3_OK: READLINK3resok resok;
 *   default: READLINK3resfail resfail;
 * };
 */

export interface Readlink3Args {
  symlink: Buffer
}

export const readlink: Nfs3Procedure<Readlink3Args> = {
  name: 'READLINK',
  mutates: false,
  decode: (reader) => ({symlink: readFileHandle(reader)}),
  async execute(args, call) {
    const attr = await call.resolve(args.symlink)
    if (attr.type !== 'symlink') throw new Nfs3Error(NFS3ERR_INVAL, 'READLINK of a non-symlink')
    const target = await call.fs.readlink(attr.ino)
    return (writer) => {
      writePostOpAttr(writer, attr, call.fsid)
      writer.string(target)
    }
  },
  failure: (args, call) => call.failureAttributes(args.symlink),
}
