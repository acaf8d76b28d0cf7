import {joinDevice} from '../../core/fs/device.js'
import {requireNodeCreation} from '../../core/fs/permissions.js'
import type {FileType, SetAttr} from '../../core/fs/types.js'
import {readDirOpArgs, type DirOpArgs3} from './arguments.js'
import {readSattr3} from './attributes.js'
import {
  NF3BLK, NF3CHR, NF3DIR, NF3FIFO, NF3LNK, NF3REG, NF3SOCK, NFS3ERR_BADTYPE, NFS3ERR_EXIST,
} from './constants.js'
import {entryName} from './names.js'
import {applyRest, newObjectResult, newOwnership, targetDirectory} from './new-object.js'
import type {Nfs3Procedure} from './procedure.js'
import {Nfs3Error} from './status.js'

/*
 * struct devicedata3 { sattr3 dev_attributes; specdata3 spec; };
 * union mknoddata3 switch (ftype3 type) {
 *   case NF3CHR:
 *   case NF3BLK: devicedata3 device;
 *   case NF3SOCK:
 *   case NF3FIFO: sattr3 pipe_attributes;
 *   default: void;
 * };
 * struct MKNOD3args { diropargs3 where; mknoddata3 what; };
 * struct MKNOD3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
 * struct MKNOD3resfail { wcc_data dir_wcc; };
 * union MKNOD3res switch (nfsstat3 status) {
 *   case NFS3_OK: MKNOD3resok resok;
 *   default: MKNOD3resfail resfail;
 * };
 */

export type Mknod3Args = DirOpArgs3 & {type: number; attributes: SetAttr; rdev: number}

const ftypes: ReadonlySet<number> = new Set([NF3REG, NF3DIR, NF3BLK, NF3CHR, NF3LNK, NF3SOCK, NF3FIFO])

/** The types MKNOD makes, with their st_mode type bits (S_IFCHR, S_IFBLK, S_IFSOCK, S_IFIFO). */
const nodeTypes = new Map<number, {type: FileType; bits: number}>([
  [NF3CHR, {type: 'chardev', bits: 0o020000}],
  [NF3BLK, {type: 'blockdev', bits: 0o060000}],
  [NF3SOCK, {type: 'socket', bits: 0o140000}],
  [NF3FIFO, {type: 'fifo', bits: 0o010000}],
])

const DEFAULT_NODE_MODE = 0o644

export const mknod: Nfs3Procedure<Mknod3Args> = {
  name: 'MKNOD',
  mutates: true,
  decode(reader) {
    const where = readDirOpArgs(reader)
    const type = reader.enumOf<number>(ftypes, 'ftype3')
    if (type === NF3CHR || type === NF3BLK) {
      const attributes = readSattr3(reader)
      return {...where, type, attributes, rdev: joinDevice(reader.uint32(), reader.uint32())}
    }
    if (type === NF3SOCK || type === NF3FIFO) return {...where, type, attributes: readSattr3(reader), rdev: 0}
    return {...where, type, attributes: {}, rdev: 0}
  },
  async execute(args, call) {
    const dir = await targetDirectory(call, args.dir)
    const node = nodeTypes.get(args.type)
    if (node === undefined) throw new Nfs3Error(NFS3ERR_BADTYPE, `MKNOD cannot make ftype3 ${args.type}`)
    requireNodeCreation(node.type, call.caller, 'mknod')
    const {attributes} = args
    const created = await call.fs.mknod(dir.ino, entryName(args.name, NFS3ERR_EXIST), {
      ...newOwnership(call, dir, node.type, node.bits | (attributes.mode ?? DEFAULT_NODE_MODE), attributes),
      rdev: args.rdev,
    })
    return newObjectResult(call, args.dir, dir, await applyRest(call, created, attributes))
  },
  failure: (args, call) => call.failureWcc(args.dir),
}
