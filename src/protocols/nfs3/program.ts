import type {ProcedureHandler, RpcProgram} from '../rpc/program.js'
import {access} from './access.js'
import type {Nfs3Export} from './call.js'
import {commit} from './commit.js'
import {
  NFS_PROGRAM, NFS_V3, NFSPROC3_ACCESS, NFSPROC3_COMMIT, NFSPROC3_CREATE, NFSPROC3_FSINFO, NFSPROC3_FSSTAT,
  NFSPROC3_GETATTR, NFSPROC3_LINK, NFSPROC3_LOOKUP, NFSPROC3_MKDIR, NFSPROC3_MKNOD, NFSPROC3_NULL,
  NFSPROC3_PATHCONF, NFSPROC3_READ, NFSPROC3_READDIR, NFSPROC3_READDIRPLUS, NFSPROC3_READLINK,
  NFSPROC3_REMOVE, NFSPROC3_RENAME, NFSPROC3_RMDIR, NFSPROC3_SETATTR, NFSPROC3_SYMLINK, NFSPROC3_WRITE,
} from './constants.js'
import {create} from './create.js'
import {fsinfo} from './fsinfo.js'
import {fsstat} from './fsstat.js'
import {getattr} from './getattr.js'
import {link} from './link.js'
import {lookup} from './lookup.js'
import {mkdir} from './mkdir.js'
import {mknod} from './mknod.js'
import {nullProcedure} from './null.js'
import {pathconf} from './pathconf.js'
import {nfs3Handler, type Nfs3Procedure} from './procedure.js'
import {read} from './read.js'
import {readdir} from './readdir.js'
import {readdirplus} from './readdirplus.js'
import {readlink} from './readlink.js'
import {remove} from './remove.js'
import {rename} from './rename.js'
import {rmdir} from './rmdir.js'
import {setattr} from './setattr.js'
import {symlink} from './symlink.js'
import {write} from './write.js'

/** Every NFSv3 procedure after NULL, in RFC 1813 order. */
const procedures: ReadonlyArray<readonly [number, Nfs3Procedure<unknown>]> = [
  [NFSPROC3_GETATTR, getattr],
  [NFSPROC3_SETATTR, setattr],
  [NFSPROC3_LOOKUP, lookup],
  [NFSPROC3_ACCESS, access],
  [NFSPROC3_READLINK, readlink],
  [NFSPROC3_READ, read],
  [NFSPROC3_WRITE, write],
  [NFSPROC3_CREATE, create],
  [NFSPROC3_MKDIR, mkdir],
  [NFSPROC3_SYMLINK, symlink],
  [NFSPROC3_MKNOD, mknod],
  [NFSPROC3_REMOVE, remove],
  [NFSPROC3_RMDIR, rmdir],
  [NFSPROC3_RENAME, rename],
  [NFSPROC3_LINK, link],
  [NFSPROC3_READDIR, readdir],
  [NFSPROC3_READDIRPLUS, readdirplus],
  [NFSPROC3_FSSTAT, fsstat],
  [NFSPROC3_FSINFO, fsinfo],
  [NFSPROC3_PATHCONF, pathconf],
  [NFSPROC3_COMMIT, commit],
]

export function nfs3Program(server: Nfs3Export): RpcProgram {
  const handlers: ProcedureHandler[] = []
  handlers[NFSPROC3_NULL] = nullProcedure
  for (const [proc, procedure] of procedures) handlers[proc] = nfs3Handler(procedure, server)
  return {name: 'NFS', prog: NFS_PROGRAM, versions: new Map([[NFS_V3, handlers]])}
}
