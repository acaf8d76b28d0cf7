import {readFileHandle} from './arguments.js'
import {writePostOpAttr} from './attributes.js'
import type {Nfs3Procedure} from './procedure.js'

/*
 * struct PATHCONF3args { nfs_fh3 object; };
 * struct PATHCONF3resok {
 *   post_op_attr obj_attributes;
 *   uint32 linkmax; uint32 name_max;
 *   bool no_trunc; bool chown_restricted; bool case_insensitive; bool case_preserving;
 * };
 * struct PATHCONF3resfail { post_op_attr obj_attributes; };
 * union PATHCONF3res switch (nfsstat3 status) {
 *   case NFS3_OK: PATHCONF3resok resok;
 *   default: PATHCONF3resfail resfail;
 * };
 */

export interface Pathconf3Args {
  object: Buffer
}

/** No hard links: every file has exactly one name. */
const LINK_MAX = 1

export const pathconf: Nfs3Procedure<Pathconf3Args> = {
  name: 'PATHCONF',
  mutates: false,
  decode: (reader) => ({object: readFileHandle(reader)}),
  async execute(args, call) {
    const attr = await call.resolve(args.object)
    const {nameMax} = await call.fs.statfs()
    return (writer) => {
      writePostOpAttr(writer, attr, call.fsid)
      writer.uint32(LINK_MAX).uint32(nameMax)
        .bool(true) // no_trunc: a long name is refused, never shortened
        .bool(true) // chown_restricted
        .bool(false) // case_insensitive
        .bool(true) // case_preserving
    }
  },
  failure: (args, call) => call.failureAttributes(args.object),
}
