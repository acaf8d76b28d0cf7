import type {ProcedureHandler} from '../rpc/program.js'

/*
 * void NFSPROC3_NULL(void) = 0;
 */
export const nullProcedure: ProcedureHandler = async () => () => {}
