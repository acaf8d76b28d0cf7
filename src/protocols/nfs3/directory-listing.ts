import {parentDirectory} from '../../core/fs/parent.js'
import type {Attr, Ino} from '../../core/fs/types.js'
import type {Nfs3Call} from './call.js'
import {NFS3_COOKIEVERFSIZE, NFS3ERR_BAD_COOKIE, NFS3ERR_TOOSMALL} from './constants.js'
import {Nfs3Error} from './status.js'

/**
 * The listing READDIR and READDIRPLUS share. NFS cookies 1 and 2 follow the `.` and `..` entries
 * this layer adds (the core lists neither); a core cookie c travels as c + 2 (mod 2^64), so 0 stays
 * "from the start" and a core cookie is never confused with a dot entry's.
 */

export interface ListedEntry {
  fileid: Ino
  name: string
  /** The NFS cookie that resumes after this entry. */
  cookie: bigint
  /** READDIRPLUS only, when the core has them. */
  attr?: Attr
}

export interface Listing {
  entries: ListedEntry[]
  eof: boolean
  verifier: Buffer
}

export interface ListingRequest {
  cookie: bigint
  cookieverf: Buffer
  attributes: boolean
  /** Entries to ask the core for per page: an estimate of what fits. */
  pageSize: number
  /** Whether one more entry fits in the reply; `first` when the reply holds none yet. */
  fits(entry: ListedEntry, first: boolean): boolean
}

const DOT_COOKIES = 2n

const toNfsCookie = (coreCookie: bigint): bigint => BigInt.asUintN(64, coreCookie + DOT_COOKIES)
const toCoreCookie = (nfsCookie: bigint): bigint => (nfsCookie <= DOT_COOKIES ? 0n : nfsCookie - DOT_COOKIES)

export function encodeVerifier(verifier: bigint): Buffer {
  const bytes = Buffer.alloc(NFS3_COOKIEVERFSIZE)
  bytes.writeBigUInt64BE(BigInt.asUintN(64, verifier))
  return bytes
}

export async function listDirectory(call: Nfs3Call, dir: Attr, request: ListingRequest): Promise<Listing> {
  const {fs} = call
  let coreCookie = toCoreCookie(request.cookie)
  let page = await fs.readdir(dir.ino, coreCookie, request.pageSize, {attributes: request.attributes})
  const verifier = encodeVerifier(page.verifier)
  // A zero verifier is what a client sends when it has none; any other must be the directory's current one.
  if (request.cookie !== 0n && !request.cookieverf.equals(Buffer.alloc(NFS3_COOKIEVERFSIZE)) && !request.cookieverf.equals(verifier)) {
    throw new Nfs3Error(NFS3ERR_BAD_COOKIE, 'cookie verifier is out of date')
  }

  const entries: ListedEntry[] = []
  const accept = (entry: ListedEntry): boolean => {
    if (request.fits(entry, entries.length === 0)) {
      entries.push(entry)
      return true
    }
    if (entries.length === 0) throw new Nfs3Error(NFS3ERR_TOOSMALL, 'not even one directory entry fits in the reply')
    return false
  }
  const full = (): Listing => ({entries, eof: false, verifier})

  if (request.cookie === 0n && !accept({fileid: dir.ino, name: '.', cookie: 1n, attr: request.attributes ? dir : undefined})) return full()
  if (request.cookie <= 1n) {
    const parent = await parentDirectory(call.fs, dir)
    if (!accept({fileid: parent.ino, name: '..', cookie: DOT_COOKIES, attr: request.attributes ? parent : undefined})) return full()
  }
  for (;;) {
    for (const entry of page.entries) {
      if (!accept({fileid: entry.ino, name: entry.name, cookie: toNfsCookie(entry.cookie), attr: entry.attr})) return full()
      coreCookie = entry.cookie
    }
    if (page.eof) return {entries, eof: true, verifier}
    if (page.entries.length === 0) throw new Error(`readdir of inode ${dir.ino} returned an empty page before its end`)
    page = await fs.readdir(dir.ino, coreCookie, request.pageSize, {attributes: request.attributes})
  }
}

/** XDR size of a string: its length word and its bytes padded to four. */
export function xdrStringSize(value: string): number {
  return 4 + ((Buffer.byteLength(value) + 3) & ~3)
}
