import {readFileHandle} from './arguments.js'
import {writeWccData} from './attributes.js'
import {NFS3ERR_INVAL, NFS3ERR_ISDIR} from './constants.js'
import type {Nfs3Procedure} from './procedure.js'
import {Nfs3Error} from './status.js'

/*
 * struct COMMIT3args { nfs_fh3 file; offset3 offset; count3 count; };
 * struct COMMIT3resok { wcc_data file_wcc; writeverf3 verf; };
 * struct COMMIT3resfail { wcc_data file_wcc; };
 * union COMMIT3res switch (nfsstat3 status) {
 *   case NFS3_OK: COMMIT3resok resok;
 *   default: COMMIT3resfail resfail;
 * };
 */

export interface Commit3Args {
  file: Buffer
  offset: bigint
  count: number
}

export const commit: Nfs3Procedure<Commit3Args> = {
  name: 'COMMIT',
  mutates: false,
  decode: (reader) => ({file: readFileHandle(reader), offset: reader.uint64(), count: reader.uint32()}),
  async execute(args, call) {
    const before = await call.resolve(args.file)
    if (before.type === 'dir') throw new Nfs3Error(NFS3ERR_ISDIR, 'COMMIT of a directory')
    if (before.type !== 'file') throw new Nfs3Error(NFS3ERR_INVAL, `COMMIT of a ${before.type}`)
    // The whole file, whatever range was asked: an object is uploaded whole. Replies once it is in the bucket.
    await call.fs.fsync(before.ino)
    const after = await call.currentAttributes(args.file)
    return (writer) => {
      writeWccData(writer, before, after, call.fsid)
      writer.fixedOpaque(call.server.writeVerifier)
    }
  },
  failure: (args, call) => call.failureWcc(args.file),
}
