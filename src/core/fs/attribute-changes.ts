import {PERMISSION_BITS, S_IFMT} from '../layout/mode.js'
import type {SetAttr, Timestamp} from './types.js'

/** The attributes setattr can change, wherever they are kept (an inode row, a staged file). */
export interface ChangeableAttributes {
  mode: number
  uid: number
  gid: number
  mtime: Timestamp
  atime: Timestamp
  ctime: Timestamp
}

/** Applies chmod/chown/utimes: the file type bits stay, ctime becomes `now`. */
export function applyAttributeChanges(current: ChangeableAttributes, changes: SetAttr, now: Timestamp): ChangeableAttributes {
  const time = (value: Timestamp | 'now' | undefined, previous: Timestamp): Timestamp => (value === undefined ? previous : value === 'now' ? now : value)
  return {
    mode: changes.mode === undefined ? current.mode : (current.mode & S_IFMT) | (changes.mode & PERMISSION_BITS),
    uid: changes.uid ?? current.uid,
    gid: changes.gid ?? current.gid,
    mtime: time(changes.mtime, current.mtime),
    atime: time(changes.atime, current.atime),
    ctime: now,
  }
}
