import type {ProcedureHandler} from '../rpc/program.js'

/*
 * void PMAPPROC_NULL(void) = 0;
 */
export const pmapNull: ProcedureHandler = async () => () => {}
