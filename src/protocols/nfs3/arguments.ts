import {DecodeError, type XdrReader} from '../rpc/xdr.js'
import {NFS3_FHSIZE} from './constants.js'

/*
 * struct nfs_fh3 { opaque data<NFS3_FHSIZE>; };
 * typedef string filename3<>;
 * typedef string nfspath3<>;
 * struct diropargs3 { nfs_fh3 dir; filename3 name; };
 */

export interface DirOpArgs3 {
  dir: Buffer
  name: string
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

export function readFileHandle(reader: XdrReader): Buffer {
  return reader.opaque(NFS3_FHSIZE)
}

/** Names and paths are UTF-8 in zerofs (they become S3 keys); other bytes are refused rather than mangled. */
function readUtf8(reader: XdrReader, what: string): string {
  const bytes = reader.string()
  try {
    return utf8.decode(bytes)
  } catch {
    throw new DecodeError(`${what} is not valid UTF-8`)
  }
}

export function readFilename(reader: XdrReader): string {
  return readUtf8(reader, 'filename3')
}

export function readPath(reader: XdrReader): string {
  return readUtf8(reader, 'nfspath3')
}

export function readDirOpArgs(reader: XdrReader): DirOpArgs3 {
  return {dir: readFileHandle(reader), name: readFilename(reader)}
}
