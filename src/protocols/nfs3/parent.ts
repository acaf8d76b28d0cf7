import type {Attr} from '../../core/fs/types.js'
import type {Nfs3Call} from './call.js'

/** The parent directory of a directory (the root is its own parent), for `..` in LOOKUP and READDIR. */
export async function parentOf(call: Nfs3Call, dir: Attr): Promise<Attr> {
  if (dir.ino === call.fs.root) return dir
  const path = call.fs.pathOf(dir.ino)
  return call.fs.resolve(path.slice(0, path.lastIndexOf('/')) || '/')
}
