import {readFileHandle} from './arguments.js'
import {writeNfstime3, writePostOpAttr} from './attributes.js'
import {FSF3_CANSETTIME, FSF3_HOMOGENEOUS, FSF3_SYMLINK} from './constants.js'
import type {Nfs3Procedure} from './procedure.js'
import {MAX_FILE_SIZE, MAX_TRANSFER} from './transfer-size.js'

/*
 * struct FSINFO3args { nfs_fh3 fsroot; };
 * struct FSINFO3resok {
 *   post_op_attr obj_attributes;
 *   uint32 rtmax; uint32 rtpref; uint32 rtmult;
 *   uint32 wtmax; uint32 wtpref; uint32 wtmult;
 *   uint32 dtpref;
 *   size3 maxfilesize;
 *   nfstime3 time_delta;
 *   uint32 properties;
 * };
 * struct FSINFO3resfail { post_op_attr obj_attributes; };
 * union FSINFO3res switch (nfsstat3 status) {
 *   case NFS3_OK: FSINFO3resok resok;
 *   default: FSINFO3resfail resfail;
 * };
 */

export interface Fsinfo3Args {
  fsroot: Buffer
}

const BLOCK = 4096
/** Preferred READDIR reply size. */
const DTPREF = 64 * 1024
/** mtime travels as decimal seconds in object metadata: millisecond resolution is what survives. */
const TIME_DELTA = {sec: 0, nsec: 1_000_000}

export const fsinfo: Nfs3Procedure<Fsinfo3Args> = {
  name: 'FSINFO',
  mutates: false,
  decode: (reader) => ({fsroot: readFileHandle(reader)}),
  async execute(args, call) {
    const attr = await call.resolve(args.fsroot)
    return (writer) => {
      writePostOpAttr(writer, attr, call.fsid)
      writer.uint32(MAX_TRANSFER).uint32(MAX_TRANSFER).uint32(BLOCK)
        .uint32(MAX_TRANSFER).uint32(MAX_TRANSFER).uint32(BLOCK)
        .uint32(DTPREF)
        .uint64(MAX_FILE_SIZE)
      writeNfstime3(writer, TIME_DELTA)
      writer.uint32(FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME)
    }
  },
  failure: (args, call) => call.failureAttributes(args.fsroot),
}
