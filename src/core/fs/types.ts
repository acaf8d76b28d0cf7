import type {Readable} from 'node:stream'

/**
 * The POSIX face of the core: a filesystem keyed by inode number (bigint) whose every failure is an
 * FsError carrying an errno code (src/core/errors.ts). Protocols (NFS, 9P) and commands (ls, cat)
 * use only this; they never see a store.
 */

export type Ino = bigint

export const ROOT_INO: Ino = 1n

export type FileType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'chardev' | 'blockdev'

export interface Timestamp {
  sec: number
  nsec: number
}

export interface Attr {
  ino: Ino
  /** Changes when an inode number is reused; part of protocol file handles. */
  generation: number
  type: FileType
  /** Full st_mode, file-type bits included (S_IFREG | 0644 = 0o100644). */
  mode: number
  nlink: number
  uid: number
  gid: number
  size: number
  /** Device number for chardev/blockdev. */
  rdev: number
  atime: Timestamp
  mtime: Timestamp
  ctime: Timestamp
}

export interface SetAttr {
  /** Permission bits only (07777); the type never changes. */
  mode?: number
  uid?: number
  gid?: number
  /** Truncate or extend. */
  size?: number
  atime?: Timestamp | 'now'
  mtime?: Timestamp | 'now'
}

/** Who asks: AUTH_SYS credentials or a 9P attach uid. Permission checks use it. */
export interface Caller {
  uid: number
  gid: number
  gids: number[]
}

export const ACCESS_READ = 4
export const ACCESS_WRITE = 2
export const ACCESS_EXECUTE = 1

export interface DirEntry {
  name: string
  ino: Ino
  type: FileType
  /** Opaque; pass back to readdir to continue after this entry. Never 0. */
  cookie: bigint
  /** Present when readdir was asked for attributes (READDIRPLUS, ls -l). */
  attr?: Attr
}

export interface ReadDirPage {
  entries: DirEntry[]
  eof: boolean
  /** Changes when cookies of this directory stop being valid. */
  verifier: bigint
}

export interface CreateOptions {
  /** Permission bits (07777); for mknod also the type bits. */
  mode: number
  uid: number
  gid: number
}

export interface StatFs {
  totalBytes: number
  freeBytes: number
  availBytes: number
  totalFiles: number
  freeFiles: number
  nameMax: number
  blockSize: number
}

export interface PosixFs {
  readonly root: Ino

  lookup(parent: Ino, name: string): Promise<Attr>
  getattr(ino: Ino): Promise<Attr>
  setattr(ino: Ino, changes: SetAttr): Promise<Attr>
  /** Returns the subset of `mask` (ACCESS_*) that `caller` is granted. */
  access(ino: Ino, caller: Caller, mask: number): Promise<number>

  /** A page of entries after `cookie` (0n = from the start), at most `count` entries; `.`/`..` are not included. */
  readdir(dir: Ino, cookie: bigint, count: number, options?: {attributes?: boolean}): Promise<ReadDirPage>

  /**
   * A client opened the file (9P's Tlopen). Until the matching closeFile, unlinking it (or renaming
   * over it) only takes its name away: reads, writes and getattr through `ino` go on (nlink 0), its
   * data kept locally and never uploaded; the last close drops it.
   */
  openFile(ino: Ino): void
  closeFile(ino: Ino): Promise<void>

  read(ino: Ino, offset: number, length: number): Promise<{data: Buffer; eof: boolean}>
  /** Like read, the bytes as pieces to be used in order: views of fetched blocks, never copied together. */
  readPieces(ino: Ino, offset: number, length: number): Promise<{pieces: Buffer[]; eof: boolean}>
  /** Streams a file (for `cat`), with read-ahead. */
  readStream(ino: Ino, range?: {offset: number; length?: number}): Readable
  /** Writes into the staging area; with `stable` the data is in the bucket before this returns. */
  write(ino: Ino, offset: number, data: Buffer, options?: {stable?: boolean}): Promise<Attr>
  /** Uploads whatever is staged for `ino`; resolves once it is in the bucket. */
  fsync(ino: Ino): Promise<void>

  /** `exclusive`: fail with EEXIST if the name exists (O_EXCL). Otherwise an existing file is returned as is. */
  create(parent: Ino, name: string, options: CreateOptions & {exclusive?: boolean}): Promise<Attr>
  mkdir(parent: Ino, name: string, options: CreateOptions): Promise<Attr>
  /** FIFOs, sockets and device nodes: `options.mode` carries the type bits. */
  mknod(parent: Ino, name: string, options: CreateOptions & {rdev?: number}): Promise<Attr>
  symlink(parent: Ino, name: string, target: string, options: Omit<CreateOptions, 'mode'>): Promise<Attr>
  readlink(ino: Ino): Promise<string>
  unlink(parent: Ino, name: string): Promise<void>
  rmdir(parent: Ino, name: string): Promise<void>
  /** Replaces an existing file, or an empty directory, at the target. */
  rename(fromParent: Ino, fromName: string, toParent: Ino, toName: string): Promise<void>
  statfs(): Promise<StatFs>

  /**
   * `/a/b` relative to the store root → attributes. Follows no symlinks unless `follow` is set;
   * then symlinks on the way and at the end are followed (ELOOP after 40).
   */
  resolve(path: string, options?: {follow?: boolean}): Promise<Attr>
  /** The path of an inode, for logs and errors. */
  pathOf(ino: Ino): string

  /** Uploads everything staged (shutdown). */
  flushAll(): Promise<void>
  close(): Promise<void>
}
