import {lstatSync, type BigIntStats} from 'node:fs'
import {lstat, opendir, readdir} from 'node:fs/promises'
import {join} from 'node:path'

import {INTERNAL_DIR, parseKey} from './file-store-keys.js'
import {compareKeys} from './key-order.js'
import type {ListEntry, ObjectHead, ObjectInfo} from './object-store.js'

/**
 * Lists a directory tree as S3 lists a bucket. Keys come out in UTF-8 byte order because each
 * directory's names are sorted with a directory sorting as its name plus '/' (so `a-b` < `a.txt` <
 * `a/...` < `a0`), and because every key below a directory shares that name plus '/'. Only one
 * directory's names per level of depth are held at a time; subtrees are read when reached.
 */

/** A regular file or a directory found at a key. */
export interface FoundEntry {
  key: string
  stats: BigIntStats
}

/**
 * Describes found entries (a batch of a directory's files at a time), with their metadata when asked;
 * undefined for one that is no object (a directory without marker).
 */
export type DescribeEntries = (found: readonly FoundEntry[]) => Array<ObjectInfo | ObjectHead | undefined>

export interface TreeListOptions {
  prefix: string
  delimiter?: string
  startAfter?: string
  signal?: AbortSignal
}

interface Child {
  name: string
  directory: boolean
  /** Orders the children as S3 orders their keys (a directory as its name plus '/'). */
  sortKey: string
}
/** Files whose stat is fetched together while a directory is walked. */
const STAT_BATCH = 64

export class TreeLister {
  constructor(private readonly root: string, private readonly describe: DescribeEntries) {}

  async *list(options: TreeListOptions): AsyncGenerator<ListEntry> {
    const {prefix, delimiter, startAfter, signal} = options
    const cut = prefix.lastIndexOf('/') + 1
    const dirKey = prefix.slice(0, cut)
    if (dirKey !== '' && !isDirectoryKey(dirKey)) return
    const namePrefix = prefix.slice(cut)
    if (delimiter === '/') {
      yield* this.walk(dirKey, namePrefix, startAfter, true, signal)
      return
    }
    const entries = this.walk(dirKey, namePrefix, startAfter, false, signal)
    yield* delimiter ? groupByDelimiter(entries, prefix, delimiter, startAfter) : entries
  }

  /**
   * Yields the objects below `dirKey` whose name starts with `namePrefix`, after `startAfter`. With
   * `collapse`, each child directory is one prefix entry (a delimiter listing with '/') if it holds any object.
   */
  private async *walk(dirKey: string, namePrefix: string, startAfter: string | undefined, collapse: boolean,
    signal: AbortSignal | undefined): AsyncGenerator<ListEntry> {
    signal?.throwIfAborted()
    const dirPath = join(this.root, dirKey)
    if (dirKey !== '' && namePrefix === '' && isAfter(dirKey, startAfter)) {
      const stats = await lstatOrUndefined(dirPath)
      const marker = stats?.isDirectory() ? this.describe([{key: dirKey, stats}])[0] : undefined
      if (marker) yield {kind: 'object', ...marker}
    }
    const children = await readChildren(dirPath, dirKey, namePrefix)
    for (let start = 0; start < children.length; start += STAT_BATCH) {
      const batch = children.slice(start, start + STAT_BATCH).map((child) => ({...child, key: keyOf(dirKey, child)}))
      const objects = this.describeFiles(batch, startAfter)
      for (const [i, child] of batch.entries()) {
        signal?.throwIfAborted()
        if (!child.directory) {
          const info = objects[i]
          if (info) yield {kind: 'object', ...info}
        } else if (collapse) {
          if (isAfter(child.key, startAfter) && await this.holdsObjects(child.key, signal)) yield {kind: 'prefix', prefix: child.key}
        } else if (isAfter(child.key, startAfter)) {
          yield* this.walk(child.key, '', undefined, false, signal)
        } else if (startAfter!.startsWith(child.key)) {
          yield* this.walk(child.key, '', startAfter, false, signal)
        }
      }
    }
  }

  /** The objects that the regular files of a batch (after `startAfter`) are, at their places in the batch. */
  private describeFiles(batch: ReadonlyArray<Child & {key: string}>, startAfter: string | undefined): Array<ObjectInfo | ObjectHead | undefined> {
    const files: FoundEntry[] = []
    const places: number[] = []
    for (const [i, child] of batch.entries()) {
      if (child.directory || !isAfter(child.key, startAfter)) continue
      const stats = lstatOrUndefinedSync(join(this.root, child.key))
      if (!stats?.isFile()) continue
      files.push({key: child.key, stats})
      places.push(i)
    }
    const objects = new Array<ObjectInfo | ObjectHead | undefined>(batch.length).fill(undefined)
    for (const [i, object] of this.describe(files).entries()) objects[places[i]] = object
    return objects
  }

