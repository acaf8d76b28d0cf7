import type {ProcedureHandler} from '../rpc/program.js'

/*
 * void MOUNTPROC3_NULL(void) = 0;
 */
export const mountNull: ProcedureHandler = async () => () => {}
