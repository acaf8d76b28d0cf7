import {requireDataAccess} from '../../core/fs/permissions.js'
import {readFileHandle} from './arguments.js'
import {writeWccData} from './attributes.js'
import {DATA_SYNC, FILE_SYNC, NFS3ERR_FBIG, NFS3ERR_INVAL, NFS3ERR_ISDIR, UNSTABLE} from './constants.js'
import type {Nfs3Procedure} from './procedure.js'
import {Nfs3Error} from './status.js'
import {MAX_FILE_SIZE} from './transfer-size.js'

/*
 * enum stable_how { UNSTABLE = 0, DATA_SYNC = 1, FILE_SYNC = 2 };
 * struct WRITE3args { nfs_fh3 file; offset3 offset; count3 count; stable_how stable; opaque data<>; };
 * struct WRITE3resok { wcc_data file_wcc; count3 count; stable_how committed; writeverf3 verf; };
 * struct WRITE3resfail { wcc_data file_wcc; };
 * union WRITE3res switch (nfsstat3 status) {
 *   case NFS3_OK: WRITE3resok resok;
 *   default: WRITE3resfail resfail;
 * };
 */

export interface Write3Args {
  file: Buffer
  offset: bigint
  count: number
  stable: number
  data: Buffer
}

const stableHows: ReadonlySet<number> = new Set([UNSTABLE, DATA_SYNC, FILE_SYNC])

export const write: Nfs3Procedure<Write3Args> = {
  name: 'WRITE',
  mutates: true,
  decode: (reader) => ({
    file: readFileHandle(reader),
    offset: reader.uint64(),
    count: reader.uint32(),
    stable: reader.enumOf<number>(stableHows, 'stable_how'),
    data: reader.opaque(),
  }),
  async execute(args, call) {
    const before = await call.resolve(args.file)
    if (before.type === 'dir') throw new Nfs3Error(NFS3ERR_ISDIR, 'WRITE to a directory')
    if (before.type !== 'file') throw new Nfs3Error(NFS3ERR_INVAL, `WRITE to a ${before.type}`)
    requireDataAccess(before, call.caller, 'write', 'write')
    if (args.count > args.data.length) throw new Nfs3Error(NFS3ERR_INVAL, `count ${args.count} exceeds the ${args.data.length} bytes sent`)
    if (args.offset + BigInt(args.count) > BigInt(MAX_FILE_SIZE)) throw new Nfs3Error(NFS3ERR_FBIG, 'write beyond the largest object size')
    // Durability per design.md: UNSTABLE lands in staging; DATA_SYNC and FILE_SYNC reply once in the bucket.
    const stable = args.stable !== UNSTABLE
    const after = await call.fs.write(before.ino, Number(args.offset), args.data.subarray(0, args.count), {stable})
    return (writer) => {
      writeWccData(writer, before, after, call.fsid)
      writer.uint32(args.count).uint32(stable ? FILE_SYNC : UNSTABLE).fixedOpaque(call.server.writeVerifier)
    }
  },
  failure: (args, call) => call.failureWcc(args.file),
}
