import {isFsError} from '../../core/errors.js'
import {LINUX_ERRNO, type LinuxErrno} from './constants.js'

/** A failure decided by the 9P layer itself (unknown fid, fid not open, too many fids...). */
export class P9Error extends Error {
  constructor(readonly code: LinuxErrno, reason: string) {
    super(`${code}: ${reason}`)
    this.name = 'P9Error'
  }
}

/**
 * The one errno → Rlerror mapping: the core's FsError and the 9P layer's P9Error carry an errno
 * name, sent as its Linux number. Anything else is a bug in zerofs (the caller logs it) and
 * answers EIO.
 */
export function toRlerror(error: unknown): number {
  if (error instanceof P9Error) return LINUX_ERRNO[error.code]
  if (isFsError(error)) return LINUX_ERRNO[error.code] ?? LINUX_ERRNO.EIO
  return LINUX_ERRNO.EIO
}
