import {isFsError} from '../../core/errors.js'
import {NBD_EINVAL, NBD_EIO, NBD_ENOMEM, NBD_ENOSPC, NBD_ENOTSUP, NBD_EOVERFLOW, NBD_EPERM} from './constants.js'

/** The one map from the core's errno to the error field of an NBD reply; anything else is EIO. */
export function toNbdError(error: unknown): number {
  if (!isFsError(error)) return NBD_EIO
  switch (error.code) {
    case 'EPERM':
    case 'EACCES':
    case 'EROFS':
      return NBD_EPERM
    case 'EINVAL':
      return NBD_EINVAL
    case 'ENOSPC':
    case 'EFBIG':
      return NBD_ENOSPC
    case 'ERANGE':
      return NBD_EOVERFLOW
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
    case 'ENOSYS':
      return NBD_ENOTSUP
    case 'E2BIG':
      return NBD_ENOMEM
    default:
      return NBD_EIO
  }
}
