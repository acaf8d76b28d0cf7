import type {XdrReader, XdrWriter} from '../../src/protocols/rpc/xdr.js'
import {RpcClient, successBody, type AuthSys} from './nfs-rpc-client.js'

/**
 * The client side of NFSv3 and MOUNT v3 for tests, written from RFC 1813 independently of the
 * server's encoders: argument writers, result readers, and a client that mounts and calls.
 */

export const NFS = {prog: 100003, vers: 3}
export const MOUNT = {prog: 100005, vers: 3}

export interface Time {
  sec: number
  nsec: number
}

export interface Fattr3 {
  type: number
  mode: number
  nlink: number
  uid: number
  gid: number
  size: bigint
  used: bigint
  rdev: [number, number]
  fsid: bigint
  fileid: bigint
  atime: Time
  mtime: Time
  ctime: Time
}

export interface WccAttr {
  size: bigint
  mtime: Time
  ctime: Time
}

export interface Sattr3 {
  mode?: number
  uid?: number
  gid?: number
  size?: bigint
  atime?: Time | 'server'
  mtime?: Time | 'server'
}

export const readTime = (r: XdrReader): Time => ({sec: r.uint32(), nsec: r.uint32()})

export function readFattr3(r: XdrReader): Fattr3 {
  return {
    type: r.uint32(), mode: r.uint32(), nlink: r.uint32(), uid: r.uint32(), gid: r.uint32(),
    size: r.uint64(), used: r.uint64(), rdev: [r.uint32(), r.uint32()], fsid: r.uint64(), fileid: r.uint64(),
    atime: readTime(r), mtime: readTime(r), ctime: readTime(r),
  }
}

export const readPostOpAttr = (r: XdrReader): Fattr3 | undefined => (r.bool() ? readFattr3(r) : undefined)

export const readPreOpAttr = (r: XdrReader): WccAttr | undefined =>
  r.bool() ? {size: r.uint64(), mtime: readTime(r), ctime: readTime(r)} : undefined

export const readWcc = (r: XdrReader): {before?: WccAttr; after?: Fattr3} => ({before: readPreOpAttr(r), after: readPostOpAttr(r)})

export const readPostOpFh = (r: XdrReader): Buffer | undefined => (r.bool() ? Buffer.from(r.opaque(64)) : undefined)

export function writeSattr3(w: XdrWriter, s: Sattr3 = {}): void {
  w.optional(s.mode, (v) => w.uint32(v))
  w.optional(s.uid, (v) => w.uint32(v))
  w.optional(s.gid, (v) => w.uint32(v))
  w.optional(s.size, (v) => w.uint64(v))
  for (const time of [s.atime, s.mtime]) {
    if (time === undefined) w.uint32(0)
    else if (time === 'server') w.uint32(1)
    else w.uint32(2).uint32(time.sec).uint32(time.nsec)
  }
}

export const writeDirOp = (w: XdrWriter, dir: Buffer, name: string): void => {
  w.opaque(dir).string(name)
}

export interface NfsResult {
  status: number
  body: XdrReader
}

export interface DirEntry3 {
  fileid: bigint
  name: string
  cookie: bigint
  attr?: Fattr3
  handle?: Buffer
}

export class NfsTestClient {
  constructor(readonly rpc: RpcClient, public auth: AuthSys | 'none' = {uid: 0, gid: 0}) {}

  static async connect(port: number, auth?: AuthSys | 'none'): Promise<NfsTestClient> {
    return new NfsTestClient(await RpcClient.connect(port), auth)
  }

  close(): Promise<void> {
    return this.rpc.close()
  }

  /** MNT: the status and, on success, the root handle. */
  async mount(path = '/'): Promise<{status: number; handle?: Buffer; flavors?: number[]}> {
    const body = successBody(await this.rpc.call(MOUNT.prog, MOUNT.vers, 1, (w) => w.string(path), this.auth))
    const status = body.uint32()
    if (status !== 0) return {status}
    const handle = Buffer.from(body.opaque(64))
    const flavors = body.array(() => body.uint32())
    return {status, handle, flavors}
  }

  async mountRoot(path = '/'): Promise<Buffer> {
    const {status, handle} = await this.mount(path)
    if (status !== 0 || !handle) throw new Error(`MNT ${path} failed with ${status}`)
    return handle
  }

  /** One NFS procedure: its nfsstat3 and the rest of the body (resok or resfail). */
  async call(proc: number, args: (w: XdrWriter) => void): Promise<NfsResult> {
    const body = successBody(await this.rpc.call(NFS.prog, NFS.vers, proc, args, this.auth))
    return {status: body.uint32(), body}
  }

  async getattr(handle: Buffer): Promise<{status: number; attr?: Fattr3}> {
    const {status, body} = await this.call(1, (w) => w.opaque(handle))
    return {status, attr: status === 0 ? readFattr3(body) : undefined}
  }

