import {GARBAGE_ARGS, PROC_UNAVAIL, PROG_UNAVAIL, SYSTEM_ERR} from './constants.js'
import {
  CallRejected, decodeCall, encodeAcceptError, encodeProgMismatch, encodeSuccess, type RpcCall,
} from './message.js'
import type {CallContext, RpcProgram} from './program.js'
import {DecodeError} from './xdr.js'

export interface RpcLogger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/**
 * Turns one RPC message into one reply, whatever the transport: decode the call, find the program,
 * version and procedure, run it, and encode the reply or the RPC error. The one place where a
 * failing handler becomes SYSTEM_ERR and malformed arguments GARBAGE_ARGS.
 */
export class RpcDispatcher {
  constructor(private readonly programs: readonly RpcProgram[], private readonly logger: RpcLogger) {}

  /**
   * The reply as pieces to send in order (see encodeSuccess). Never throws. 'drop' when the message is
   * not a call at all (a stream transport then closes).
   */
  async dispatch(message: Buffer, context: CallContext): Promise<Buffer[] | 'drop'> {
    const reply = await this.reply(message, context)
    return Buffer.isBuffer(reply) ? [reply] : reply
  }

  private async reply(message: Buffer, context: CallContext): Promise<Buffer | Buffer[] | 'drop'> {
    const {logger} = this
    const peer = `${context.remoteAddress}:${context.remotePort}`
    let call: RpcCall
    try {
      call = decodeCall(message)
    } catch (error) {
      if (error instanceof CallRejected) {
        logger.debug(`xid ${error.xid} from ${peer} rejected: ${error.message}`)
        return error.reply
      }
      logger.warn(`unusable message from ${peer}: ${error instanceof Error ? error.message : String(error)}`)
      return 'drop'
    }
    const program = this.programs.find((candidate) => candidate.prog === call.prog)
    if (!program) return encodeAcceptError(call.xid, PROG_UNAVAIL)
    const procedures = program.versions.get(call.vers)
    if (!procedures) {
      const versions = [...program.versions.keys()]
      return encodeProgMismatch(call.xid, Math.min(...versions), Math.max(...versions))
    }
    const handler = procedures[call.proc]
    if (!handler) return encodeAcceptError(call.xid, PROC_UNAVAIL)
    logger.debug(`xid ${call.xid} ${program.name} v${call.vers} proc ${call.proc} from ${peer}`)
    try {
      const encode = await handler(call, context)
      return encodeSuccess(call.xid, encode)
    } catch (error) {
      if (error instanceof DecodeError) {
        logger.debug(`xid ${call.xid}: garbage arguments: ${error.message}`)
        return encodeAcceptError(call.xid, GARBAGE_ARGS)
      }
      logger.error(`xid ${call.xid} ${program.name} proc ${call.proc} failed: ${error instanceof Error ? error.stack : String(error)}`)
      return encodeAcceptError(call.xid, SYSTEM_ERR)
    }
  }
}
