import type {ProcedureHandler} from '../rpc/program.js'
import type {PortmapContext} from './context.js'
import {writeMapping} from './mapping.js'

/*
 * struct *pmaplist { mapping map; pmaplist next; };
 * pmaplist PMAPPROC_DUMP(void) = 4;
 */
export function dump(server: PortmapContext): ProcedureHandler {
  return async () => (writer) => {
    for (const mapping of server.mappings) {
      writer.bool(true)
      writeMapping(writer, mapping)
    }
    writer.bool(false)
  }
}
