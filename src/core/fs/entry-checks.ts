import {isFsError} from '../errors.js'
import {requireDirectoryMove, requireStickyOwner, stickyApplies} from './permissions.js'
import type {Attr, Caller, PosixFs} from './types.js'

/*
 * The permission checks of removing and renaming entries that depend on the entries themselves,
 * beyond write permission on the directories (every protocol checks that first). An entry is
 * looked up only when its owner or type can matter.
 */

async function presentEntry(fs: PosixFs, dir: Attr, name: string): Promise<Attr | undefined> {
  try {
    return await fs.lookup(dir.ino, name)
  } catch (error) {
    if (isFsError(error, 'ENOENT')) return undefined // the operation itself reports it
    throw error
  }
}

/** `caller` may remove (or replace) `name` in `dir`: a sticky directory keeps others' entries. */
export async function checkRemoval(fs: PosixFs, caller: Caller, dir: Attr, name: string): Promise<void> {
  if (!stickyApplies(dir, caller)) return
  const entry = await presentEntry(fs, dir, name)
  if (entry) requireStickyOwner(dir, entry, caller, 'remove')
}

/** `caller` may move `fromName` out of `fromDir` and over whatever `toName` names in `toDir`. */
export async function checkRename(fs: PosixFs, caller: Caller, fromDir: Attr, fromName: string, toDir: Attr, toName: string): Promise<void> {
  const moving = fromDir.ino !== toDir.ino
  if (moving || stickyApplies(fromDir, caller)) {
    const source = await presentEntry(fs, fromDir, fromName)
    if (source) {
      requireStickyOwner(fromDir, source, caller, 'rename')
      if (moving) requireDirectoryMove(source, caller, 'rename')
    }
  }
  await checkRemoval(fs, caller, toDir, toName)
}
