import type {BlockDevice} from '../../core/blockdev/types.js'
import {fsError} from '../../core/errors.js'
import {
  MAX_PAYLOAD, NBD_CMD_FLAG_FUA, NBD_CMD_FLAG_NO_HOLE, NBD_CMD_FLUSH, NBD_CMD_READ, NBD_CMD_TRIM, NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
} from './constants.js'
import type {NbdRequest} from './request.js'

/** Where READ data is read into: buffers of a request's length, given back once they are sent. */
export interface ReadBuffers {
  take(length: number): Buffer
  give(buffer: Buffer): void
}

/**
 * The data commands: validate, then execute on the device. A result is the READ data (a buffer
 * taken from `buffers`), or nothing; a failure is an FsError (EINVAL for a bad request) that the
 * caller maps with toNbdError.
 */
export async function execute(device: BlockDevice, request: NbdRequest, payload: Buffer | undefined, buffers: ReadBuffers): Promise<Buffer | undefined> {
  const range = validate(device, request)
  switch (request.type) {
    case NBD_CMD_READ: {
      const data = buffers.take(range.length)
      try {
        await device.readInto(range.offset, data)
      } catch (error) {
        buffers.give(data)
        throw error
      }
      return data
    }
    case NBD_CMD_WRITE:
      await device.write(range.offset, payload!)
      break
    case NBD_CMD_FLUSH:
      await device.flush()
      return undefined
    case NBD_CMD_TRIM:
      await device.trim(range.offset, range.length)
      break
    case NBD_CMD_WRITE_ZEROES:
      await device.zero(range.offset, range.length, {noHole: (request.flags & NBD_CMD_FLAG_NO_HOLE) !== 0})
      break
    default:
      throw fsError('EINVAL', 'nbd', device.name, {detail: `unknown command ${request.type}`})
  }
  if ((request.flags & NBD_CMD_FLAG_FUA) !== 0) await device.flush(range)
  return undefined
}

/** The request's byte range, checked against the device (FLUSH has none: offset and length 0). */
function validate(device: BlockDevice, request: NbdRequest): {offset: number; length: number} {
  if (request.type === NBD_CMD_FLUSH) return {offset: 0, length: 0}
  if (device.readOnly && (request.type === NBD_CMD_WRITE || request.type === NBD_CMD_TRIM || request.type === NBD_CMD_WRITE_ZEROES)) {
    throw fsError('EROFS', 'nbd', device.name, {detail: 'the export is read-only'})
  }
  if ((request.type === NBD_CMD_READ || request.type === NBD_CMD_WRITE) && request.length > MAX_PAYLOAD) {
    throw fsError('EINVAL', 'nbd', device.name, {detail: `${request.length} bytes is more than the maximum ${MAX_PAYLOAD}`})
  }
  if (request.offset + BigInt(request.length) > BigInt(device.size)) {
    throw fsError('EINVAL', 'nbd', device.name, {detail: `bytes ${request.offset}+${request.length} are beyond the device's ${device.size}`})
  }
  return {offset: Number(request.offset), length: request.length}
}
