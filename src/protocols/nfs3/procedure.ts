import type {ProcedureHandler} from '../rpc/program.js'
import {callerOf} from '../rpc/squash.js'
import type {XdrReader} from '../rpc/xdr.js'
import {Nfs3Call, type Encoder, type Nfs3Export} from './call.js'
import {NFS3_OK, NFS3ERR_ROFS, NFS3ERR_SERVERFAULT} from './constants.js'
import {Nfs3Error, toNfsStat3} from './status.js'

/**
 * One NFSv3 procedure whose result is `union XXX3res switch (nfsstat3 status)`: validate (decode),
 * execute, encode. Procedures throw FsError or Nfs3Error; `nfs3Handler` writes every reply.
 */
export interface Nfs3Procedure<Args> {
  readonly name: string
  /** Changes the filesystem: refused with NFS3ERR_ROFS on a read-only export. */
  readonly mutates: boolean
  /** Throws DecodeError on malformed arguments (the RPC layer answers GARBAGE_ARGS). */
  decode(reader: XdrReader): Args
  /** Returns the encoder of the resok body. */
  execute(args: Args, call: Nfs3Call): Promise<Encoder>
  /** Returns the encoder of the resfail body (wcc data, post-op attributes), whatever failed. */
  failure(args: Args, call: Nfs3Call): Promise<Encoder>
}

const noBody: Encoder = () => {}

/** For procedures whose failure arm is void (GETATTR). */
export async function voidFailure(): Promise<Encoder> {
  return noBody
}

/** The single dispatcher: the status, then the resok or resfail body; bugs become NFS3ERR_SERVERFAULT. */
export function nfs3Handler<Args>(procedure: Nfs3Procedure<Args>, server: Nfs3Export): ProcedureHandler {
  return async (rpcCall) => {
    const args = procedure.decode(rpcCall.args)
    const call = new Nfs3Call(server, callerOf(rpcCall.credentials, server.squash))
    try {
      if (procedure.mutates && server.readOnly) throw new Nfs3Error(NFS3ERR_ROFS, 'read-only export')
      const body = await procedure.execute(args, call)
      return (writer) => {
        writer.uint32(NFS3_OK)
        body(writer)
      }
    } catch (error) {
      const status = toNfsStat3(error)
      if (status === NFS3ERR_SERVERFAULT) {
        server.logger.error(`xid ${rpcCall.xid} ${procedure.name}: ${error instanceof Error ? error.stack : String(error)}`)
      } else {
        server.logger.debug(`xid ${rpcCall.xid} ${procedure.name}: status ${status}: ${error instanceof Error ? error.message : String(error)}`)
      }
      const body = await procedure.failure(args, call)
      return (writer) => {
        writer.uint32(status)
        body(writer)
      }
    }
  }
}
