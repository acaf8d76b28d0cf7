import {randomBytes} from 'node:crypto'

import type {PosixFs} from '../../core/fs/types.js'
import {mount3Program} from '../mount3/program.js'
import {MountList} from '../mount3/mount-list.js'
import {allowList} from '../rpc/allow-list.js'
import type {RpcLogger} from '../rpc/dispatcher.js'
import {RpcServer} from '../rpc/server.js'
import {NO_SQUASH, type Squash} from '../rpc/squash.js'
import {NFS3_WRITEVERFSIZE} from './constants.js'
import {FileHandles} from './file-handle.js'
import {nfs3Program} from './program.js'
import {MAX_TRANSFER} from './transfer-size.js'

export interface NfsServerOptions {
  fs: PosixFs
  /** Identifies the store in file handles and fattr3; must be the same on every start for handles to survive restarts. */
  fsid: bigint
  readOnly?: boolean
  /** CIDRs whose clients may connect; empty or absent: everyone who can reach the listening address. */
  allow?: readonly string[]
  /** How callers' AUTH_SYS ids are mapped (default: trusted as sent). */
  squash?: Squash
  logger: RpcLogger
  /** Calls executing at once per connection (default: the RPC server's). */
  maxInFlight?: number
}

/** RPC headers and WRITE3args around a wtmax-sized payload, with room to spare. */
const MAX_RECORD = MAX_TRANSFER + 64 * 1024

/** One RPC server on one port carrying NFSv3 and MOUNT v3 (so clients need no rpcbind). */
export function createNfsServer(options: NfsServerOptions): RpcServer {
  const handles = new FileHandles(options.fsid)
  const allowed = options.allow ?? []
  const nfs = nfs3Program({
    fs: options.fs,
    handles,
    readOnly: options.readOnly ?? false,
    writeVerifier: randomBytes(NFS3_WRITEVERFSIZE),
    squash: options.squash ?? NO_SQUASH,
    logger: options.logger,
  })
  const mount = mount3Program({fs: options.fs, handles, mounts: new MountList(), groups: [...allowed], logger: options.logger})
  return new RpcServer({
    programs: [nfs, mount],
    logger: options.logger,
    maxRecordSize: MAX_RECORD,
    maxInFlight: options.maxInFlight,
    allow: allowed.length > 0 ? allowList(allowed) : undefined,
  })
}
