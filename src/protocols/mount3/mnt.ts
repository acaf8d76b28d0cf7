import {AUTH_SYS} from '../rpc/constants.js'
import type {ProcedureHandler} from '../rpc/program.js'
import {MNT3_OK, MNT3ERR_INVAL, MNT3ERR_NOTDIR, MNT3ERR_SERVERFAULT} from './constants.js'
import {readDirpath, type Mount3Export} from './context.js'
import {Mount3Error, toMountStat3} from './status.js'

/*
 * typedef opaque fhandle3<FHSIZE3>;
 * struct mountres3_ok { fhandle3 fhandle; int auth_flavors<>; };
 * union mountres3 switch (mountstat3 fhs_status) {
 *   case MNT3_OK: mountres3_ok mountinfo;
 *   default: void;
 * };
 * mountres3 MOUNTPROC3_MNT(dirpath) = 1;
 */

/** `/`, `/a/b`, `a/b/` → `/a/b`. `..` is refused: an export path names a directory, it does not walk. */
export function exportPath(dirpath: string): string {
  const components = dirpath.split('/').filter((component) => component !== '' && component !== '.')
  if (components.includes('..')) throw new Mount3Error(MNT3ERR_INVAL, `'..' in mount path ${dirpath}`)
  return `/${components.join('/')}`
}

/** Everything under the store root is exported: `/` and any directory below it. */
export function mnt(server: Mount3Export): ProcedureHandler {
  return async (call, context) => {
    const dirpath = readDirpath(call.args)
    try {
      const attr = await server.fs.resolve(exportPath(dirpath))
      if (attr.type !== 'dir') throw new Mount3Error(MNT3ERR_NOTDIR, `${dirpath} is not a directory`)
      server.mounts.add(context.remoteAddress, dirpath)
      server.logger.info(`${context.remoteAddress} mounted ${dirpath}`)
      const handle = server.handles.encode(attr)
      return (writer) => {
        writer.uint32(MNT3_OK).opaque(handle)
        writer.uint32(1).uint32(AUTH_SYS)
      }
    } catch (error) {
      const status = toMountStat3(error)
      const why = error instanceof Error ? (status === MNT3ERR_SERVERFAULT ? error.stack : error.message) : String(error)
      server.logger[status === MNT3ERR_SERVERFAULT ? 'error' : 'info'](`refused mount of ${dirpath} by ${context.remoteAddress}: ${why}`)
      return (writer) => writer.uint32(status)
    }
  }
}
