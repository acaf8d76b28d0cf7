import {
  IHAVEOPT, MAX_OPTION_LENGTH, NBD_INFO_BLOCK_SIZE, NBD_INFO_EXPORT, NBD_REP_MAGIC,
} from './constants.js'
import {Cursor} from './cursor.js'
import {NbdDecodeError} from './decode-error.js'

/**
 * The option haggling messages of the fixed newstyle handshake.
 *
 *   C: 64 bits 0x49484156454F5054 ('IHAVEOPT'), 32 bits option, 32 bits length, data
 *   S: 64 bits 0x3e889045565a9, 32 bits option, 32 bits reply type, 32 bits length, data
 */

export const OPTION_HEADER_SIZE = 16

export interface OptionHeader {
  option: number
  length: number
}

export function decodeOptionHeader(bytes: Buffer): OptionHeader {
  const cursor = new Cursor(bytes)
  const magic = cursor.u64()
  if (magic !== IHAVEOPT) throw new NbdDecodeError(`option magic 0x${magic.toString(16)} is not IHAVEOPT`)
  const option = cursor.u32()
  const length = cursor.u32()
  cursor.end('option header')
  if (length > MAX_OPTION_LENGTH) throw new NbdDecodeError(`option ${option} carries ${length} bytes, more than ${MAX_OPTION_LENGTH}`)
  return {option, length}
}

/**
 * NBD_OPT_INFO and NBD_OPT_GO data:
 *   32 bits length of name, name, 16 bits number of information requests, 16 bits type each
 */
export interface InfoRequest {
  name: string
  requests: number[]
}

export function decodeInfoRequest(data: Buffer): InfoRequest {
  const cursor = new Cursor(data)
  const name = decodeName(cursor.bytes(cursor.u32()))
  const count = cursor.u16()
  const requests = Array.from({length: count}, () => cursor.u16())
  cursor.end('information request')
  return {name, requests}
}

/** An export name: UTF-8 without NUL (the spec forbids NUL in strings). */
export function decodeName(bytes: Buffer): string {
  if (bytes.includes(0)) throw new NbdDecodeError('an export name contains NUL')
  return bytes.toString('utf8')
}

export function optionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(20)
  header.writeBigUInt64BE(NBD_REP_MAGIC, 0)
  header.writeUInt32BE(option, 8)
  header.writeUInt32BE(type, 12)
  header.writeUInt32BE(data.length, 16)
  return Buffer.concat([header, data])
}

/** NBD_REP_SERVER data: 32 bits length of name, name. */
export function serverEntry(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8')
  const data = Buffer.alloc(4 + bytes.length)
  data.writeUInt32BE(bytes.length, 0)
  bytes.copy(data, 4)
  return data
}

/** NBD_INFO_EXPORT: 16 bits type, 64 bits size, 16 bits transmission flags. */
export function infoExport(size: number, flags: number): Buffer {
  const data = Buffer.alloc(12)
  data.writeUInt16BE(NBD_INFO_EXPORT, 0)
  data.writeBigUInt64BE(BigInt(size), 2)
  data.writeUInt16BE(flags, 10)
  return data
}

/** NBD_INFO_BLOCK_SIZE: 16 bits type, 32 bits minimum, preferred and maximum block size. */
export function infoBlockSize(minimum: number, preferred: number, maximum: number): Buffer {
  const data = Buffer.alloc(14)
  data.writeUInt16BE(NBD_INFO_BLOCK_SIZE, 0)
  data.writeUInt32BE(minimum, 2)
  data.writeUInt32BE(preferred, 6)
  data.writeUInt32BE(maximum, 10)
  return data
}

/** The reply to NBD_OPT_EXPORT_NAME: 64 bits size, 16 bits transmission flags, 124 zero bytes unless NO_ZEROES. */
export function exportNameReply(size: number, flags: number, padding: number): Buffer {
  const data = Buffer.alloc(10 + padding)
  data.writeBigUInt64BE(BigInt(size), 0)
  data.writeUInt16BE(flags, 8)
  return data
}