  async lookup(dir: Buffer, name: string): Promise<{status: number; handle?: Buffer; attr?: Fattr3; dirAttr?: Fattr3}> {
    const {status, body} = await this.call(3, (w) => writeDirOp(w, dir, name))
    if (status !== 0) return {status, dirAttr: readPostOpAttr(body)}
    return {status, handle: Buffer.from(body.opaque(64)), attr: readPostOpAttr(body), dirAttr: readPostOpAttr(body)}
  }

  /** CREATE UNCHECKED/GUARDED with attributes, or EXCLUSIVE with a verifier. */
  async create(dir: Buffer, name: string, how: {mode: 0 | 1; attributes?: Sattr3} | {mode: 2; verifier: Buffer}): Promise<{status: number; handle?: Buffer; attr?: Fattr3}> {
    const {status, body} = await this.call(8, (w) => {
      writeDirOp(w, dir, name)
      w.uint32(how.mode)
      if (how.mode === 2) w.fixedOpaque(how.verifier)
      else writeSattr3(w, how.attributes)
    })
    if (status !== 0) return {status}
    return {status, handle: readPostOpFh(body), attr: readPostOpAttr(body)}
  }

  async mkdir(dir: Buffer, name: string, attributes: Sattr3 = {mode: 0o755}): Promise<{status: number; handle?: Buffer; attr?: Fattr3}> {
    const {status, body} = await this.call(9, (w) => {
      writeDirOp(w, dir, name)
      writeSattr3(w, attributes)
    })
    if (status !== 0) return {status}
    return {status, handle: readPostOpFh(body), attr: readPostOpAttr(body)}
  }

  async write(handle: Buffer, offset: bigint, data: Buffer, stable = 2): Promise<{status: number; count?: number; committed?: number; verifier?: Buffer; after?: Fattr3}> {
    const {status, body} = await this.call(7, (w) => w.opaque(handle).uint64(offset).uint32(data.length).uint32(stable).opaque(data))
    const wcc = readWcc(body)
    if (status !== 0) return {status}
    return {status, after: wcc.after, count: body.uint32(), committed: body.uint32(), verifier: Buffer.from(body.fixedOpaque(8))}
  }

  async read(handle: Buffer, offset: bigint, count: number): Promise<{status: number; data?: Buffer; eof?: boolean}> {
    const {status, body} = await this.call(6, (w) => w.opaque(handle).uint64(offset).uint32(count))
    readPostOpAttr(body)
    if (status !== 0) return {status}
    body.uint32()
    const eof = body.bool()
    return {status, eof, data: Buffer.from(body.opaque())}
  }

  async commit(handle: Buffer): Promise<{status: number; verifier?: Buffer}> {
    const {status, body} = await this.call(21, (w) => w.opaque(handle).uint64(0n).uint32(0))
    readWcc(body)
    return status === 0 ? {status, verifier: Buffer.from(body.fixedOpaque(8))} : {status}
  }

  /** READDIR (plus = false) or READDIRPLUS: one reply's entries. */
  async readdir(dir: Buffer, options: {cookie?: bigint; verifier?: Buffer; count?: number; dircount?: number; plus?: boolean} = {}):
  Promise<{status: number; entries: DirEntry3[]; eof: boolean; verifier?: Buffer; size: number}> {
    const plus = options.plus ?? false
    const {status, body} = await this.call(plus ? 17 : 16, (w) => {
      w.opaque(dir).uint64(options.cookie ?? 0n).fixedOpaque(options.verifier ?? Buffer.alloc(8))
      if (plus) w.uint32(options.dircount ?? options.count ?? 8192)
      w.uint32(options.count ?? 8192)
    })
    const start = body.remaining
    readPostOpAttr(body)
    if (status !== 0) return {status, entries: [], eof: false, size: 0}
    const verifier = Buffer.from(body.fixedOpaque(8))
    const entries: DirEntry3[] = []
    while (body.bool()) {
      const entry: DirEntry3 = {fileid: body.uint64(), name: body.string().toString('utf8'), cookie: body.uint64()}
      if (plus) {
        entry.attr = readPostOpAttr(body)
        entry.handle = readPostOpFh(body)
      }
      entries.push(entry)
    }
    const eof = body.bool()
    // + 4 for the status word the resok size includes in zerofs's accounting
    return {status, entries, eof, verifier, size: start - body.remaining + 4}
  }

  /** Every entry of a directory, following cookies. */
  async list(dir: Buffer, plus = false, count = 8192): Promise<DirEntry3[]> {
    const all: DirEntry3[] = []
    let cookie = 0n
    let verifier: Buffer | undefined
    for (;;) {
      const page = await this.readdir(dir, {cookie, verifier, count, plus})
      if (page.status !== 0) throw new Error(`READDIR failed with ${page.status}`)
      all.push(...page.entries)
      if (page.eof) return all
      cookie = page.entries.at(-1)!.cookie
      verifier = page.verifier
    }
  }
}
