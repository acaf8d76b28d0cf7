import {constants} from 'node:os'

/** The errno names the POSIX core may raise; each protocol maps them to its own status in one function. */
export type Errno =
  | 'EPERM' | 'ENOENT' | 'EIO' | 'EBADF' | 'EACCES' | 'EEXIST' | 'EXDEV' | 'ENOTDIR' | 'EISDIR'
  | 'EINVAL' | 'EFBIG' | 'ENOSPC' | 'EROFS' | 'EMLINK' | 'ENAMETOOLONG' | 'ENOTEMPTY' | 'ENOTSUP'
  | 'ESTALE' | 'ELOOP' | 'ENODATA' | 'ERANGE' | 'EAGAIN' | 'EOPNOTSUPP' | 'E2BIG' | 'ENOSYS'

const messages: Record<Errno, string> = {
  E2BIG: 'argument list too long',
  EACCES: 'permission denied',
  EAGAIN: 'resource temporarily unavailable',
  EBADF: 'bad file descriptor',
  EEXIST: 'file exists',
  EFBIG: 'file too large',
  EINVAL: 'invalid argument',
  EIO: 'input/output error',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  EMLINK: 'too many links',
  ENAMETOOLONG: 'file name too long',
  ENODATA: 'no data available',
  ENOENT: 'no such file or directory',
  ENOSPC: 'no space left on device',
  ENOSYS: 'function not implemented',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  ENOTSUP: 'operation not supported',
  EOPNOTSUPP: 'operation not supported',
  EPERM: 'operation not permitted',
  ERANGE: 'result too large',
  EROFS: 'read-only file system',
  ESTALE: 'stale file handle',
  EXDEV: 'cross-device link',
}

/** The one error class of the POSIX core: an errno code, the operation and the path it concerns. */
export class FsError extends Error {
  readonly code: Errno
  readonly errno: number
  readonly syscall: string
  readonly path?: string

  constructor(code: Errno, syscall: string, path?: string, options?: {cause?: unknown; detail?: string}) {
    const where = path === undefined ? '' : ` '${path}'`
    const detail = options?.detail ? ` (${options.detail})` : ''
    super(`${code}: ${messages[code]}, ${syscall}${where}${detail}`, {cause: options?.cause})
    this.name = 'FsError'
    this.code = code
    this.errno = (constants.errno as Record<string, number>)[code] ?? constants.errno.EIO
    this.syscall = syscall
    this.path = path
  }
}

/** Builds every FsError: `throw fsError('ENOENT', 'lookup', '/a/b')`. */
export function fsError(code: Errno, syscall: string, path?: string, options?: {cause?: unknown; detail?: string}): FsError {
  return new FsError(code, syscall, path, options)
}

export function isFsError(error: unknown, code?: Errno): error is FsError {
  return error instanceof FsError && (code === undefined || error.code === code)
}
