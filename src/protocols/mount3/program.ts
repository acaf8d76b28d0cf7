import type {ProcedureHandler, RpcProgram} from '../rpc/program.js'
import {
  MOUNT_PROGRAM, MOUNT_V3, MOUNTPROC3_DUMP, MOUNTPROC3_EXPORT, MOUNTPROC3_MNT, MOUNTPROC3_NULL, MOUNTPROC3_UMNT,
  MOUNTPROC3_UMNTALL,
} from './constants.js'
import type {Mount3Export} from './context.js'
import {dump} from './dump.js'
import {exportList} from './export.js'
import {mnt} from './mnt.js'
import {mountNull} from './null.js'
import {umnt} from './umnt.js'
import {umntall} from './umntall.js'

/** MOUNT v3, procedures in RFC 1813 appendix I order. */
export function mount3Program(server: Mount3Export): RpcProgram {
  const handlers: ProcedureHandler[] = []
  handlers[MOUNTPROC3_NULL] = mountNull
  handlers[MOUNTPROC3_MNT] = mnt(server)
  handlers[MOUNTPROC3_DUMP] = dump(server)
  handlers[MOUNTPROC3_UMNT] = umnt(server)
  handlers[MOUNTPROC3_UMNTALL] = umntall(server)
  handlers[MOUNTPROC3_EXPORT] = exportList(server)
  return {name: 'MOUNT', prog: MOUNT_PROGRAM, versions: new Map([[MOUNT_V3, handlers]])}
}
