import {NFS3ERR_ACCES} from './constants.js'
import {Nfs3Error} from './status.js'

export function isDotName(name: string): boolean {
  return name === '.' || name === '..'
}

/** An empty name or one holding '/' or NUL can never be a directory entry, and must never reach the core as a path. */
export function validName(name: string): string {
  if (name === '' || name.includes('/') || name.includes('\0')) {
    throw new Nfs3Error(NFS3ERR_ACCES, `invalid file name ${JSON.stringify(name)}`)
  }
  return name
}

/** A name a procedure may create, remove or rename: `.` and `..` answer the status each procedure gives them, as knfsd does. */
export function entryName(name: string, dotStatus: number): string {
  if (isDotName(name)) throw new Nfs3Error(dotStatus, `${name} cannot be the target of this operation`)
  return validName(name)
}
