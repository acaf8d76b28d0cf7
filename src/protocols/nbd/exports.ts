import type {BlockDevice} from '../../core/blockdev/types.js'
import {
  NBD_FLAG_CAN_MULTI_CONN, NBD_FLAG_HAS_FLAGS, NBD_FLAG_READ_ONLY, NBD_FLAG_SEND_FLUSH, NBD_FLAG_SEND_FUA,
  NBD_FLAG_SEND_TRIM, NBD_FLAG_SEND_WRITE_ZEROES,
} from './constants.js'

/** The devices a server offers, by export name. */
export type NbdExports = ReadonlyMap<string, BlockDevice>

/**
 * The transmission flags of an export. CAN_MULTI_CONN: every connection to an export shares one
 * device object, whose flush uploads every dirty chunk whichever connection wrote it. A read-only
 * export offers no command that changes it.
 */
export function transmissionFlags(device: BlockDevice): number {
  const common = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_CAN_MULTI_CONN
  if (device.readOnly) return common | NBD_FLAG_READ_ONLY
  return common | NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES
}

/** The export a name selects; the empty name is the default export when there is only one. */
export function findExport(exports: NbdExports, name: string): BlockDevice | undefined {
  if (name === '' && exports.size === 1) return exports.values().next().value
  return exports.get(name)
}
