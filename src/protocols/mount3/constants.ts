// MOUNT version 3 wire constants, spelled and numbered as in RFC 1813 appendix I.

export const MOUNT_PROGRAM = 100005
export const MOUNT_V3 = 3

export const MOUNTPROC3_NULL = 0
export const MOUNTPROC3_MNT = 1
export const MOUNTPROC3_DUMP = 2
export const MOUNTPROC3_UMNT = 3
export const MOUNTPROC3_UMNTALL = 4
export const MOUNTPROC3_EXPORT = 5

/** Maximum bytes in a path name */
export const MNTPATHLEN = 1024
/** Maximum bytes in a name */
export const MNTNAMLEN = 255
/** Maximum bytes in a V3 file handle */
export const FHSIZE3 = 64

// enum mountstat3
export const MNT3_OK = 0
export const MNT3ERR_PERM = 1
export const MNT3ERR_NOENT = 2
export const MNT3ERR_IO = 5
export const MNT3ERR_ACCES = 13
export const MNT3ERR_NOTDIR = 20
export const MNT3ERR_INVAL = 22
export const MNT3ERR_NAMETOOLONG = 63
export const MNT3ERR_NOTSUPP = 10004
export const MNT3ERR_SERVERFAULT = 10006
