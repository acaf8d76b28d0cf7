/*
 * 9P2000.L wire constants, with the values and names of the Linux kernel's include/net/9p/9p.h
 * and diod's protocol.h.
 */

export const VERSION_9P2000_L = '9P2000.L'
/** The answer to a version the server does not speak. */
export const VERSION_UNKNOWN = 'unknown'

export const NOTAG = 0xffff
export const NOFID = 0xffffffff

/** size[4] type[1] tag[2] */
export const HEADER_SIZE = 7
/** Room Rread and Twrite need beside their data: header, fid, offset, count. */
export const IOHDRSZ = 24
/** The largest msize the server accepts in Tversion. */
export const MAX_MSIZE = 1024 * 1024 + IOHDRSZ
/** The smallest msize that leaves room for any message but data. */
export const MIN_MSIZE = 4096

export const Tlerror = 6
export const Rlerror = 7
export const Tstatfs = 8
export const Rstatfs = 9
export const Tlopen = 12
export const Rlopen = 13
export const Tlcreate = 14
export const Rlcreate = 15
export const Tsymlink = 16
export const Rsymlink = 17
export const Tmknod = 18
export const Rmknod = 19
export const Trename = 20
export const Rrename = 21
export const Treadlink = 22
export const Rreadlink = 23
export const Tgetattr = 24
export const Rgetattr = 25
export const Tsetattr = 26
export const Rsetattr = 27
export const Txattrwalk = 30
export const Rxattrwalk = 31
export const Txattrcreate = 32
export const Rxattrcreate = 33
export const Treaddir = 40
export const Rreaddir = 41
export const Tfsync = 50
export const Rfsync = 51
export const Tlock = 52
export const Rlock = 53
export const Tgetlock = 54
export const Rgetlock = 55
export const Tlink = 70
export const Rlink = 71
export const Tmkdir = 72
export const Rmkdir = 73
export const Trenameat = 74
export const Rrenameat = 75
export const Tunlinkat = 76
export const Runlinkat = 77
export const Tversion = 100
export const Rversion = 101
export const Tauth = 102
export const Rauth = 103
export const Tattach = 104
export const Rattach = 105
export const Tflush = 108
export const Rflush = 109
export const Twalk = 110
export const Rwalk = 111
export const Tread = 116
export const Rread = 117
export const Twrite = 118
export const Rwrite = 119
export const Tclunk = 120
export const Rclunk = 121
export const Tremove = 122
export const Rremove = 123

/** Names in one Twalk. */
export const MAXWELEM = 16

/** qid.type */
export const QTDIR = 0x80
export const QTSYMLINK = 0x02
export const QTFILE = 0x00

/** Tlopen/Tlcreate flags (P9_DOTL_*, the Linux x86 open flags). */
export const P9_DOTL_ACCMODE = 0o3
export const P9_DOTL_RDONLY = 0o0
export const P9_DOTL_WRONLY = 0o1
export const P9_DOTL_RDWR = 0o2
export const P9_DOTL_CREATE = 0o100
export const P9_DOTL_EXCL = 0o200
export const P9_DOTL_TRUNC = 0o1000
export const P9_DOTL_APPEND = 0o2000

/** Tgetattr request_mask / Rgetattr valid. */
export const P9_GETATTR_MODE = 0x1n
export const P9_GETATTR_NLINK = 0x2n
export const P9_GETATTR_UID = 0x4n
export const P9_GETATTR_GID = 0x8n
export const P9_GETATTR_RDEV = 0x10n
export const P9_GETATTR_ATIME = 0x20n
export const P9_GETATTR_MTIME = 0x40n
export const P9_GETATTR_CTIME = 0x80n
export const P9_GETATTR_INO = 0x100n
export const P9_GETATTR_SIZE = 0x200n
export const P9_GETATTR_BLOCKS = 0x400n
export const P9_GETATTR_BASIC = 0x7ffn

/** Tsetattr valid. */
export const P9_SETATTR_MODE = 0x1
export const P9_SETATTR_UID = 0x2
export const P9_SETATTR_GID = 0x4
export const P9_SETATTR_SIZE = 0x8
export const P9_SETATTR_ATIME = 0x10
export const P9_SETATTR_MTIME = 0x20
export const P9_SETATTR_CTIME = 0x40
export const P9_SETATTR_ATIME_SET = 0x80
export const P9_SETATTR_MTIME_SET = 0x100

/** Tunlinkat flags. */
export const AT_REMOVEDIR = 0x200

/** Tlock/Tgetlock type. */
export const P9_LOCK_TYPE_RDLCK = 0
export const P9_LOCK_TYPE_WRLCK = 1
export const P9_LOCK_TYPE_UNLCK = 2
/** Tlock flags. */
export const P9_LOCK_FLAGS_BLOCK = 1
export const P9_LOCK_FLAGS_RECLAIM = 2
/** Rlock status. */
export const P9_LOCK_SUCCESS = 0
export const P9_LOCK_BLOCKED = 1
export const P9_LOCK_ERROR = 2
export const P9_LOCK_GRACE = 3

/** Rstatfs type: the magic number of v9fs. */
export const V9FS_MAGIC = 0x01021997

/** Treaddir entry types (DT_*). */
export const DT_FIFO = 1
export const DT_CHR = 2
export const DT_DIR = 4
export const DT_BLK = 6
export const DT_REG = 8
export const DT_LNK = 10
export const DT_SOCK = 12

/** Linux errno numbers, as Rlerror carries them whatever the server's own platform. */
export const LINUX_ERRNO = {
  EPERM: 1, ENOENT: 2, EIO: 5, E2BIG: 7, EBADF: 9, EAGAIN: 11, EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17,
  EXDEV: 18, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, EMFILE: 24, EFBIG: 27, ENOSPC: 28, EROFS: 30,
  EMLINK: 31, ERANGE: 34, ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENODATA: 61,
  EPROTO: 71, EOPNOTSUPP: 95, ENOTSUP: 95, ESTALE: 116,
} as const

export type LinuxErrno = keyof typeof LINUX_ERRNO
