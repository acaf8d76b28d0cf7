import type {RpcCall} from './message.js'
import type {XdrWriter} from './xdr.js'

/** Where a call came from; handlers use it for export rules and logs. */
export interface CallContext {
  remoteAddress: string
  remotePort: number
}

/** Validates and executes a call, then returns the encoder of its results (validate → execute → encode). */
export type ProcedureHandler = (call: RpcCall, context: CallContext) => Promise<(writer: XdrWriter) => void>

/** One RPC program: its number and, per version, its procedures indexed by procedure number. */
export interface RpcProgram {
  name: string
  prog: number
  versions: ReadonlyMap<number, ReadonlyArray<ProcedureHandler | undefined>>
}
