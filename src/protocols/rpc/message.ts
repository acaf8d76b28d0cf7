import {
  AUTH_BADCRED, AUTH_ERROR, AUTH_NONE, AUTH_SYS, CALL, MAX_AUTH_BYTES, MAX_AUTH_SYS_GIDS, MAX_MACHINE_NAME,
  MSG_ACCEPTED, MSG_DENIED, PROG_MISMATCH, RPC_MISMATCH, RPC_VERSION, REPLY, SUCCESS,
} from './constants.js'
import {DecodeError, XdrReader, XdrWriter} from './xdr.js'

/*
 * struct rpc_msg { unsigned int xid; union switch (msg_type mtype) { case CALL: call_body cbody; case REPLY: reply_body rbody; } body; };
 * struct call_body { unsigned int rpcvers; unsigned int prog; unsigned int vers; unsigned int proc; opaque_auth cred; opaque_auth verf; };
 * struct opaque_auth { auth_flavor flavor; opaque body<400>; };
 * struct authsys_parms { unsigned int stamp; string machinename<255>; unsigned int uid; unsigned int gid; unsigned int gids<16>; };
 */

export type Credentials =
  | {flavor: 'none'}
  | {flavor: 'sys'; stamp: number; machineName: string; uid: number; gid: number; gids: number[]}

export interface RpcCall {
  xid: number
  prog: number
  vers: number
  proc: number
  credentials: Credentials
  /** The procedure's arguments, positioned after the RPC header. */
  args: XdrReader
}

/** Why a call could not be accepted; carries the xid so the right denial can still be sent. */
export class CallRejected extends Error {
  constructor(readonly xid: number, readonly reply: Buffer, reason: string) {
    super(reason)
    this.name = 'CallRejected'
  }
}

/**
 * Decodes a CALL. Throws DecodeError when not even an xid can be read (or the message is not a call:
 * the connection is then unusable), CallRejected with a ready denial for a wrong RPC version or bad credentials.
 */
export function decodeCall(record: Buffer): RpcCall {
  const reader = new XdrReader(record)
  const xid = reader.uint32()
  const type = reader.uint32()
  if (type !== CALL) throw new DecodeError(`expected an RPC CALL, got message type ${type}`)
  const rpcvers = reader.uint32()
  if (rpcvers !== RPC_VERSION) {
    throw new CallRejected(xid, encodeRpcMismatch(xid), `RPC version ${rpcvers} is not 2`)
  }
  const prog = reader.uint32()
  const vers = reader.uint32()
  const proc = reader.uint32()
  let credentials: Credentials
  try {
    credentials = decodeCredentials(reader.uint32(), reader.opaque(MAX_AUTH_BYTES))
    reader.uint32() // verifier flavor: AUTH_NONE/AUTH_SYS calls carry no verifier we check
    reader.opaque(MAX_AUTH_BYTES)
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error
    throw new CallRejected(xid, encodeAuthError(xid, AUTH_BADCRED), `bad credentials: ${error.message}`)
  }
  return {xid, prog, vers, proc, credentials, args: reader}
}

function decodeCredentials(flavor: number, body: Buffer): Credentials {
  if (flavor === AUTH_NONE) return {flavor: 'none'}
  if (flavor !== AUTH_SYS) throw new DecodeError(`unsupported auth flavor ${flavor}`)
  const reader = new XdrReader(body)
  const stamp = reader.uint32()
  const machineName = reader.string(MAX_MACHINE_NAME).toString('latin1')
  const uid = reader.uint32()
  const gid = reader.uint32()
  const gids = reader.array(() => reader.uint32(), MAX_AUTH_SYS_GIDS)
  if (reader.remaining !== 0) throw new DecodeError('trailing bytes in authsys_parms')
  return {flavor: 'sys', stamp, machineName, uid, gid, gids}
}

/** reply header: xid, REPLY, MSG_ACCEPTED, verifier AUTH_NONE, accept_stat. */
export function acceptedReplyHeader(xid: number, acceptStat: number): XdrWriter {
  return new XdrWriter().uint32(xid).uint32(REPLY).uint32(MSG_ACCEPTED).uint32(AUTH_NONE).uint32(0).uint32(acceptStat)
}

/** The reply as pieces to send in order (large data is not copied into the header's buffer). */
export function encodeSuccess(xid: number, writeResults: (writer: XdrWriter) => void): Buffer[] {
  const writer = acceptedReplyHeader(xid, SUCCESS)
  writeResults(writer)
  return writer.toBuffers()
}

/** PROG_UNAVAIL, PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR: no body. */
export function encodeAcceptError(xid: number, acceptStat: number): Buffer {
  return acceptedReplyHeader(xid, acceptStat).toBuffer()
}

export function encodeProgMismatch(xid: number, low: number, high: number): Buffer {
  return acceptedReplyHeader(xid, PROG_MISMATCH).uint32(low).uint32(high).toBuffer()
}

export function encodeRpcMismatch(xid: number): Buffer {
  return new XdrWriter().uint32(xid).uint32(REPLY).uint32(MSG_DENIED).uint32(RPC_MISMATCH)
    .uint32(RPC_VERSION).uint32(RPC_VERSION).toBuffer()
}

export function encodeAuthError(xid: number, authStat: number): Buffer {
  return new XdrWriter().uint32(xid).uint32(REPLY).uint32(MSG_DENIED).uint32(AUTH_ERROR).uint32(authStat).toBuffer()
}
