import type {ProcedureHandler} from '../rpc/program.js'
import type {PortmapContext} from './context.js'
import {portOf, readMapping} from './mapping.js'

/*
 * unsigned int PMAPPROC_GETPORT(mapping) = 3;
 * (the port field of the argument is ignored; 0 means "not registered")
 */
export function getport(server: PortmapContext): ProcedureHandler {
  return async (call) => {
    const port = portOf(server.mappings, readMapping(call.args))
    return (writer) => writer.uint32(port)
  }
}
