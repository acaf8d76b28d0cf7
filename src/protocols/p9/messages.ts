import * as c from './constants.js'
import {DecodeError, P9Reader, P9Writer, type Qid} from './wire.js'

/*
 * Every 9P2000.L message as the list of its fields after size[4] type[1] tag[2], in the order and
 * with the sizes of the Linux kernel's net/9p/client.c and diod's protocol.md. One table gives
 * both directions: the server decodes T-messages and encodes R-messages; tests and the fuzzer do
 * the opposite with the same code.
 */

interface FieldValues {
  u8: number
  u16: number
  u32: number
  u64: bigint
  str: string
  qid: Qid
  /** nwname[2] wname[s]... */
  strs: string[]
  /** nwqid[2] qid[13]... */
  qids: Qid[]
  /** count[4] data[count] */
  data: Buffer
}

type FieldKind = keyof FieldValues

const schemas = {
  Tlerror: {type: c.Tlerror, fields: []},
  Rlerror: {type: c.Rlerror, fields: [['ecode', 'u32']]},
  Tstatfs: {type: c.Tstatfs, fields: [['fid', 'u32']]},
  Rstatfs: {
    type: c.Rstatfs,
    fields: [['type', 'u32'], ['bsize', 'u32'], ['blocks', 'u64'], ['bfree', 'u64'], ['bavail', 'u64'], ['files', 'u64'],
      ['ffree', 'u64'], ['fsid', 'u64'], ['namelen', 'u32']],
  },
  Tlopen: {type: c.Tlopen, fields: [['fid', 'u32'], ['flags', 'u32']]},
  Rlopen: {type: c.Rlopen, fields: [['qid', 'qid'], ['iounit', 'u32']]},
  Tlcreate: {type: c.Tlcreate, fields: [['fid', 'u32'], ['name', 'str'], ['flags', 'u32'], ['mode', 'u32'], ['gid', 'u32']]},
  Rlcreate: {type: c.Rlcreate, fields: [['qid', 'qid'], ['iounit', 'u32']]},
  Tsymlink: {type: c.Tsymlink, fields: [['fid', 'u32'], ['name', 'str'], ['symtgt', 'str'], ['gid', 'u32']]},
  Rsymlink: {type: c.Rsymlink, fields: [['qid', 'qid']]},
  Tmknod: {type: c.Tmknod, fields: [['dfid', 'u32'], ['name', 'str'], ['mode', 'u32'], ['major', 'u32'], ['minor', 'u32'], ['gid', 'u32']]},
  Rmknod: {type: c.Rmknod, fields: [['qid', 'qid']]},
  Trename: {type: c.Trename, fields: [['fid', 'u32'], ['dfid', 'u32'], ['name', 'str']]},
  Rrename: {type: c.Rrename, fields: []},
  Treadlink: {type: c.Treadlink, fields: [['fid', 'u32']]},
  Rreadlink: {type: c.Rreadlink, fields: [['target', 'str']]},
  Tgetattr: {type: c.Tgetattr, fields: [['fid', 'u32'], ['requestMask', 'u64']]},
  Rgetattr: {
    type: c.Rgetattr,
    fields: [['valid', 'u64'], ['qid', 'qid'], ['mode', 'u32'], ['uid', 'u32'], ['gid', 'u32'], ['nlink', 'u64'], ['rdev', 'u64'],
      ['size', 'u64'], ['blksize', 'u64'], ['blocks', 'u64'], ['atimeSec', 'u64'], ['atimeNsec', 'u64'], ['mtimeSec', 'u64'],
      ['mtimeNsec', 'u64'], ['ctimeSec', 'u64'], ['ctimeNsec', 'u64'], ['btimeSec', 'u64'], ['btimeNsec', 'u64'], ['gen', 'u64'],
      ['dataVersion', 'u64']],
  },
  Tsetattr: {
    type: c.Tsetattr,
    fields: [['fid', 'u32'], ['valid', 'u32'], ['mode', 'u32'], ['uid', 'u32'], ['gid', 'u32'], ['size', 'u64'], ['atimeSec', 'u64'],
      ['atimeNsec', 'u64'], ['mtimeSec', 'u64'], ['mtimeNsec', 'u64']],
  },
  Rsetattr: {type: c.Rsetattr, fields: []},
  Txattrwalk: {type: c.Txattrwalk, fields: [['fid', 'u32'], ['newfid', 'u32'], ['name', 'str']]},
  Rxattrwalk: {type: c.Rxattrwalk, fields: [['size', 'u64']]},
  Txattrcreate: {type: c.Txattrcreate, fields: [['fid', 'u32'], ['name', 'str'], ['attrSize', 'u64'], ['flags', 'u32']]},
  Rxattrcreate: {type: c.Rxattrcreate, fields: []},
  Treaddir: {type: c.Treaddir, fields: [['fid', 'u32'], ['offset', 'u64'], ['count', 'u32']]},
  Rreaddir: {type: c.Rreaddir, fields: [['data', 'data']]},
  Tfsync: {type: c.Tfsync, fields: [['fid', 'u32'], ['datasync', 'u32']]},
  Rfsync: {type: c.Rfsync, fields: []},
  Tlock: {
    type: c.Tlock,
    fields: [['fid', 'u32'], ['type', 'u8'], ['flags', 'u32'], ['start', 'u64'], ['length', 'u64'], ['procId', 'u32'], ['clientId', 'str']],
  },
  Rlock: {type: c.Rlock, fields: [['status', 'u8']]},
  Tgetlock: {type: c.Tgetlock, fields: [['fid', 'u32'], ['type', 'u8'], ['start', 'u64'], ['length', 'u64'], ['procId', 'u32'], ['clientId', 'str']]},
  Rgetlock: {type: c.Rgetlock, fields: [['type', 'u8'], ['start', 'u64'], ['length', 'u64'], ['procId', 'u32'], ['clientId', 'str']]},
  Tlink: {type: c.Tlink, fields: [['dfid', 'u32'], ['fid', 'u32'], ['name', 'str']]},
  Rlink: {type: c.Rlink, fields: []},
  Tmkdir: {type: c.Tmkdir, fields: [['dfid', 'u32'], ['name', 'str'], ['mode', 'u32'], ['gid', 'u32']]},
  Rmkdir: {type: c.Rmkdir, fields: [['qid', 'qid']]},
  Trenameat: {type: c.Trenameat, fields: [['olddirfid', 'u32'], ['oldname', 'str'], ['newdirfid', 'u32'], ['newname', 'str']]},
  Rrenameat: {type: c.Rrenameat, fields: []},
  Tunlinkat: {type: c.Tunlinkat, fields: [['dirfid', 'u32'], ['name', 'str'], ['flags', 'u32']]},
  Runlinkat: {type: c.Runlinkat, fields: []},
  Tversion: {type: c.Tversion, fields: [['msize', 'u32'], ['version', 'str']]},
  Rversion: {type: c.Rversion, fields: [['msize', 'u32'], ['version', 'str']]},
  Tauth: {type: c.Tauth, fields: [['afid', 'u32'], ['uname', 'str'], ['aname', 'str'], ['nUname', 'u32']]},
  Rauth: {type: c.Rauth, fields: [['aqid', 'qid']]},
  Tattach: {type: c.Tattach, fields: [['fid', 'u32'], ['afid', 'u32'], ['uname', 'str'], ['aname', 'str'], ['nUname', 'u32']]},
  Rattach: {type: c.Rattach, fields: [['qid', 'qid']]},
  Tflush: {type: c.Tflush, fields: [['oldtag', 'u16']]},
  Rflush: {type: c.Rflush, fields: []},
  Twalk: {type: c.Twalk, fields: [['fid', 'u32'], ['newfid', 'u32'], ['wnames', 'strs']]},
  Rwalk: {type: c.Rwalk, fields: [['wqids', 'qids']]},
  Tread: {type: c.Tread, fields: [['fid', 'u32'], ['offset', 'u64'], ['count', 'u32']]},
  Rread: {type: c.Rread, fields: [['data', 'data']]},
  Twrite: {type: c.Twrite, fields: [['fid', 'u32'], ['offset', 'u64'], ['data', 'data']]},
  Rwrite: {type: c.Rwrite, fields: [['count', 'u32']]},
  Tclunk: {type: c.Tclunk, fields: [['fid', 'u32']]},
  Rclunk: {type: c.Rclunk, fields: []},
  Tremove: {type: c.Tremove, fields: [['fid', 'u32']]},
  Rremove: {type: c.Rremove, fields: []},
} as const satisfies Record<string, {type: number; fields: readonly (readonly [string, FieldKind])[]}>

