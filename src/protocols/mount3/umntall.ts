import type {ProcedureHandler} from '../rpc/program.js'
import type {Mount3Export} from './context.js'

/*
 * void MOUNTPROC3_UMNTALL(void) = 4;
 */
export function umntall(server: Mount3Export): ProcedureHandler {
  return async (_call, context) => {
    server.mounts.removeHost(context.remoteAddress)
    server.logger.info(`${context.remoteAddress} unmounted everything`)
    return () => {}
  }
}
