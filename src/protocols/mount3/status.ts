import {isFsError, type Errno} from '../../core/errors.js'
import {
  MNT3ERR_ACCES, MNT3ERR_INVAL, MNT3ERR_IO, MNT3ERR_NAMETOOLONG, MNT3ERR_NOENT, MNT3ERR_NOTDIR, MNT3ERR_NOTSUPP,
  MNT3ERR_PERM, MNT3ERR_SERVERFAULT,
} from './constants.js'

/** A failure MOUNT decides itself (a path that is not a directory, `..` in a path). */
export class Mount3Error extends Error {
  constructor(readonly status: number, reason: string) {
    super(reason)
    this.name = 'Mount3Error'
  }
}

const byErrno: Partial<Record<Errno, number>> = {
  EACCES: MNT3ERR_ACCES,
  EINVAL: MNT3ERR_INVAL,
  ENAMETOOLONG: MNT3ERR_NAMETOOLONG,
  ENOENT: MNT3ERR_NOENT,
  ENOSYS: MNT3ERR_NOTSUPP,
  ENOTDIR: MNT3ERR_NOTDIR,
  ENOTSUP: MNT3ERR_NOTSUPP,
  EOPNOTSUPP: MNT3ERR_NOTSUPP,
  EPERM: MNT3ERR_PERM,
}

/** The one errno → mountstat3 mapping: mountstat3 has few values, every other errno is an I/O error. */
export function toMountStat3(error: unknown): number {
  if (error instanceof Mount3Error) return error.status
  if (isFsError(error)) return byErrno[error.code] ?? MNT3ERR_IO
  return MNT3ERR_SERVERFAULT
}
