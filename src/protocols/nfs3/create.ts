import type {Attr, SetAttr, Timestamp} from '../../core/fs/types.js'
import {isFsError} from '../../core/errors.js'
import {readDirOpArgs, type DirOpArgs3} from './arguments.js'
import {readSattr3} from './attributes.js'
import type {Nfs3Call} from './call.js'
import {EXCLUSIVE, GUARDED, NFS3_CREATEVERFSIZE, NFS3ERR_EXIST, UNCHECKED} from './constants.js'
import {entryName} from './names.js'
import {applyRest, newObjectResult, newOwnership, targetDirectory} from './new-object.js'
import type {Nfs3Procedure} from './procedure.js'
import {Nfs3Error} from './status.js'

/*
 * enum createmode3 { UNCHECKED = 0, GUARDED = 1, EXCLUSIVE = 2 };
 * union createhow3 switch (createmode3 mode) {
 *   case UNCHECKED:
 *   case GUARDED: sattr3 obj_attributes;
 *   case EXCLUSIVE: createverf3 verf;
 * };
 * struct CREATE3args { diropargs3 where; createhow3 how; };
 * struct CREATE3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
 * struct CREATE3resfail { wcc_data dir_wcc; };
 * union CREATE3res switch (nfsstat3 status) {
 *   case NFS3_OK: CREATE3resok resok;
 *   default: CREATE3resfail resfail;
 * };
 */

export type Create3Args = DirOpArgs3 & (
  | {mode: typeof UNCHECKED | typeof GUARDED; attributes: SetAttr}
  | {mode: typeof EXCLUSIVE; verifier: Buffer}
)

const createModes: ReadonlySet<number> = new Set([UNCHECKED, GUARDED, EXCLUSIVE])

const DEFAULT_FILE_MODE = 0o644
/** An EXCLUSIVE create carries no attributes; the client sends a SETATTR right after it. */
const EXCLUSIVE_FILE_MODE = 0o600

/**
 * EXCLUSIVE create keeps the client's verifier in the new file's times, as Linux's knfsd does: the
 * first four bytes as atime seconds, the last four as mtime seconds (whole seconds survive the
 * on-bucket format exactly). A retransmitted CREATE, whose reply was lost, finds "its" file and
 * succeeds instead of failing with EEXIST; the client's SETATTR that follows sets the real times.
 */
export function verifierTimes(verifier: Buffer): {atime: Timestamp; mtime: Timestamp} {
  return {atime: {sec: verifier.readUInt32BE(0), nsec: 0}, mtime: {sec: verifier.readUInt32BE(4), nsec: 0}}
}

async function createExclusive(call: Nfs3Call, dir: Attr, name: string, verifier: Buffer): Promise<Attr> {
  const times = verifierTimes(verifier)
  try {
    const created = await call.fs.create(dir.ino, name, {...newOwnership(call, dir, 'file', EXCLUSIVE_FILE_MODE, {}), exclusive: true})
    return await call.fs.setattr(created.ino, times)
  } catch (error) {
    if (!isFsError(error, 'EEXIST')) throw error
    const existing = await call.fs.lookup(dir.ino, name)
    if (existing.type === 'file' && existing.atime.sec === times.atime.sec && existing.mtime.sec === times.mtime.sec) return existing
    throw new Nfs3Error(NFS3ERR_EXIST, `${name} exists and was not created with this verifier`)
  }
}

export const create: Nfs3Procedure<Create3Args> = {
  name: 'CREATE',
  mutates: true,
  decode(reader) {
    const where = readDirOpArgs(reader)
    const mode = reader.enumOf<number>(createModes, 'createmode3')
    if (mode === EXCLUSIVE) return {...where, mode, verifier: reader.fixedOpaque(NFS3_CREATEVERFSIZE)}
    return {...where, mode: mode as typeof UNCHECKED | typeof GUARDED, attributes: readSattr3(reader)}
  },
  async execute(args, call) {
    const dir = await targetDirectory(call, args.dir)
    const name = entryName(args.name, NFS3ERR_EXIST)
    let object: Attr
    if (args.mode === EXCLUSIVE) {
      object = await createExclusive(call, dir, name, args.verifier)
    } else {
      const {attributes} = args
      const created = await call.fs.create(dir.ino, name, {
        ...newOwnership(call, dir, 'file', attributes.mode ?? DEFAULT_FILE_MODE, attributes),
        exclusive: args.mode === GUARDED,
      })
      object = await applyRest(call, created, attributes)
    }
    return newObjectResult(call, args.dir, dir, object)
  },
  failure: (args, call) => call.failureWcc(args.dir),
}
