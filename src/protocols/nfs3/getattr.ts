import {readFileHandle} from './arguments.js'
import {writeFattr3} from './attributes.js'
import {voidFailure, type Nfs3Procedure} from './procedure.js'

/*
 * struct GETATTR3args { nfs_fh3 object; };
 * struct GETATTR3resok { fattr3 obj_attributes; };
 * union GETATTR3res switch (nfsstat3 status) {
 *   case NFS3_OK: GETATTR3resok resok;
 *   default: void;
 * };
 */

export interface Getattr3Args {
  object: Buffer
}

export const getattr: Nfs3Procedure<Getattr3Args> = {
  name: 'GETATTR',
  mutates: false,
  decode: (reader) => ({object: readFileHandle(reader)}),
  async execute(args, call) {
    const attr = await call.resolve(args.object)
    return (writer) => writeFattr3(writer, attr, call.fsid)
  },
  failure: voidFailure,
}
