import {NBD_REQUEST_MAGIC, NBD_SIMPLE_REPLY_MAGIC, NBD_SIMPLE_REPLY_SIZE} from './constants.js'
import {Cursor} from './cursor.js'
import {NbdDecodeError} from './decode-error.js'

/**
 * A transmission request and its simple reply.
 *
 *   C: 32 bits 0x25609513, 16 bits command flags, 16 bits type, 64 bits handle, 64 bits offset,
 *      32 bits length (then `length` bytes of data for NBD_CMD_WRITE)
 *   S: 32 bits 0x67446698, 32 bits error, 64 bits handle (then the data of a successful NBD_CMD_READ)
 */
export interface NbdRequest {
  flags: number
  type: number
  /** Opaque to the server: echoed in the reply. */
  handle: Buffer
  offset: bigint
  length: number
}

export function decodeRequest(bytes: Buffer): NbdRequest {
  const cursor = new Cursor(bytes)
  const magic = cursor.u32()
  if (magic !== NBD_REQUEST_MAGIC) throw new NbdDecodeError(`request magic 0x${magic.toString(16)} is not 0x25609513`)
  const flags = cursor.u16()
  const type = cursor.u16()
  const handle = Buffer.from(cursor.bytes(8))
  const offset = cursor.u64()
  const length = cursor.u32()
  cursor.end('request')
  return {flags, type, handle, offset, length}
}

export function simpleReplyHeader(handle: Buffer, error: number): Buffer {
  const header = Buffer.alloc(NBD_SIMPLE_REPLY_SIZE)
  header.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, 0)
  header.writeUInt32BE(error, 4)
  handle.copy(header, 8)
  return header
}
