import type {BigIntStats} from 'node:fs'
import {lstat, lstatSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {resolve} from 'node:path'
import {performance} from 'node:perf_hooks'

import {joinPath} from '../layout/keys.js'
import {fileTypeOfMode} from '../layout/mode.js'
import {fromNanoseconds} from '../layout/timestamp.js'
import {compareKeys} from '../store/key-order.js'
import {describeError, errnoOf} from './errors.js'
import type {PathFilter} from './path-filter.js'
import type {LocalEntry, LocalStats, WalkProblem} from './tree-entry.js'

export interface LocalWalkOptions {
  filter?: PathFilter
  /** What the walk cannot take: names that are not UTF-8, directories it cannot read. */
  onProblem?: (problem: WalkProblem) => void
  /**
   * Names at the root the walk leaves out: with a reason, as a problem (`.zerofs` is reserved in a
   * store); without one, silently (a restore's own staging directory).
   */
  rootExclusions?: ReadonlyMap<string, string | undefined>
  signal?: AbortSignal
  /** After an lstat that took this long, the walk's calls go out in parallel (SLOW_LSTAT_MS; 0 from the start). */
  slowLstatMs?: number
}

/** lstat calls in flight at once within a directory: a NAS answers them in parallel. */
const STAT_BATCH = 64
/**
 * A walk calls lstat synchronously until one call takes longer than this, then in parallel batches
 * for the rest of the walk. From the page cache a synchronous lstat answers in microseconds for a
 * quarter of the CPU of one through the thread pool (~4 against ~15 µs); a call that goes to a
 * device or a NAS (an SSD read, a network round trip: 50 µs and more) would make the walk wait for
 * each in turn, where calls in flight together overlap. A call slowed by a busy CPU only switches
 * early, to what every walk did before.
 */
const SLOW_LSTAT_MS = 0.05

const utf8 = new TextDecoder('utf-8', {fatal: true})

interface Child {
  name: string
  isDirectory: boolean
  /** The name's key within its directory: `name/` for a directory, so that siblings sort as keys do. */
  sortKey: string
}

/**
 * Walks a local directory tree lazily in store key order (see tree-entry.ts), the root itself
 * excluded. Symbolic links are entries, never followed. A directory's names are read and sorted
 * before its entries are given out, so memory grows with the largest directory, not with the tree.
 * Entries that vanish during the walk are left out; entries the walk cannot read are problems.
 */
export async function* walkLocalTree(root: string, options: LocalWalkOptions = {}): AsyncGenerator<LocalEntry> {
  yield* walkDirectory(resolve(root), '', options, new Lstat(options.slowLstatMs ?? SLOW_LSTAT_MS))
}

async function* walkDirectory(absolute: string, path: string, options: LocalWalkOptions, lstats: Lstat): AsyncGenerator<LocalEntry> {
  options.signal?.throwIfAborted()
  let children: Child[]
  try {
    children = await readChildren(absolute, path, options)
  } catch (error) {
    if (path !== '' && errnoOf(error) === 'ENOENT') return
    if (path === '') throw error
    options.onProblem?.({path: `${path}/`, reason: describeError(error), kind: 'unreadable'})
    return
  }
  children.sort((a, b) => compareKeys(a.sortKey, b.sortKey))
  for (let start = 0; start < children.length; start += STAT_BATCH) {
    const batch = children.slice(start, start + STAT_BATCH)
    const absolutes = batch.map((child) => childOf(absolute, child.name))
    const stats = await lstats.all(absolutes)
    for (const [index, child] of batch.entries()) {
      const childPath = joinPath(path, child.name)
      const childAbsolute = absolutes[index]
      const result = stats[index]
      if (result instanceof Error) {
        if (errnoOf(result) !== 'ENOENT') options.onProblem?.({path: childPath, reason: describeError(result), kind: 'unreadable'})
        continue
      }
      const entryStats = localStats(result)
      if ((entryStats.type === 'dir') !== child.isDirectory) {
        options.onProblem?.({path: childPath, reason: 'replaced by another kind of file during the walk', kind: 'unreadable'})
        continue
      }
      if (child.isDirectory) {
        yield {side: 'local', key: `${childPath}/`, path: childPath, absolute: childAbsolute, stats: entryStats}
        yield* walkDirectory(childAbsolute, childPath, options, lstats)
      } else {
        yield {side: 'local', key: childPath, path: childPath, absolute: childAbsolute, stats: entryStats}
      }
    }
  }
}

/** A name's path in a directory whose path is normalised (path.join would normalise it again for each entry). */
function childOf(directory: string, name: string): string {
  return directory.endsWith('/') ? directory + name : `${directory}/${name}`
}

/** lstat of a walk's paths, each answer a BigIntStats or the call's error: see SLOW_LSTAT_MS. */
class Lstat {
  private parallel = false

  constructor(private readonly slowMs: number) {}

  async all(paths: readonly string[]): Promise<Array<BigIntStats | NodeJS.ErrnoException>> {
    if (this.parallel) return lstatAll(paths)
    const answers: Array<BigIntStats | NodeJS.ErrnoException> = []
    for (const [index, path] of paths.entries()) {
      const started = performance.now()
      answers.push(lstatNow(path))
      if (performance.now() - started >= this.slowMs) {
        this.parallel = true
        return answers.concat(await lstatAll(paths.slice(index + 1)))
      }
    }
    return answers
  }
}

function lstatNow(path: string): BigIntStats | NodeJS.ErrnoException {
  try {
    return lstatSync(path, {bigint: true})
  } catch (error) {
    return error as NodeJS.ErrnoException
  }
}

/**
 * lstat of several paths at once. Callbacks and one promise for the batch: a promise per call cost
 * three times the CPU (~20 µs per entry of a walk).
 */
function lstatAll(paths: readonly string[]): Promise<Array<BigIntStats | NodeJS.ErrnoException>> {
  return new Promise((resolve) => {
    const answers = new Array<BigIntStats | NodeJS.ErrnoException>(paths.length)
    let waiting = paths.length
    if (waiting === 0) resolve(answers)
    paths.forEach((path, index) => lstat(path, {bigint: true}, (error, stats) => {
      answers[index] = error ?? stats
      if (--waiting === 0) resolve(answers)
    }))
  })
}

/** The names of a directory that are valid UTF-8 and not filtered out. */
async function readChildren(absolute: string, path: string, options: LocalWalkOptions): Promise<Child[]> {
  const children: Child[] = []
  // Names as bytes: a name that is not UTF-8 would otherwise come back altered, naming no file.
  // One call per directory: its names are all held (to be sorted) anyway.
  const dirents = await readdir(absolute, {encoding: 'buffer', withFileTypes: true})
  for (const dirent of dirents) {
    const bytes = dirent.name
    let name: string
    try {
      name = utf8.decode(bytes)
    } catch {
      options.onProblem?.({path: joinPath(path, escapeBytes(bytes)), reason: 'the name is not valid UTF-8', kind: 'invalid-name'})
      continue
    }
    if (path === '' && options.rootExclusions?.has(name)) {
      const reason = options.rootExclusions.get(name)
      if (reason !== undefined) options.onProblem?.({path: name, reason, kind: 'invalid-name'})
      continue
    }
    const isDirectory = dirent.isDirectory()
    if (options.filter?.excludes(joinPath(path, name), isDirectory)) continue
    children.push({name, isDirectory, sortKey: isDirectory ? `${name}/` : name})
  }
  return children
}

export function localStats(stats: BigIntStats): LocalStats {
  const mode = Number(stats.mode)
  return {
    type: fileTypeOfMode(mode) ?? 'file',
    size: Number(stats.size),
    mode,
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    rdev: Number(stats.rdev),
    mtime: fromNanoseconds(stats.mtimeNs),
    atime: fromNanoseconds(stats.atimeNs),
    ctime: fromNanoseconds(stats.ctimeNs),
    dev: Number(stats.dev),
    ino: Number(stats.ino),
    nlink: Number(stats.nlink),
  }
}

/** Printable ASCII as is, every other byte as \xNN. */
function escapeBytes(bytes: Buffer): string {
  let text = ''
  for (const byte of bytes) text += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`
  return text
}
