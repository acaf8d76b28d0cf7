import type {ProcedureHandler} from '../rpc/program.js'
import type {PortmapContext} from './context.js'
import {readMapping} from './mapping.js'

/*
 * bool PMAPPROC_SET(mapping) = 1;
 * bool PMAPPROC_UNSET(mapping) = 2;
 */

/**
 * SET and UNSET answer FALSE: the table describes this server only, and no client may register
 * programs in it or remove zerofs's own.
 */
export function refuseRegistration(server: PortmapContext, what: 'SET' | 'UNSET'): ProcedureHandler {
  return async (call, context) => {
    const mapping = readMapping(call.args)
    server.logger.info(`refused portmap ${what} of program ${mapping.prog} v${mapping.vers} from ${context.remoteAddress}`)
    return (writer) => writer.bool(false)
  }
}
