import {createReadStream} from 'node:fs'
import {readlink} from 'node:fs/promises'
import type {Readable} from 'node:stream'

import {RESERVED_NAME} from '../layout/keys.js'
import type {ObjectStore} from '../store/object-store.js'
import {contentReference, missingReferenceReason, type ContentReference} from './content.js'
import {describeImplicitDirectory, describeLocal, describeObject, type Description} from './description.js'
import {endpointLabel, type Endpoint} from './endpoint.js'
import {errnoOf} from './errors.js'
import {walkLocalTree} from './local-tree.js'
import type {PathFilter} from './path-filter.js'
import {walkStoreTree} from './store-tree.js'
import type {TreeEntry, WalkProblem} from './tree-entry.js'

/** One side of a comparison, local or a store, behind the few operations a comparison needs. */
export interface TreeSide {
  readonly kind: 'local' | 'store'
  readonly label: string
  walk(filter: PathFilter, onProblem: (problem: WalkProblem) => void, signal?: AbortSignal): AsyncIterable<TreeEntry>
  /** Undefined when the entry has vanished since it was walked. */
  describe(entry: TreeEntry, signal?: AbortSignal): Promise<SideDescription | undefined>
  read(entry: TreeEntry, signal?: AbortSignal): Promise<Readable>
}

export interface SideDescription {
  description: Description
  /** Stores: what the store holds about the content, or why it holds nothing usable. */
  reference?: ContentReference
  missingReference?: string
}

export function treeSide(endpoint: Endpoint): TreeSide {
  return endpoint.kind === 'local' ? new LocalSide(endpoint.dir) : new StoreSide(endpoint.store)
}

class LocalSide implements TreeSide {
  readonly kind = 'local'
  readonly label: string

  constructor(private readonly dir: string) {
    this.label = endpointLabel({kind: 'local', dir})
  }

  walk(filter: PathFilter, onProblem: (problem: WalkProblem) => void, signal?: AbortSignal): AsyncIterable<TreeEntry> {
    return walkLocalTree(this.dir, {
      filter,
      onProblem,
      rootExclusions: new Map([[RESERVED_NAME, `the name ${RESERVED_NAME} is reserved for zerofs's own objects at the root of a store`]]),
      signal,
    })
  }

  async describe(entry: TreeEntry): Promise<SideDescription | undefined> {
    if (entry.side !== 'local') throw new Error('LocalSide: not a local entry')
    try {
      const target = entry.stats.type === 'symlink' ? await readlink(entry.absolute) : undefined
      return {description: describeLocal(entry.stats, target)}
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return undefined
      throw error
    }
  }

  async read(entry: TreeEntry, signal?: AbortSignal): Promise<Readable> {
    if (entry.side !== 'local') throw new Error('LocalSide: not a local entry')
    return createReadStream(entry.absolute, {signal})
  }
}

class StoreSide implements TreeSide {
  readonly kind = 'store'
  readonly label: string

  constructor(private readonly store: ObjectStore) {
    this.label = store.url
  }

  walk(filter: PathFilter, onProblem: (problem: WalkProblem) => void, signal?: AbortSignal): AsyncIterable<TreeEntry> {
    return walkStoreTree(this.store, {filter, onProblem, signal})
  }

  async describe(entry: TreeEntry, signal?: AbortSignal): Promise<SideDescription | undefined> {
    if (entry.side !== 'store') throw new Error('StoreSide: not a store entry')
    if (entry.kind === 'implicit') return {description: describeImplicitDirectory()}
    const head = await this.store.head(entry.key, signal)
    if (head === undefined) return undefined
    const description = describeObject(head, entry.kind)
    if (description.type === 'symlink') description.target = (await this.readAll(entry.key, signal)).toString('utf8')
    if (entry.kind === 'marker') return {description}
    const reference = contentReference(head)
    return reference === undefined ? {description, missingReference: missingReferenceReason(head)} : {description, reference}
  }

  read(entry: TreeEntry, signal?: AbortSignal): Promise<Readable> {
    return this.store.get(entry.key, undefined, signal)
  }

  private async readAll(key: string, signal?: AbortSignal): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const chunk of await this.store.get(key, undefined, signal)) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }
}
