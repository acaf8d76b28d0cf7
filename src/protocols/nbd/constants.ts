/**
 * Wire constants of the NBD protocol, with the values and names of the spec (NetworkBlockDevice/nbd
 * doc/proto.md). Every number is sent in network byte order.
 */

// Handshake magics
export const NBDMAGIC = 0x4e42444d41474943n // 'NBDMAGIC'
export const IHAVEOPT = 0x49484156454f5054n // 'IHAVEOPT'
export const NBD_REP_MAGIC = 0x0003e889045565a9n

// Handshake flags (server) and client flags
export const NBD_FLAG_FIXED_NEWSTYLE = 1 << 0
export const NBD_FLAG_NO_ZEROES = 1 << 1
export const NBD_FLAG_C_FIXED_NEWSTYLE = 1 << 0
export const NBD_FLAG_C_NO_ZEROES = 1 << 1

// Transmission flags
export const NBD_FLAG_HAS_FLAGS = 1 << 0
export const NBD_FLAG_READ_ONLY = 1 << 1
export const NBD_FLAG_SEND_FLUSH = 1 << 2
export const NBD_FLAG_SEND_FUA = 1 << 3
export const NBD_FLAG_SEND_TRIM = 1 << 5
export const NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6
export const NBD_FLAG_CAN_MULTI_CONN = 1 << 8

// Options
export const NBD_OPT_EXPORT_NAME = 1
export const NBD_OPT_ABORT = 2
export const NBD_OPT_LIST = 3
export const NBD_OPT_INFO = 6
export const NBD_OPT_GO = 7

// Option reply types
export const NBD_REP_ACK = 1
export const NBD_REP_SERVER = 2
export const NBD_REP_INFO = 3
const NBD_REP_FLAG_ERROR = 2 ** 31
export const NBD_REP_ERR_UNSUP = NBD_REP_FLAG_ERROR + 1
export const NBD_REP_ERR_INVALID = NBD_REP_FLAG_ERROR + 3
export const NBD_REP_ERR_UNKNOWN = NBD_REP_FLAG_ERROR + 6

// Information types of NBD_REP_INFO
export const NBD_INFO_EXPORT = 0
export const NBD_INFO_BLOCK_SIZE = 3

// Transmission
export const NBD_REQUEST_MAGIC = 0x25609513
export const NBD_SIMPLE_REPLY_MAGIC = 0x67446698
export const NBD_REQUEST_SIZE = 28
export const NBD_SIMPLE_REPLY_SIZE = 16

// Command types
export const NBD_CMD_READ = 0
export const NBD_CMD_WRITE = 1
export const NBD_CMD_DISC = 2
export const NBD_CMD_FLUSH = 3
export const NBD_CMD_TRIM = 4
export const NBD_CMD_WRITE_ZEROES = 6

// Command flags
export const NBD_CMD_FLAG_FUA = 1 << 0
export const NBD_CMD_FLAG_NO_HOLE = 1 << 1

// Error values of a reply
export const NBD_EPERM = 1
export const NBD_EIO = 5
export const NBD_ENOMEM = 12
export const NBD_EINVAL = 22
export const NBD_ENOSPC = 28
export const NBD_EOVERFLOW = 75
export const NBD_ENOTSUP = 95
export const NBD_ESHUTDOWN = 108

// The limits of this server
/** Zero bytes after the NBD_OPT_EXPORT_NAME reply, unless the client set NBD_FLAG_C_NO_ZEROES. */
export const EXPORT_NAME_PADDING = 124
/** The largest option payload read; names are at most 4096 bytes. */
export const MAX_OPTION_LENGTH = 64 * 1024
export const MIN_BLOCK_SIZE = 1
export const PREFERRED_BLOCK_SIZE = 4096
/** The largest READ or WRITE served (NBD_INFO_BLOCK_SIZE's maximum payload). */
export const MAX_PAYLOAD = 32 * 1024 * 1024
