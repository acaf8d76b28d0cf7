import {connect, type Socket} from 'node:net'

import {RecordFramer, recordHeader} from '../../src/protocols/rpc/record-marking.js'
import {XdrReader, XdrWriter} from '../../src/protocols/rpc/xdr.js'

/**
 * A small ONC RPC client over TCP for tests: sends calls (AUTH_SYS or AUTH_NONE), matches replies
 * by xid, and can send raw bytes to probe how the server treats garbage.
 */

export interface AuthSys {
  uid: number
  gid: number
  gids?: number[]
  machineName?: string
}

export type RpcReply =
  | {kind: 'accepted'; xid: number; acceptStat: number; body: XdrReader}
  | {kind: 'denied'; xid: number; rejectStat: number; body: XdrReader}
  /** The server closed the connection before replying. */
  | {kind: 'closed'}

export class RpcClient {
  private readonly framer = new RecordFramer(64 << 20)
  private readonly waiting = new Map<number, (reply: RpcReply) => void>()
  private nextXid = 1
  readonly closed: Promise<void>

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const record of this.framer.push(chunk)) this.deliver(record)
    })
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        for (const resolveReply of this.waiting.values()) resolveReply({kind: 'closed'})
        this.waiting.clear()
        resolve()
      })
    })
    socket.on('error', () => {}) // surfaces as 'close'
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => {
        socket.off('error', reject)
        resolve(new RpcClient(socket))
      })
      socket.once('error', reject)
    })
  }

  get isClosed(): boolean {
    return this.socket.destroyed
  }

  /** Sends one call; resolves with its reply, or `closed`. */
  call(prog: number, vers: number, proc: number, args: Buffer | ((writer: XdrWriter) => void), auth: AuthSys | 'none' = {uid: 0, gid: 0}): Promise<RpcReply> {
    const xid = this.nextXid++
    const writer = new XdrWriter().uint32(xid).uint32(0).uint32(2).uint32(prog).uint32(vers).uint32(proc)
    if (auth === 'none') {
      writer.uint32(0).opaque(Buffer.alloc(0))
    } else {
      const cred = new XdrWriter().uint32(0).string(auth.machineName ?? 'test').uint32(auth.uid).uint32(auth.gid)
        .uint32(auth.gids?.length ?? 0)
      for (const gid of auth.gids ?? []) cred.uint32(gid)
      writer.uint32(1).opaque(cred.toBuffer())
    }
    writer.uint32(0).opaque(Buffer.alloc(0))
    if (typeof args === 'function') args(writer)
    else writer.fixedOpaque(args)
    return this.exchange(xid, writer.toBuffer())
  }

  /** Sends a record made by the caller and resolves with the reply to `xid`, or `closed`. */
  exchange(xid: number, record: Buffer): Promise<RpcReply> {
    if (this.socket.destroyed) return Promise.resolve({kind: 'closed'})
    const reply = new Promise<RpcReply>((resolve) => this.waiting.set(xid, resolve))
    this.sendRecord(record)
    return reply
  }

  /** One record, framed as a single last fragment. */
  sendRecord(payload: Buffer): void {
    this.sendRaw(Buffer.concat([recordHeader(payload.length), payload]))
  }

  sendRaw(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes)
  }

  close(): Promise<void> {
    this.socket.destroy()
    return this.closed
  }

  private deliver(record: Buffer): void {
    const body = new XdrReader(record)
    const xid = body.uint32()
    body.uint32() // REPLY
    const replyStat = body.uint32()
    let reply: RpcReply
    if (replyStat === 0) {
      body.uint32() // verifier flavor
      body.opaque()
      reply = {kind: 'accepted', xid, acceptStat: body.uint32(), body}
    } else {
      reply = {kind: 'denied', xid, rejectStat: body.uint32(), body}
    }
    const resolve = this.waiting.get(xid)
    this.waiting.delete(xid)
    resolve?.(reply)
  }
}

/** The body of a SUCCESS reply; throws on anything else. */
export function successBody(reply: RpcReply): XdrReader {
  if (reply.kind !== 'accepted' || reply.acceptStat !== 0) {
    throw new Error(`expected SUCCESS, got ${reply.kind} ${reply.kind === 'accepted' ? reply.acceptStat : reply.kind === 'denied' ? reply.rejectStat : ''}`)
  }
  return reply.body
}
