import {isFsError, type Errno} from '../../core/errors.js'
import {
  NFS3ERR_ACCES, NFS3ERR_EXIST, NFS3ERR_FBIG, NFS3ERR_INVAL, NFS3ERR_IO, NFS3ERR_ISDIR, NFS3ERR_JUKEBOX,
  NFS3ERR_MLINK, NFS3ERR_NAMETOOLONG, NFS3ERR_NOENT, NFS3ERR_NOSPC, NFS3ERR_NOTDIR, NFS3ERR_NOTEMPTY,
  NFS3ERR_NOTSUPP, NFS3ERR_PERM, NFS3ERR_ROFS, NFS3ERR_SERVERFAULT, NFS3ERR_STALE, NFS3ERR_XDEV,
} from './constants.js'

/** A failure decided by the protocol layer itself (bad handle, guard mismatch, read-only export...). */
export class Nfs3Error extends Error {
  constructor(readonly status: number, reason: string) {
    super(reason)
    this.name = 'Nfs3Error'
  }
}

const byErrno: Record<Errno, number> = {
  E2BIG: NFS3ERR_INVAL,
  EACCES: NFS3ERR_ACCES,
  EAGAIN: NFS3ERR_JUKEBOX,
  EBADF: NFS3ERR_IO,
  EEXIST: NFS3ERR_EXIST,
  EFBIG: NFS3ERR_FBIG,
  EINVAL: NFS3ERR_INVAL,
  EIO: NFS3ERR_IO,
  EISDIR: NFS3ERR_ISDIR,
  ELOOP: NFS3ERR_INVAL,
  EMLINK: NFS3ERR_MLINK,
  ENAMETOOLONG: NFS3ERR_NAMETOOLONG,
  ENODATA: NFS3ERR_IO,
  ENOENT: NFS3ERR_NOENT,
  ENOSPC: NFS3ERR_NOSPC,
  ENOSYS: NFS3ERR_NOTSUPP,
  ENOTDIR: NFS3ERR_NOTDIR,
  ENOTEMPTY: NFS3ERR_NOTEMPTY,
  ENOTSUP: NFS3ERR_NOTSUPP,
  EOPNOTSUPP: NFS3ERR_NOTSUPP,
  EPERM: NFS3ERR_PERM,
  ERANGE: NFS3ERR_INVAL,
  EROFS: NFS3ERR_ROFS,
  ESTALE: NFS3ERR_STALE,
  EXDEV: NFS3ERR_XDEV,
}

/**
 * The one errno → nfsstat3 mapping. Anything that is neither an FsError nor an Nfs3Error is a bug
 * in zerofs and answers NFS3ERR_SERVERFAULT (the caller logs it).
 */
export function toNfsStat3(error: unknown): number {
  if (error instanceof Nfs3Error) return error.status
  if (isFsError(error)) return byErrno[error.code] ?? NFS3ERR_IO
  return NFS3ERR_SERVERFAULT
}
