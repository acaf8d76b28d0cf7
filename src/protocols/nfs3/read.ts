import {requireDataAccess} from '../../core/fs/permissions.js'
import {piecesLength} from '../../core/fs/pieces.js'
import {readFileHandle} from './arguments.js'
import {writePostOpAttr} from './attributes.js'
import {NFS3ERR_INVAL, NFS3ERR_ISDIR} from './constants.js'
import type {Nfs3Procedure} from './procedure.js'
import {Nfs3Error} from './status.js'
import {MAX_TRANSFER} from './transfer-size.js'

/*
 * struct READ3args { nfs_fh3 file; offset3 offset; count3 count; };
 * struct READ3resok { post_op_attr file_attributes; count3 count; bool eof; opaque data<>; };
 * struct READ3resfail { post_op_attr file_attributes; };
 * union READ3res switch (nfsstat3 status) {
 *   case NFS3_OK: READ3resok resok;
 *   default: READ3resfail resfail;
 * };
 */

export interface Read3Args {
  file: Buffer
  offset: bigint
  count: number
}

export const read: Nfs3Procedure<Read3Args> = {
  name: 'READ',
  mutates: false,
  decode: (reader) => ({file: readFileHandle(reader), offset: reader.uint64(), count: reader.uint32()}),
  async execute(args, call) {
    const attr = await call.resolve(args.file)
    if (attr.type === 'dir') throw new Nfs3Error(NFS3ERR_ISDIR, 'READ of a directory')
    if (attr.type !== 'file') throw new Nfs3Error(NFS3ERR_INVAL, `READ of a ${attr.type}`)
    requireDataAccess(attr, call.caller, 'read', 'read')
    const {pieces, eof} = args.offset >= BigInt(attr.size)
      ? {pieces: [], eof: true}
      : await call.fs.readPieces(attr.ino, Number(args.offset), Math.min(args.count, MAX_TRANSFER))
    return (writer) => {
      writePostOpAttr(writer, attr, call.fsid)
      writer.uint32(piecesLength(pieces)).bool(eof).opaquePieces(pieces)
    }
  },
  failure: (args, call) => call.failureAttributes(args.file),
}
