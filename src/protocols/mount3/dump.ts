import type {ProcedureHandler} from '../rpc/program.js'
import type {Mount3Export} from './context.js'

/*
 * typedef struct mountbody *mountlist;
 * struct mountbody { name ml_hostname; dirpath ml_directory; mountlist ml_next; };
 * mountlist MOUNTPROC3_DUMP(void) = 2;
 */
export function dump(server: Mount3Export): ProcedureHandler {
  return async () => {
    const entries = server.mounts.list()
    return (writer) => {
      for (const entry of entries) writer.bool(true).string(entry.host).string(entry.directory)
      writer.bool(false)
    }
  }
}
