import type {Attr, Caller} from './types.js'
import {ACCESS_EXECUTE, ACCESS_READ, ACCESS_WRITE} from './types.js'

/**
 * POSIX permission evaluation: the owner class, else the group class (primary or supplementary
 * group), else other. Root may read and write anything, and execute when any x bit is set or the
 * entry is a directory. Returns the granted subset of `mask`.
 */
export function grantedAccess(attr: Attr, caller: Caller, mask: number): number {
  if (caller.uid === 0) {
    const execute = attr.type === 'dir' || (attr.mode & 0o111) !== 0 ? ACCESS_EXECUTE : 0
    return mask & (ACCESS_READ | ACCESS_WRITE | execute)
  }
  let bits: number
  if (caller.uid === attr.uid) bits = (attr.mode >> 6) & 7
  else if (caller.gid === attr.gid || caller.gids.includes(attr.gid)) bits = (attr.mode >> 3) & 7
  else bits = attr.mode & 7
  return mask & bits
}
