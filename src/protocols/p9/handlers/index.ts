import type {Handler} from '../handler.js'
import type {RequestName} from '../messages.js'
import {attach, auth} from './attach.js'
import {getattr, setattr, statfs} from './attributes.js'
import {clunk, fsync, read, write} from './data.js'
import {link, mkdir, mknod, readlink, remove, rename, renameat, symlink, unlinkat} from './entries.js'
import {getlock, lock} from './locks.js'
import {lcreate, lopen} from './open.js'
import {readdir} from './readdir.js'
import {walk} from './walk.js'
import {xattrcreate, xattrwalk} from './xattrs.js'

/**
 * The handler of every request that goes to the filesystem. Tversion and Tflush act on the
 * connection itself (connection.ts); any other T-message answers EOPNOTSUPP.
 */
export const handlers: {[N in RequestName]?: Handler<N>} = {
  Tstatfs: statfs,
  Tlopen: lopen,
  Tlcreate: lcreate,
  Tsymlink: symlink,
  Tmknod: mknod,
  Trename: rename,
  Treadlink: readlink,
  Tgetattr: getattr,
  Tsetattr: setattr,
  Txattrwalk: xattrwalk,
  Txattrcreate: xattrcreate,
  Treaddir: readdir,
  Tfsync: fsync,
  Tlock: lock,
  Tgetlock: getlock,
  Tlink: link,
  Tmkdir: mkdir,
  Trenameat: renameat,
  Tunlinkat: unlinkat,
  Tauth: auth,
  Tattach: attach,
  Twalk: walk,
  Tread: read,
  Twrite: write,
  Tclunk: clunk,
  Tremove: remove,
}
