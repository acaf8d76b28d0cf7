import type {PosixFs} from '../../core/fs/types.js'
import type {FileHandles} from '../nfs3/file-handle.js'
import type {RpcLogger} from '../rpc/dispatcher.js'
import {DecodeError, type XdrReader} from '../rpc/xdr.js'
import {MNTPATHLEN} from './constants.js'
import type {MountList} from './mount-list.js'

/** What every MOUNT call shares with the NFS program it hands handles to. */
export interface Mount3Export {
  fs: PosixFs
  handles: FileHandles
  mounts: MountList
  /** The groups EXPORT shows for `/`: the --allow CIDRs; empty means everyone. */
  groups: string[]
  logger: RpcLogger
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

/** typedef string dirpath<MNTPATHLEN>; */
export function readDirpath(reader: XdrReader): string {
  try {
    return utf8.decode(reader.string(MNTPATHLEN))
  } catch (error) {
    if (error instanceof DecodeError) throw error
    throw new DecodeError('dirpath is not valid UTF-8')
  }
}
