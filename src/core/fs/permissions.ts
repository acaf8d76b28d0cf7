import {fsError} from '../errors.js'
import type {Attr, Caller, FileType, SetAttr} from './types.js'
import {ACCESS_EXECUTE, ACCESS_READ, ACCESS_WRITE} from './types.js'

/*
 * POSIX permission rules, as Linux applies them, for servers whose clients send credentials with
 * each call (NFS AUTH_SYS, a 9P attach uid). The core's operations take no caller: a protocol checks
 * with these before it asks the core to change anything, so every client is held to the same rules,
 * not only clients that check for themselves.
 */

const S_ISUID = 0o4000
const S_ISGID = 0o2000
const S_ISVTX = 0o1000
const S_IXGRP = 0o0010

const isRoot = (caller: Caller): boolean => caller.uid === 0
const owns = (caller: Caller, attr: Attr): boolean => caller.uid === attr.uid
const inGroup = (caller: Caller, gid: number): boolean => caller.gid === gid || caller.gids.includes(gid)

/**
 * POSIX permission evaluation: the owner class, else the group class (primary or supplementary
 * group), else other. Root may read and write anything, and execute when any x bit is set or the
 * entry is a directory. Returns the granted subset of `mask`.
 */
export function grantedAccess(attr: Attr, caller: Caller, mask: number): number {
  if (isRoot(caller)) {
    const execute = attr.type === 'dir' || (attr.mode & 0o111) !== 0 ? ACCESS_EXECUTE : 0
    return mask & (ACCESS_READ | ACCESS_WRITE | execute)
  }
  let bits: number
  if (owns(caller, attr)) bits = (attr.mode >> 6) & 7
  else if (inGroup(caller, attr.gid)) bits = (attr.mode >> 3) & 7
  else bits = attr.mode & 7
  return mask & bits
}

/** EACCES unless `caller` is granted every bit of `mask` (ACCESS_*): search a directory, list it... */
export function requireAccess(attr: Attr, caller: Caller, mask: number, syscall: string): void {
  if (grantedAccess(attr, caller, mask) !== mask) throw fsError('EACCES', syscall)
}

/**
 * Reading or writing a file's data on a stateless protocol, where the client checked the mode when
 * it opened the file: its owner is always let through, so a file created 0444 still takes the
 * writes that follow its creation (knfsd does the same); anyone else needs the permission now.
 * A file that may be executed may be read (a client cannot run a program without reading it).
 */
export function requireDataAccess(attr: Attr, caller: Caller, use: 'read' | 'write', syscall: string): void {
  if (owns(caller, attr)) return
  if (grantedAccess(attr, caller, use === 'write' ? ACCESS_WRITE : ACCESS_READ | ACCESS_EXECUTE) === 0) throw fsError('EACCES', syscall)
}

/** Adding, removing or renaming entries of a directory needs write and search permission on it. */
export function requireEntryChange(dir: Attr, caller: Caller, syscall: string): void {
  requireAccess(dir, caller, ACCESS_WRITE | ACCESS_EXECUTE, syscall)
}

/** Whether the sticky bit of `dir` (as on /tmp) restricts which of its entries `caller` may remove or replace. */
export function stickyApplies(dir: Attr, caller: Caller): boolean {
  return (dir.mode & S_ISVTX) !== 0 && !isRoot(caller) && !owns(caller, dir)
}

/** EPERM when a sticky `dir` keeps `entry`, which `caller` does not own, from being removed or replaced. */
export function requireStickyOwner(dir: Attr, entry: Attr, caller: Caller, syscall: string): void {
  if (stickyApplies(dir, caller) && !owns(caller, entry)) throw fsError('EPERM', syscall)
}

/** A directory moved to another parent gets a new `..` entry: that needs write permission on it. */
export function requireDirectoryMove(source: Attr, caller: Caller, syscall: string): void {
  if (source.type === 'dir') requireAccess(source, caller, ACCESS_WRITE, syscall)
}

/** Only root makes device nodes (Linux's CAP_MKNOD); FIFOs and sockets anyone may. */
export function requireNodeCreation(type: FileType, caller: Caller, syscall: string): void {
  if ((type === 'chardev' || type === 'blockdev') && !isRoot(caller)) throw fsError('EPERM', syscall)
}

/**
 * The changes of a chmod, chown, utimes or truncate that `caller` may make to `attr`, or EPERM /
 * EACCES: only root gives files away; the owner may change the group to one of its own groups, the
 * mode, and set times; setting times to now needs ownership or write permission; truncating needs
 * write permission (see requireDataAccess). What POSIX has the system adjust rather than refuse is
 * adjusted in the result: a chmod by someone outside the file's group drops the setgid bit, and a
 * change of a regular file's owner or group clears its setuid bit (and setgid bit when it marks
 * group execution), as Linux does.
 */
export function permittedChanges(attr: Attr, caller: Caller, changes: SetAttr, syscall: string): SetAttr {
  const root = isRoot(caller)
  const owner = owns(caller, attr)
  const permitted: SetAttr = {...changes}
  if (changes.size !== undefined) requireDataAccess(attr, caller, 'write', syscall)
  if (changes.uid !== undefined && !root && !(owner && changes.uid === attr.uid)) throw fsError('EPERM', syscall)
  if (changes.gid !== undefined && !root && !(owner && (changes.gid === attr.gid || inGroup(caller, changes.gid)))) {
    throw fsError('EPERM', syscall)
  }
  if (changes.mode !== undefined) {
    if (!root && !owner) throw fsError('EPERM', syscall)
    if (!root && !inGroup(caller, changes.gid ?? attr.gid)) permitted.mode = changes.mode & ~S_ISGID
  }
  const explicitTime = [changes.atime, changes.mtime].some((time) => time !== undefined && time !== 'now')
  if (explicitTime && !root && !owner) throw fsError('EPERM', syscall)
  const timeNow = changes.atime === 'now' || changes.mtime === 'now'
  if (timeNow && !root && !owner && grantedAccess(attr, caller, ACCESS_WRITE) === 0) throw fsError('EACCES', syscall)
  const ownershipChanges = (changes.uid !== undefined && changes.uid !== attr.uid) || (changes.gid !== undefined && changes.gid !== attr.gid)
  if (ownershipChanges && changes.mode === undefined && attr.type === 'file') {
    const mode = attr.mode & 0o7777
    const kept = mode & ~S_ISUID & ((mode & S_IXGRP) !== 0 ? ~S_ISGID : ~0)
    if (kept !== mode) permitted.mode = kept
  }
  return permitted
}

/**
 * The owner, group and mode of a new entry made by `caller` in `dir`: the caller's ids (only root
 * may ask for others, as knfsd allows); in a setgid directory the directory's group, and a new
 * directory there is setgid too.
 */
export function newEntryOwnership(
  dir: Attr, caller: Caller, type: FileType, requested: {mode: number; uid?: number; gid?: number},
): {mode: number; uid: number; gid: number} {
  const root = isRoot(caller)
  const inherit = (dir.mode & S_ISGID) !== 0
  const uid = root ? requested.uid ?? caller.uid : caller.uid
  const gid = root && requested.gid !== undefined ? requested.gid : inherit ? dir.gid : caller.gid
  const mode = inherit && type === 'dir' ? requested.mode | S_ISGID : requested.mode
  return {mode, uid, gid}
}
