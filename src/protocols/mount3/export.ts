import type {ProcedureHandler} from '../rpc/program.js'
import type {Mount3Export} from './context.js'

/*
 * typedef struct groupnode *groups;
 * struct groupnode { name gr_name; groups gr_next; };
 * typedef struct exportnode *exports;
 * struct exportnode { dirpath ex_dir; groups ex_groups; exports ex_next; };
 * exports MOUNTPROC3_EXPORT(void) = 5;
 */
export function exportList(server: Mount3Export): ProcedureHandler {
  return async () => (writer) => {
    writer.bool(true).string('/')
    for (const group of server.groups) writer.bool(true).string(group)
    writer.bool(false)
    writer.bool(false)
  }
}
