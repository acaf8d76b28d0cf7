import type {ProcedureHandler} from '../rpc/program.js'
import {readDirpath, type Mount3Export} from './context.js'

/*
 * void MOUNTPROC3_UMNT(dirpath) = 3;
 */
export function umnt(server: Mount3Export): ProcedureHandler {
  return async (call, context) => {
    const dirpath = readDirpath(call.args)
    server.mounts.remove(context.remoteAddress, dirpath)
    server.logger.info(`${context.remoteAddress} unmounted ${dirpath}`)
    return () => {}
  }
}