type Schemas = typeof schemas
export type MessageName = keyof Schemas
export type RequestName = Extract<MessageName, `T${string}`>
export type ReplyName = Extract<MessageName, `R${string}`>

/** The fields of a message by name: `Body<'Tattach'>` is `{fid: number; afid: number; uname: string; ...}`. */
export type Body<N extends MessageName> = {
  -readonly [F in Schemas[N]['fields'][number] as F[0]]: FieldValues[F[1]]
}

/** A decoded message: its name, tag and fields. */
export type Message<N extends MessageName = MessageName> = {[K in N]: {name: K; tag: number; body: Body<K>}}[N]

const byType = new Map<number, MessageName>(Object.entries(schemas).map(([name, schema]) => [schema.type, name as MessageName]))

export function messageName(type: number): MessageName | undefined {
  return byType.get(type)
}

const readers: {[K in FieldKind]: (reader: P9Reader) => FieldValues[K]} = {
  u8: (reader) => reader.u8(),
  u16: (reader) => reader.u16(),
  u32: (reader) => reader.u32(),
  u64: (reader) => reader.u64(),
  str: (reader) => reader.str(),
  qid: (reader) => reader.qid(),
  strs: (reader) => Array.from({length: reader.u16()}, () => reader.str()),
  qids: (reader) => Array.from({length: reader.u16()}, () => reader.qid()),
  data: (reader) => reader.bytes(reader.u32()),
}

