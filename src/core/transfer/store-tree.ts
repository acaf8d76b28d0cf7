import {classifyKey} from '../layout/keys.js'
import type {ObjectStore} from '../store/object-store.js'
import type {PathFilter} from './path-filter.js'
import type {StoreEntry, WalkProblem} from './tree-entry.js'

export interface StoreWalkOptions {
  filter?: PathFilter
  /** Keys that cannot be POSIX paths (`a//b`, a 300-byte component): listed, never entries. */
  onProblem?: (problem: WalkProblem) => void
  signal?: AbortSignal
}

interface OpenDirectory {
  path: string
  excluded: boolean
}

/**
 * Walks a store as a tree, in key order, from one flat listing (no delimiter, so servers that drop
 * prefixes holding only sub-prefixes cannot hide anything). Directories come from their markers,
 * or, where another tool wrote none, as implicit directories placed where their marker would be.
 * The reserved `.zerofs/` space is left out. Memory holds the current directory path only.
 */
export async function* walkStoreTree(store: ObjectStore, options: StoreWalkOptions = {}): AsyncGenerator<StoreEntry> {
  const open: OpenDirectory[] = []
  for await (const listed of store.list({signal: options.signal})) {
    if (listed.kind !== 'object') continue
    const classified = classifyKey(listed.key)
    if (classified.kind === 'reserved') continue
    if (classified.kind === 'invalid') {
      options.onProblem?.({path: listed.key, reason: `not a POSIX path (${classified.reason})`, kind: 'invalid-name'})
      continue
    }
    const path = classified.path
    const components = path.split('/')
    const parentDepth = components.length - 1

    // Leave the directories this key is not in, then enter (as implicit) those it is in but whose
    // marker was not listed: a marker sorts before everything below it, so it would have been.
    let depth = 0
    while (depth < open.length && depth < parentDepth && open[depth].path === components.slice(0, depth + 1).join('/')) depth++
    open.length = depth
    for (; depth < parentDepth; depth++) {
      const directory = components.slice(0, depth + 1).join('/')
      const excluded = isExcluded(open, directory, true, options.filter)
      open.push({path: directory, excluded})
      if (!excluded) yield {side: 'store', key: `${directory}/`, path: directory, kind: 'implicit', size: 0}
    }

    const isMarker = classified.kind === 'marker'
    const excluded = isExcluded(open, path, isMarker, options.filter)
    if (isMarker) open.push({path, excluded})
    if (excluded) continue
    yield {
      side: 'store',
      key: listed.key,
      path,
      kind: isMarker ? 'marker' : 'object',
      size: listed.size,
      etag: listed.etag,
      lastModified: listed.lastModified,
    }
  }
}

function isExcluded(open: readonly OpenDirectory[], path: string, isDirectory: boolean, filter: PathFilter | undefined): boolean {
  if (filter === undefined) return false
  return (open.length > 0 && open[open.length - 1].excluded) || filter.excludes(path, isDirectory)
}
