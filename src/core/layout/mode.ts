import type {FileType} from '../fs/types.js'

/** st_mode file-type bits, as <sys/stat.h> spells them. */
export const S_IFMT = 0o170000
export const S_IFSOCK = 0o140000
export const S_IFLNK = 0o120000
export const S_IFREG = 0o100000
export const S_IFBLK = 0o060000
export const S_IFDIR = 0o040000
export const S_IFCHR = 0o020000
export const S_IFIFO = 0o010000

/** Permission bits including setuid, setgid and sticky. */
export const PERMISSION_BITS = 0o7777

const typeBits: Record<FileType, number> = {
  blockdev: S_IFBLK,
  chardev: S_IFCHR,
  dir: S_IFDIR,
  fifo: S_IFIFO,
  file: S_IFREG,
  socket: S_IFSOCK,
  symlink: S_IFLNK,
}

const typeOfBits = new Map(Object.entries(typeBits).map(([type, bits]) => [bits, type as FileType]))

export function modeTypeBits(type: FileType): number {
  return typeBits[type]
}

/** The file type a full st_mode names; undefined when the type bits are absent or not a known type. */
export function fileTypeOfMode(mode: number): FileType | undefined {
  return typeOfBits.get(mode & S_IFMT)
}

/** A full st_mode from a type and permission bits. */
export function makeMode(type: FileType, permissions: number): number {
  return typeBits[type] | (permissions & PERMISSION_BITS)
}

/** Types that are stored as an object (a key without a trailing slash). */
export function isObjectType(type: FileType): boolean {
  return type !== 'dir'
}
