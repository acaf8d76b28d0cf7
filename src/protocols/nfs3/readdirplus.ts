import {requireAccess} from '../../core/fs/permissions.js'
import {ACCESS_READ} from '../../core/fs/types.js'
import {readFileHandle} from './arguments.js'
import {writePostOpAttr} from './attributes.js'
import {NFS3_COOKIEVERFSIZE, NFS3ERR_NOTDIR} from './constants.js'
import {listDirectory} from './directory-listing.js'
import {FILE_HANDLE_SIZE} from './file-handle.js'
import type {Nfs3Procedure} from './procedure.js'
import {entry3Size, READDIR_FIXED_SIZE} from './readdir.js'
import {Nfs3Error} from './status.js'

/*
 * struct READDIRPLUS3args { nfs_fh3 dir; cookie3 cookie; cookieverf3 cookieverf; count3 dircount; count3 maxcount; };
 * struct entryplus3 {
 *   fileid3 fileid; filename3 name; cookie3 cookie;
 *   post_op_attr name_attributes; post_op_fh3 name_handle;
 *   entryplus3 *nextentry;
 * };
 * struct dirlistplus3 { entryplus3 *entries; bool eof; };
 * struct READDIRPLUS3resok { post_op_attr dir_attributes; cookieverf3 cookieverf; dirlistplus3 reply; };
 * struct READDIRPLUS3resfail { post_op_attr dir_attributes; };
 * union READDIRPLUS3res switch (nfsstat3 status) {
 *   case NFS3_OK: READDIRPLUS3resok resok;
 *   default: READDIRPLUS3resfail resfail;
 * };
 */

export interface Readdirplus3Args {
  dir: Buffer
  cookie: bigint
  cookieverf: Buffer
  dircount: number
  maxcount: number
}

/** post_op_attr with fattr3 and post_op_fh3 with a handle, or the two "absent" words. */
const WITH_ATTRIBUTES = 4 + 84 + 4 + 4 + FILE_HANDLE_SIZE
const WITHOUT_ATTRIBUTES = 4 + 4
/** An entry with the shortest name and attributes: pages of maxcount / this fill a reply at one read. */
const SMALLEST_ENTRY = entry3Size('x') + WITH_ATTRIBUTES

export const readdirplus: Nfs3Procedure<Readdirplus3Args> = {
  name: 'READDIRPLUS',
  mutates: false,
  decode: (reader) => ({
    dir: readFileHandle(reader),
    cookie: reader.uint64(),
    cookieverf: reader.fixedOpaque(NFS3_COOKIEVERFSIZE),
    dircount: reader.uint32(),
    maxcount: reader.uint32(),
  }),
  async execute(args, call) {
    const dir = await call.resolve(args.dir)
    if (dir.type !== 'dir') throw new Nfs3Error(NFS3ERR_NOTDIR, 'READDIRPLUS of a non-directory')
    requireAccess(dir, call.caller, ACCESS_READ, 'readdir')
    // maxcount bounds the whole reply; dircount the entries without their attributes and handles
    // (RFC 1813 §3.3.17). The first entry is always allowed against dircount, never against maxcount.
    let maxLeft = args.maxcount - READDIR_FIXED_SIZE
    let dirLeft = args.dircount
    const listing = await listDirectory(call, dir, {
      cookie: args.cookie,
      cookieverf: args.cookieverf,
      attributes: true,
      pageSize: Math.min(1000, Math.max(1, Math.ceil(Math.min(maxLeft / SMALLEST_ENTRY, dirLeft / entry3Size('x'))))),
      fits(entry, first) {
        const info = entry3Size(entry.name)
        const size = info + (entry.attr ? WITH_ATTRIBUTES : WITHOUT_ATTRIBUTES)
        if (size > maxLeft || (!first && info > dirLeft)) return false
        maxLeft -= size
        dirLeft -= info
        return true
      },
    })
    return (writer) => {
      writePostOpAttr(writer, dir, call.fsid)
      writer.fixedOpaque(listing.verifier)
      const {handles} = call.server
      for (const entry of listing.entries) {
        writer.bool(true).uint64(entry.fileid).string(entry.name).uint64(entry.cookie)
        writePostOpAttr(writer, entry.attr, call.fsid)
        if (entry.attr) handles.write(writer.bool(true), entry.attr)
        else writer.bool(false)
      }
      writer.bool(false).bool(listing.eof)
    }
  },
  failure: (args, call) => call.failureAttributes(args.dir),
}
