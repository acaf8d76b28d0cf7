import {isFsError} from '../../core/errors.js'
import type {Attr, Caller, PosixFs} from '../../core/fs/types.js'
import type {RpcLogger} from '../rpc/dispatcher.js'
import type {Squash} from '../rpc/squash.js'
import type {XdrWriter} from '../rpc/xdr.js'
import {writePostOpAttr, writeWccData} from './attributes.js'
import {NFS3ERR_STALE} from './constants.js'
import type {FileHandles} from './file-handle.js'
import {Nfs3Error} from './status.js'

export type Encoder = (writer: XdrWriter) => void

/** What every NFS call of one server shares. */
export interface Nfs3Export {
  fs: PosixFs
  handles: FileHandles
  /** Every mutation answers NFS3ERR_ROFS. */
  readOnly: boolean
  /** writeverf3: new for each server start, so clients re-send UNSTABLE data a restart may have lost. */
  writeVerifier: Buffer
  /** How AUTH_SYS credentials become the caller that permissions are checked for. */
  squash: Squash
  logger: RpcLogger
}

/**
 * One NFS call: resolves handles (remembering the attributes seen, which are the pre-operation
 * attributes of wcc_data) and builds the attribute parts of replies.
 */
export class Nfs3Call {
  private readonly seen = new Map<string, Attr>()

  constructor(readonly server: Nfs3Export, readonly caller: Caller) {}

  get fs(): PosixFs {
    return this.server.fs
  }

  get fsid(): bigint {
    return this.server.handles.fsid
  }

  /** The attributes of the inode a handle names. NFS3ERR_BADHANDLE, or NFS3ERR_STALE when it is gone. */
  async resolve(handle: Buffer): Promise<Attr> {
    const target = this.server.handles.decode(handle)
    let attr: Attr
    try {
      attr = await this.fs.getattr(target.ino)
    } catch (error) {
      if (isFsError(error, 'ENOENT') || isFsError(error, 'ESTALE')) {
        throw new Nfs3Error(NFS3ERR_STALE, `inode ${target.ino} no longer exists`)
      }
      throw error
    }
    if (attr.generation !== target.generation) {
      throw new Nfs3Error(NFS3ERR_STALE, `inode ${target.ino} was reused (generation ${attr.generation}, handle ${target.generation})`)
    }
    this.seen.set(handle.toString('hex'), attr)
    return attr
  }

  handleOf(attr: Attr): Buffer {
    return this.server.handles.encode(attr)
  }

  /** The attributes this call last saw for a handle, if it resolved it. */
  seenAttributes(handle: Buffer): Attr | undefined {
    return this.seen.get(handle.toString('hex'))
  }

  /** Attributes read now, or undefined when they cannot be read (post_op_attr is optional). */
  async currentAttributes(handle: Buffer): Promise<Attr | undefined> {
    try {
      const target = this.server.handles.decode(handle)
      const attr = await this.fs.getattr(target.ino)
      return attr.generation === target.generation ? attr : undefined
    } catch {
      return undefined
    }
  }

  /** A failure body's wcc_data: the attributes seen before the failure, and as they are now. */
  async failureWcc(handle: Buffer): Promise<Encoder> {
    const before = this.seenAttributes(handle)
    const after = await this.currentAttributes(handle)
    return (writer) => writeWccData(writer, before, after, this.fsid)
  }

  /** A failure body's post_op_attr for an object the call did not change. */
  async failureAttributes(handle: Buffer): Promise<Encoder> {
    const attr = this.seenAttributes(handle) ?? (await this.currentAttributes(handle))
    return (writer) => writePostOpAttr(writer, attr, this.fsid)
  }
}
