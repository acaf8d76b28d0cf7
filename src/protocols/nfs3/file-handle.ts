import type {Attr, Ino} from '../../core/fs/types.js'
import {XdrWriter} from '../rpc/xdr.js'
import {NFS3ERR_BADHANDLE, NFS3ERR_STALE} from './constants.js'
import {Nfs3Error} from './status.js'

/*
 * struct nfs_fh3 { opaque data<NFS3_FHSIZE>; };
 *
 * zerofs's handle, 24 bytes, all big-endian:
 *   0  uint32  magic 'ZF', format version 1, reserved 0
 *   4  uint64  fsid: identifies the store, so a handle from another export is stale, not misread
 *  12  uint64  inode number (stable across restarts and renames: the metadata cache keeps it)
 *  20  uint32  generation (changes when an inode number is reused)
 */

const MAGIC = 0x5a460100
export const FILE_HANDLE_SIZE = 24

export interface HandleTarget {
  ino: Ino
  generation: number
}

const INO_OFFSET = 12

export class FileHandles {
  /** Magic and fsid, the same in every handle (READDIRPLUS encodes one per entry). */
  private readonly prefix: Buffer

  constructor(readonly fsid: bigint) {
    this.prefix = Buffer.alloc(INO_OFFSET)
    this.prefix.writeUInt32BE(MAGIC, 0)
    this.prefix.writeBigUInt64BE(BigInt.asUintN(64, fsid), 4)
  }

  encode(target: Pick<Attr, 'ino' | 'generation'>): Buffer {
    const writer = new XdrWriter(4 + FILE_HANDLE_SIZE)
    this.write(writer, target)
    return writer.toBuffer().subarray(4)
  }

  /** The handle as an nfs_fh3 straight into a reply (READDIRPLUS writes one per entry). */
  write(writer: XdrWriter, target: Pick<Attr, 'ino' | 'generation'>): void {
    writer.uint32(FILE_HANDLE_SIZE).fixedOpaque(this.prefix).uint64(target.ino).uint32(target.generation)
  }

  /** Malformed → NFS3ERR_BADHANDLE; another filesystem's handle → NFS3ERR_STALE. */
  decode(handle: Buffer): HandleTarget {
    if (handle.length !== FILE_HANDLE_SIZE || handle.readUInt32BE(0) !== MAGIC) {
      throw new Nfs3Error(NFS3ERR_BADHANDLE, `malformed file handle of ${handle.length} bytes`)
    }
    if (handle.readBigUInt64BE(4) !== BigInt.asUintN(64, this.fsid)) {
      throw new Nfs3Error(NFS3ERR_STALE, 'file handle of another filesystem')
    }
    return {ino: handle.readBigUInt64BE(INO_OFFSET), generation: handle.readUInt32BE(INO_OFFSET + 8)}
  }
}
