import {requireAccess} from '../../core/fs/permissions.js'
import {ACCESS_READ} from '../../core/fs/types.js'
import {readFileHandle} from './arguments.js'
import {writePostOpAttr} from './attributes.js'
import {NFS3_COOKIEVERFSIZE, NFS3ERR_NOTDIR} from './constants.js'
import {listDirectory, xdrStringSize} from './directory-listing.js'
import type {Nfs3Procedure} from './procedure.js'
import {Nfs3Error} from './status.js'

/*
 * struct READDIR3args { nfs_fh3 dir; cookie3 cookie; cookieverf3 cookieverf; count3 count; };
 * struct entry3 { fileid3 fileid; filename3 name; cookie3 cookie; entry3 *nextentry; };
 * struct dirlist3 { entry3 *entries; bool eof; };
 * struct READDIR3resok { post_op_attr dir_attributes; cookieverf3 cookieverf; dirlist3 reply; };
 * struct READDIR3resfail { post_op_attr dir_attributes; };
 * union READDIR3res switch (nfsstat3 status) {
 *   case NFS3_OK: READDIR3resok resok;
 *   default: READDIR3resfail resfail;
 * };
 */

export interface Readdir3Args {
  dir: Buffer
  cookie: bigint
  cookieverf: Buffer
  count: number
}

/** status, post_op_attr with fattr3, cookieverf3, the final "no next entry", eof. */
export const READDIR_FIXED_SIZE = 4 + 4 + 84 + NFS3_COOKIEVERFSIZE + 4 + 4

/** An entry3 on the wire: "value follows", fileid, name, cookie. */
export function entry3Size(name: string): number {
  return 4 + 8 + xdrStringSize(name) + 8
}

export const readdir: Nfs3Procedure<Readdir3Args> = {
  name: 'READDIR',
  mutates: false,
  decode: (reader) => ({
    dir: readFileHandle(reader),
    cookie: reader.uint64(),
    cookieverf: reader.fixedOpaque(NFS3_COOKIEVERFSIZE),
    count: reader.uint32(),
  }),
  async execute(args, call) {
    const dir = await call.resolve(args.dir)
    if (dir.type !== 'dir') throw new Nfs3Error(NFS3ERR_NOTDIR, 'READDIR of a non-directory')
    requireAccess(dir, call.caller, ACCESS_READ, 'readdir')
    // The whole READDIR3res must fit in `count` bytes, XDR overhead included (RFC 1813 §3.3.16).
    let left = args.count - READDIR_FIXED_SIZE
    const listing = await listDirectory(call, dir, {
      cookie: args.cookie,
      cookieverf: args.cookieverf,
      attributes: false,
      pageSize: Math.min(1000, Math.max(1, Math.ceil(left / 32))),
      fits(entry) {
        const size = entry3Size(entry.name)
        if (size > left) return false
        left -= size
        return true
      },
    })
    return (writer) => {
      writePostOpAttr(writer, dir, call.fsid)
      writer.fixedOpaque(listing.verifier)
      for (const entry of listing.entries) {
        writer.bool(true).uint64(entry.fileid).string(entry.name).uint64(entry.cookie)
      }
      writer.bool(false).bool(listing.eof)
    }
  },
  failure: (args, call) => call.failureAttributes(args.dir),
}
