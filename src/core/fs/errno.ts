import {fsError, isFsError, type Errno, type FsError} from '../errors.js'
import {isStoreError, type StoreErrorCode} from '../store/errors.js'

const storeErrno: Record<StoreErrorCode, Errno> = {
  NotFound: 'ENOENT',
  NoSuchBucket: 'EIO',
  AccessDenied: 'EACCES',
  Unreachable: 'EIO',
  NotSupported: 'EOPNOTSUPP',
  PreconditionFailed: 'EIO',
  InvalidKey: 'EINVAL',
  Conflict: 'EEXIST',
  Aborted: 'EIO',
  Failed: 'EIO',
}

const localErrno = new Set<string>(['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EFBIG', 'ENAMETOOLONG'])

/**
 * The one place where any failure below the POSIX surface (a store, the staging files, the cache)
 * becomes an errno. The original error stays as `cause`; an FsError passes through unchanged.
 */
export function toFsError(error: unknown, syscall: string, path?: string): FsError {
  if (isFsError(error)) return error
  if (isStoreError(error)) return fsError(storeErrno[error.code], syscall, path, {cause: error, detail: error.message})
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (typeof code === 'string' && localErrno.has(code)) return fsError(code as Errno, syscall, path, {cause: error, detail: 'staging area'})
  return fsError('EIO', syscall, path, {cause: error, detail: error instanceof Error ? error.message : String(error)})
}