  /**
   * Whether a directory holds any object: its marker, a file, or a subdirectory holding one. Stops at
   * the first, reading entries unsorted as they come, so a huge directory costs one batch of them.
   */
  private async holdsObjects(dirKey: string, signal: AbortSignal | undefined): Promise<boolean> {
    signal?.throwIfAborted()
    const dirPath = join(this.root, dirKey)
    const stats = await lstatOrUndefined(dirPath)
    if (!stats?.isDirectory()) return false
    if (this.describe([{key: dirKey, stats}])[0]) return true
    let entries
    try {
      // Node reads raw byte names with encoding 'buffer' here too; its types only say so for readdir.
      entries = await opendir(dirPath, {encoding: 'buffer' as BufferEncoding, bufferSize: 64})
    } catch {
      return false
    }
    for await (const entry of entries) {
      const name = keyName(entry.name as unknown as Buffer)
      if (name === undefined || isInternalEntry(dirKey, name)) continue
      if (entry.isFile()) return true
      if (entry.isDirectory() && await this.holdsObjects(`${dirKey}${name}/`, signal)) return true
    }
    return false
  }
}

/** The key of a file, or the key prefix (ending in '/') of a directory. */
function keyOf(dirKey: string, child: Child): string {
  return child.directory ? `${dirKey}${child.name}/` : `${dirKey}${child.name}`
}

function isAfter(key: string, startAfter: string | undefined): boolean {
  return startAfter === undefined || compareKeys(key, startAfter) > 0
}

/** 'a/b/' is a directory the store could hold: no empty, '.', '..' or over-long component, not internal. */
function isDirectoryKey(dirKey: string): boolean {
  try {
    parseKey(dirKey)
    return true
  } catch {
    return false
  }
}

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, {bigint: true})
  } catch {
    // Gone since the directory was read, or unreadable: not an object.
    return undefined
  }
}

/**
 * Synchronous: the inode is in the kernel's cache right after the directory was read, so the call
 * takes microseconds, where a thread-pool round trip per file cost several times the listing.
 */
function lstatOrUndefinedSync(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, {bigint: true, throwIfNoEntry: false})
  } catch {
    return undefined
  }
}

/**
 * The regular files and directories of one directory whose name starts with `namePrefix`, sorted as
 * keys. Names that are not valid UTF-8 cannot be S3 keys and are skipped, as are symlinks and special
 * files (no key reaches through them) and the FileStore's internal directory. Names are read as
 * strings: byte names cost several times the memory in a directory of 100,000 entries.
 */
async function readChildren(dirPath: string, dirKey: string, namePrefix: string): Promise<Child[]> {
  let entries: NamedEntry[]
  try {
    entries = await readEntries(dirPath)
  } catch {
    return []
  }
  const children: Child[] = []
  for (const {name, directory} of entries) {
    if (!name.startsWith(namePrefix) || isInternalEntry(dirKey, name)) continue
    children.push({name, directory, sortKey: byteOrderSortKey(directory ? `${name}/` : name)})
  }
  return children.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
}

interface NamedEntry {
  name: string
  directory: boolean
}

async function readEntries(dirPath: string): Promise<NamedEntry[]> {
  const entries = await readdir(dirPath, {withFileTypes: true})
  if (!entries.some((entry) => entry.name.includes('\uFFFD'))) {
    return entries.filter((entry) => entry.isFile() || entry.isDirectory()).map((entry) => ({name: entry.name, directory: entry.isDirectory()}))
  }
  // Node decodes bytes that are not UTF-8 as U+FFFD: only the raw names tell them from a real U+FFFD.
  const raw = await readdir(dirPath, {withFileTypes: true, encoding: 'buffer'})
  return raw.flatMap((entry) => {
    const name = keyName(entry.name)
    return name !== undefined && (entry.isFile() || entry.isDirectory()) ? [{name, directory: entry.isDirectory()}] : []
  })
}

/**
 * A string whose UTF-16 order is the UTF-8 byte order of `text`. The two differ only where code units
 * from U+E000 up meet surrogates (UTF-8 puts the former first), so those units are moved below the
 * surrogates; names without such units are their own sort key.
 */
function byteOrderSortKey(text: string): string {
  if (!/[\uD800-\uFFFF]/.test(text)) return text
  let key = ''
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    key += String.fromCharCode(unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit)
  }
  return key
}

/** A file name as a key component; undefined when its bytes are not UTF-8 (no S3 key can name it). */
function keyName(bytes: Buffer): string | undefined {
  const name = bytes.toString('utf8')
  return Buffer.from(name).equals(bytes) ? name : undefined
}

function isInternalEntry(dirKey: string, name: string): boolean {
  return dirKey === `${INTERNAL_DIR[0]}/` && name === INTERNAL_DIR[1]
}

/**
 * Groups a sorted stream of objects by an arbitrary delimiter: keys that share `prefix` + text + delimiter
 * are contiguous in key order and become one prefix entry, emitted where its first key would be.
 */
async function* groupByDelimiter(entries: AsyncIterable<ListEntry>, prefix: string, delimiter: string,
  startAfter: string | undefined): AsyncGenerator<ListEntry> {
  let lastGroup: string | undefined
  for await (const entry of entries) {
    if (entry.kind !== 'object') continue
    const at = entry.key.indexOf(delimiter, prefix.length)
    if (at === -1) {
      yield entry
      continue
    }
    const group = entry.key.slice(0, at + delimiter.length)
    if (group === lastGroup) continue
    lastGroup = group
    if (isAfter(group, startAfter)) yield {kind: 'prefix', prefix: group}
  }
}
