import {readFileHandle} from './arguments.js'
import {writePostOpAttr} from './attributes.js'
import type {Nfs3Procedure} from './procedure.js'

/*
 * struct FSSTAT3args { nfs_fh3 fsroot; };
 * struct FSSTAT3resok {
 *   post_op_attr obj_attributes;
 *   size3 tbytes; size3 fbytes; size3 abytes; size3 tfiles; size3 ffiles; size3 afiles;
 *   uint32 invarsec;
 * };
 * struct FSSTAT3resfail { post_op_attr obj_attributes; };
 * union FSSTAT3res switch (nfsstat3 status) {
 *   case NFS3_OK: FSSTAT3resok resok;
 *   default: FSSTAT3resfail resfail;
 * };
 */

export interface Fsstat3Args {
  fsroot: Buffer
}

export const fsstat: Nfs3Procedure<Fsstat3Args> = {
  name: 'FSSTAT',
  mutates: false,
  decode: (reader) => ({fsroot: readFileHandle(reader)}),
  async execute(args, call) {
    const attr = await call.resolve(args.fsroot)
    const stat = await call.fs.statfs()
    return (writer) => {
      writePostOpAttr(writer, attr, call.fsid)
      writer.uint64(stat.totalBytes).uint64(stat.freeBytes).uint64(stat.availBytes)
        .uint64(stat.totalFiles).uint64(stat.freeFiles).uint64(stat.freeFiles)
        .uint32(0) // invarsec: the numbers may change at any time
    }
  },
  failure: (args, call) => call.failureAttributes(args.fsroot),
}
