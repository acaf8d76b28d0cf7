import {ACCESS_EXECUTE, ACCESS_READ, ACCESS_WRITE, type Attr} from '../../core/fs/types.js'
import {readFileHandle} from './arguments.js'
import {writePostOpAttr} from './attributes.js'
import {
  ACCESS3_DELETE, ACCESS3_EXECUTE, ACCESS3_EXTEND, ACCESS3_LOOKUP, ACCESS3_MODIFY, ACCESS3_READ,
} from './constants.js'
import type {Nfs3Procedure} from './procedure.js'

/*
 * const ACCESS3_READ = 0x0001; ACCESS3_LOOKUP = 0x0002; ACCESS3_MODIFY = 0x0004;
 * const ACCESS3_EXTEND = 0x0008; ACCESS3_DELETE = 0x0010; ACCESS3_EXECUTE = 0x0020;
 * struct ACCESS3args { nfs_fh3 object; uint32 access; };
 * struct ACCESS3resok { post_op_attr obj_attributes; uint32 access; };
 * struct ACCESS3resfail { post_op_attr obj_attributes; };
 * union ACCESS3res switch (nfsstat3 status) {
 *   case NFS3_OK: ACCESS3resok resok;
 *   default: ACCESS3resfail resfail;
 * };
 */

export interface Access3Args {
  object: Buffer
  access: number
}

const MUTATING = ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE

/**
 * Which ACCESS3 bits the POSIX permissions granted (`rwx`, as ACCESS_*) allow. In a directory,
 * LOOKUP needs x, and changing entries (MODIFY, EXTEND, DELETE) needs w and x; DELETE and LOOKUP
 * mean nothing for other objects, and EXECUTE nothing for a directory.
 */
export function access3Granted(attr: Attr, granted: number): number {
  const r = (granted & ACCESS_READ) !== 0
  const w = (granted & ACCESS_WRITE) !== 0
  const x = (granted & ACCESS_EXECUTE) !== 0
  let bits = r ? ACCESS3_READ : 0
  if (attr.type === 'dir') {
    if (x) bits |= ACCESS3_LOOKUP
    if (w && x) bits |= ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE
  } else {
    if (w) bits |= ACCESS3_MODIFY | ACCESS3_EXTEND
    if (x) bits |= ACCESS3_EXECUTE
  }
  return bits
}

export const access: Nfs3Procedure<Access3Args> = {
  name: 'ACCESS',
  mutates: false,
  decode: (reader) => ({object: readFileHandle(reader), access: reader.uint32()}),
  async execute(args, call) {
    const attr = await call.resolve(args.object)
    const granted = await call.fs.access(attr.ino, call.caller, ACCESS_READ | ACCESS_WRITE | ACCESS_EXECUTE)
    let allowed = access3Granted(attr, granted) & args.access
    if (call.server.readOnly) allowed &= ~MUTATING
    return (writer) => {
      writePostOpAttr(writer, attr, call.fsid)
      writer.uint32(allowed)
    }
  },
  failure: (args, call) => call.failureAttributes(args.object),
}
