import {P9Error} from './errors.js'

/** An empty name or one holding '/' or NUL can never be a directory entry, and must never reach the core as a path. */
export function validName(name: string): string {
  if (name === '' || name.includes('/') || name.includes('\0')) throw new P9Error('EINVAL', `invalid file name ${JSON.stringify(name)}`)
  return name
}

/** A name to create, remove or rename: `.` and `..` exist already and cannot be removed or renamed. */
export function entryName(name: string, dotError: 'EEXIST' | 'EINVAL'): string {
  if (name === '.' || name === '..') throw new P9Error(dotError, `${name} cannot be the target of this operation`)
  return validName(name)
}
