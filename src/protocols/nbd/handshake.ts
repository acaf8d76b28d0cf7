import type {BlockDevice} from '../../core/blockdev/types.js'
import type {Logger} from '../../core/logger.js'
import {
  EXPORT_NAME_PADDING, IHAVEOPT, MAX_PAYLOAD, MIN_BLOCK_SIZE, NBD_FLAG_C_FIXED_NEWSTYLE, NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE, NBD_FLAG_NO_ZEROES, NBD_OPT_ABORT, NBD_OPT_EXPORT_NAME, NBD_OPT_GO, NBD_OPT_INFO,
  NBD_OPT_LIST, NBD_REP_ACK, NBD_REP_ERR_INVALID, NBD_REP_ERR_UNKNOWN, NBD_REP_ERR_UNSUP, NBD_REP_INFO,
  NBD_REP_SERVER, NBDMAGIC, PREFERRED_BLOCK_SIZE,
} from './constants.js'
import {NbdDecodeError} from './decode-error.js'
import {findExport, transmissionFlags, type NbdExports} from './exports.js'
import {
  decodeInfoRequest, decodeName, decodeOptionHeader, exportNameReply, infoBlockSize, infoExport, OPTION_HEADER_SIZE,
  optionReply, serverEntry, type InfoRequest,
} from './options.js'
import type {StreamReader} from './stream-reader.js'

const KNOWN_CLIENT_FLAGS = NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES

/**
 * The fixed newstyle handshake, up to the start of transmission: the greeting, the client flags,
 * then options until NBD_OPT_EXPORT_NAME or a successful NBD_OPT_GO picks a device. Resolves with
 * that device, or undefined when the client aborts; malformed input throws NbdDecodeError.
 */
export async function negotiate(reader: StreamReader, send: (bytes: Buffer) => void, exports: NbdExports, logger: Logger): Promise<BlockDevice | undefined> {
  const greeting = Buffer.alloc(18)
  greeting.writeBigUInt64BE(NBDMAGIC, 0)
  greeting.writeBigUInt64BE(IHAVEOPT, 8)
  greeting.writeUInt16BE(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES, 16)
  send(greeting)
  const clientFlags = (await reader.read(4)).readUInt32BE(0)
  if ((clientFlags & ~KNOWN_CLIENT_FLAGS) !== 0) throw new NbdDecodeError(`unknown client flags 0x${clientFlags.toString(16)}`)
  const noZeroes = (clientFlags & NBD_FLAG_C_NO_ZEROES) !== 0

  for (;;) {
    const {option, length} = decodeOptionHeader(await reader.read(OPTION_HEADER_SIZE))
    const data = await reader.read(length)
    logger.debug('nbd option', {option, length})
    switch (option) {
      case NBD_OPT_EXPORT_NAME: {
        const device = findExport(exports, decodeName(data))
        // The spec's only answer to an unknown name here is to close the connection.
        if (device === undefined) throw new NbdDecodeError(`NBD_OPT_EXPORT_NAME of an unknown export ${JSON.stringify(data.toString('utf8'))}`)
        send(exportNameReply(device.size, transmissionFlags(device), noZeroes ? 0 : EXPORT_NAME_PADDING))
        return device
      }
      case NBD_OPT_ABORT:
        send(optionReply(option, NBD_REP_ACK))
        return undefined
      case NBD_OPT_LIST:
        if (length !== 0) {
          send(optionReply(option, NBD_REP_ERR_INVALID))
          break
        }
        for (const name of exports.keys()) send(optionReply(option, NBD_REP_SERVER, serverEntry(name)))
        send(optionReply(option, NBD_REP_ACK))
        break
      case NBD_OPT_INFO:
      case NBD_OPT_GO: {
        const device = answerInfo(option, data, exports, send)
        if (device !== undefined && option === NBD_OPT_GO) return device
        break
      }
      default:
        send(optionReply(option, NBD_REP_ERR_UNSUP))
    }
  }
}

/** NBD_OPT_INFO and NBD_OPT_GO: the export's size, flags and block sizes, then ACK; the device on success. */
function answerInfo(option: number, data: Buffer, exports: NbdExports, send: (bytes: Buffer) => void): BlockDevice | undefined {
  let request: InfoRequest
  try {
    request = decodeInfoRequest(data)
  } catch (error) {
    if (!(error instanceof NbdDecodeError)) throw error
    send(optionReply(option, NBD_REP_ERR_INVALID))
    return undefined
  }
  const device = findExport(exports, request.name)
  if (device === undefined) {
    send(optionReply(option, NBD_REP_ERR_UNKNOWN))
    return undefined
  }
  send(optionReply(option, NBD_REP_INFO, infoExport(device.size, transmissionFlags(device))))
  send(optionReply(option, NBD_REP_INFO, infoBlockSize(MIN_BLOCK_SIZE, PREFERRED_BLOCK_SIZE, MAX_PAYLOAD)))
  send(optionReply(option, NBD_REP_ACK))
  return device
}
