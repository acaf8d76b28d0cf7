import type {Attr, PosixFs} from './types.js'

/** The parent directory of a directory (the root is its own parent), for `..`. */
export async function parentDirectory(fs: PosixFs, dir: Attr): Promise<Attr> {
  if (dir.ino === fs.root) return dir
  const path = fs.pathOf(dir.ino)
  return fs.resolve(path.slice(0, path.lastIndexOf('/')) || '/')
}
