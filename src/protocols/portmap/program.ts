import type {ProcedureHandler, RpcProgram} from '../rpc/program.js'
import {PMAP_PROG, PMAP_VERS, PMAPPROC_DUMP, PMAPPROC_GETPORT, PMAPPROC_NULL, PMAPPROC_SET, PMAPPROC_UNSET} from './constants.js'
import type {PortmapContext} from './context.js'
import {dump} from './dump.js'
import {getport} from './getport.js'
import {pmapNull} from './null.js'
import {refuseRegistration} from './set.js'

/**
 * PMAP v2 in RFC 1833 order. CALLIT (5) is left out and answers PROC_UNAVAIL: forwarding calls to
 * other programs is an amplifier for spoofed UDP, and nothing zerofs serves needs it.
 */
export function portmapProgram(server: PortmapContext): RpcProgram {
  const handlers: ProcedureHandler[] = []
  handlers[PMAPPROC_NULL] = pmapNull
  handlers[PMAPPROC_SET] = refuseRegistration(server, 'SET')
  handlers[PMAPPROC_UNSET] = refuseRegistration(server, 'UNSET')
  handlers[PMAPPROC_GETPORT] = getport(server)
  handlers[PMAPPROC_DUMP] = dump(server)
  return {name: 'PORTMAP', prog: PMAP_PROG, versions: new Map([[PMAP_VERS, handlers]])}
}