const writers: {[K in FieldKind]: (writer: P9Writer, value: FieldValues[K]) => void} = {
  u8: (writer, value) => writer.u8(value),
  u16: (writer, value) => writer.u16(value),
  u32: (writer, value) => writer.u32(value),
  u64: (writer, value) => writer.u64(value),
  str: (writer, value) => writer.str(value),
  qid: (writer, value) => writer.qid(value),
  strs: (writer, values) => {
    writer.u16(values.length)
    for (const value of values) writer.str(value)
  },
  qids: (writer, values) => {
    writer.u16(values.length)
    for (const value of values) writer.qid(value)
  },
  data: (writer, value) => writer.u32(value.length).bytes(value),
}

/** size[4] type[1] tag[2] of a whole frame (the framer checked that size matches). */
export function readHeader(frame: Buffer): {type: number; tag: number} {
  if (frame.length < c.HEADER_SIZE) throw new DecodeError(`9P frame of ${frame.length} bytes has no header`)
  return {type: frame.readUInt8(4), tag: frame.readUInt16LE(5)}
}

/**
 * Decodes a whole frame whose type is known (`messageName`); throws DecodeError when the fields do
 * not fit. Bytes after the last field are ignored, as the kernel's and diod's decoders do.
 */
export function decodeMessage(frame: Buffer): Message {
  const {type, tag} = readHeader(frame)
  const name = byType.get(type)
  if (name === undefined) throw new DecodeError(`unknown 9P message type ${type}`)
  const reader = new P9Reader(frame.subarray(c.HEADER_SIZE))
  const body: Record<string, unknown> = {}
  for (const [field, kind] of schemas[name].fields as readonly (readonly [string, FieldKind])[]) body[field] = readers[kind](reader)
  return {name, tag, body} as Message
}

/** A whole frame, size included. */
export function encodeMessage<N extends MessageName>(name: N, tag: number, body: Body<N>): Buffer {
  const schema = schemas[name]
  const writer = new P9Writer(64)
  writer.u32(0).u8(schema.type).u16(tag)
  const values = body as Record<string, unknown>
  for (const [field, kind] of schema.fields as readonly (readonly [string, FieldKind])[]) {
    ;(writers[kind] as (writer: P9Writer, value: unknown) => void)(writer, values[field])
  }
  return writer.setU32(0, writer.size).toBuffer()
}
