import {isFsError} from '../../core/errors.js'
import {requireDirectoryMove, requireStickyOwner, stickyApplies} from '../../core/fs/permissions.js'
import type {Attr} from '../../core/fs/types.js'
import type {Nfs3Call} from './call.js'

/*
 * The permission checks of REMOVE, RMDIR and RENAME that depend on the entries themselves, beyond
 * write permission on the directories (targetDirectory checks that). An entry is looked up only
 * when its owner or type can matter.
 */

async function presentEntry(call: Nfs3Call, dir: Attr, name: string): Promise<Attr | undefined> {
  try {
    return await call.fs.lookup(dir.ino, name)
  } catch (error) {
    if (isFsError(error, 'ENOENT')) return undefined // the operation itself reports it
    throw error
  }
}

/** The caller may remove (or replace) `name` in `dir`: a sticky directory keeps others' entries. */
export async function checkRemoval(call: Nfs3Call, dir: Attr, name: string): Promise<void> {
  if (!stickyApplies(dir, call.caller)) return
  const entry = await presentEntry(call, dir, name)
  if (entry) requireStickyOwner(dir, entry, call.caller, 'remove')
}

/** The caller may move `fromName` out of `fromDir` and over whatever `toName` names in `toDir`. */
export async function checkRename(call: Nfs3Call, fromDir: Attr, fromName: string, toDir: Attr, toName: string): Promise<void> {
  const moving = fromDir.ino !== toDir.ino
  if (moving || stickyApplies(fromDir, call.caller)) {
    const source = await presentEntry(call, fromDir, fromName)
    if (source) {
      requireStickyOwner(fromDir, source, call.caller, 'rename')
      if (moving) requireDirectoryMove(source, call.caller, 'rename')
    }
  }
  await checkRemoval(call, toDir, toName)
}
