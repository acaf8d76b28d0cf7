import {splitDevice} from '../../core/fs/device.js'
import type {Attr, FileType, SetAttr, Timestamp} from '../../core/fs/types.js'
import type {XdrReader, XdrWriter} from '../rpc/xdr.js'
import {
  DONT_CHANGE, NF3BLK, NF3CHR, NF3DIR, NF3FIFO, NF3LNK, NF3REG, NF3SOCK, SET_TO_CLIENT_TIME, SET_TO_SERVER_TIME,
} from './constants.js'

/*
 * struct nfstime3 { uint32 seconds; uint32 nseconds; };
 * struct specdata3 { uint32 specdata1; uint32 specdata2; };
 * struct fattr3 {
 *   ftype3 type; mode3 mode; uint32 nlink; uid3 uid; gid3 gid; size3 size; size3 used; specdata3 rdev;
 *   uint64 fsid; fileid3 fileid; nfstime3 atime; nfstime3 mtime; nfstime3 ctime;
 * };
 * union post_op_attr switch (bool attributes_follow) { case TRUE: fattr3 attributes; case FALSE: void; };
 * struct wcc_attr { size3 size; nfstime3 mtime; nfstime3 ctime; };
 * union pre_op_attr switch (bool attributes_follow) { case TRUE: wcc_attr attributes; case FALSE: void; };
 * struct wcc_data { pre_op_attr before; post_op_attr after; };
 */

const ftype3: Record<FileType, number> = {
  file: NF3REG,
  dir: NF3DIR,
  blockdev: NF3BLK,
  chardev: NF3CHR,
  symlink: NF3LNK,
  socket: NF3SOCK,
  fifo: NF3FIFO,
}

export function ftype3Of(type: FileType): number {
  return ftype3[type]
}

export function writeNfstime3(writer: XdrWriter, time: Timestamp): void {
  writer.uint32(time.sec).uint32(time.nsec)
}

export function readNfstime3(reader: XdrReader): Timestamp {
  return {sec: reader.uint32(), nsec: reader.uint32()}
}

export function writeFattr3(writer: XdrWriter, attr: Attr, fsid: bigint): void {
  const {major, minor} = splitDevice(attr.rdev)
  writer.uint32(ftype3Of(attr.type)).uint32(attr.mode & 0o7777).uint32(attr.nlink).uint32(attr.uid).uint32(attr.gid)
    .uint64(attr.size).uint64(attr.size).uint32(major).uint32(minor)
    .uint64(fsid).uint64(attr.ino)
  writeNfstime3(writer, attr.atime)
  writeNfstime3(writer, attr.mtime)
  writeNfstime3(writer, attr.ctime)
}

export function writePostOpAttr(writer: XdrWriter, attr: Attr | undefined, fsid: bigint): void {
  writer.bool(attr !== undefined)
  if (attr !== undefined) writeFattr3(writer, attr, fsid)
}

export function writePreOpAttr(writer: XdrWriter, attr: Attr | undefined): void {
  writer.optional(attr, (present) => {
    writer.uint64(present.size)
    writeNfstime3(writer, present.mtime)
    writeNfstime3(writer, present.ctime)
  })
}

export function writeWccData(writer: XdrWriter, before: Attr | undefined, after: Attr | undefined, fsid: bigint): void {
  writePreOpAttr(writer, before)
  writePostOpAttr(writer, after, fsid)
}

/*
 * union set_mode3 switch (bool set_it) { case TRUE: mode3 mode; default: void; };
 * (set_uid3, set_gid3, set_size3 alike)
 * enum time_how { DONT_CHANGE = 0, SET_TO_SERVER_TIME = 1, SET_TO_CLIENT_TIME = 2 };
 * union set_atime switch (time_how set_it) { case SET_TO_CLIENT_TIME: nfstime3 atime; default: void; };
 * (set_mtime alike)
 * struct sattr3 { set_mode3 mode; set_uid3 uid; set_gid3 gid; set_size3 size; set_atime atime; set_mtime mtime; };
 */

const timeHows: ReadonlySet<number> = new Set([DONT_CHANGE, SET_TO_SERVER_TIME, SET_TO_CLIENT_TIME])

function readSetTime(reader: XdrReader): Timestamp | 'now' | undefined {
  const how = reader.enumOf<number>(timeHows, 'time_how')
  if (how === SET_TO_CLIENT_TIME) return readNfstime3(reader)
  return how === SET_TO_SERVER_TIME ? 'now' : undefined
}

export function readSattr3(reader: XdrReader): SetAttr {
  const changes: SetAttr = {}
  const mode = reader.optional(() => reader.uint32())
  const uid = reader.optional(() => reader.uint32())
  const gid = reader.optional(() => reader.uint32())
  const size = reader.optional(() => reader.uint64())
  const atime = readSetTime(reader)
  const mtime = readSetTime(reader)
  if (mode !== undefined) changes.mode = mode & 0o7777
  if (uid !== undefined) changes.uid = uid
  if (gid !== undefined) changes.gid = gid
  if (size !== undefined) changes.size = Number(size)
  if (atime !== undefined) changes.atime = atime
  if (mtime !== undefined) changes.mtime = mtime
  return changes
}

export function isEmptySetAttr(changes: SetAttr): boolean {
  return Object.keys(changes).length === 0
}
