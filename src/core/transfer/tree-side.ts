import {readlink} from 'node:fs/promises'

import {RESERVED_NAME} from '../layout/keys.js'
import type {ObjectStore} from '../store/object-store.js'
import {ContentDigest, contentReference, missingReferenceReason, type ContentReference} from './content.js'
import {describeImplicitDirectory, describeLocal, describeObject, describeRecord, type Description} from './description.js'
import {endpointLabel, type Endpoint} from './endpoint.js'
import {errnoOf} from './errors.js'
import {FileHasher, type HashRequestHandle} from './file-hasher.js'
import {isRecordedObject, type Journal} from './journal.js'
import {walkLocalTree} from './local-tree.js'
import type {PathFilter} from './path-filter.js'
import {readAhead} from './read-ahead.js'
import {walkStoreTree} from './store-tree.js'
import type {LocalEntry, StoreEntry, TreeEntry, WalkProblem} from './tree-entry.js'

/** One side of a comparison, local or a store, behind the few operations a comparison needs. */
export interface TreeSide {
  readonly kind: 'local' | 'store'
  readonly label: string
  walk(filter: PathFilter, onProblem: (problem: WalkProblem) => void, signal?: AbortSignal): AsyncIterable<TreeEntry>
  /** Undefined when the entry has vanished since it was walked. */
  describe(entry: TreeEntry, signal?: AbortSignal): Promise<SideDescription | undefined>
  /** The digest `reference` wants (or plain SHA-256) of an entry's content, and its length. */
  digest(entry: TreeEntry, reference: ContentReference | {kind: 'sha256'}, signal?: AbortSignal): Promise<{digest: string; bytes: number}>
  /**
   * Local sides: from now on, start hashing each file with this digest as the walk finds it, so
   * that hashing overlaps the other side's listing (a later digest() of that kind takes it). With
   * undefined, nothing more is started.
   */
  hashAhead?(kind: AheadDigest | undefined): void
  /** Drops what was prepared for an entry whose comparison is over. */
  forget(entry: TreeEntry): void
  /** Entries described from a migration journal instead of the store. */
  readonly journalHits: number
  close(): Promise<void>
}

export type AheadDigest = 'sha256' | 'md5'

type Digest = {digest: string; bytes: number}

/**
 * Entries a local walk that hashes ahead may be ahead of the comparisons (a few MB of entries and
 * digests): enough for the hashing of a tree's files to overlap a slow listing of the other side.
 */
const HASH_AHEAD_ENTRIES = 8192

export interface SideDescription {
  description: Description
  /** Stores: what the store holds about the content, or why it holds nothing usable. */
  reference?: ContentReference
  missingReference?: string
}

/** `journal`: a migration's journal into this store, to describe objects unchanged since without a HEAD. */
export function treeSide(endpoint: Endpoint, journal?: Journal): TreeSide {
  return endpoint.kind === 'local' ? new LocalSide(endpoint.dir) : new StoreSide(endpoint.store, journal)
}

class LocalSide implements TreeSide {
  readonly kind = 'local'
  readonly label: string
  readonly journalHits = 0
  private hasher?: FileHasher
  private aheadKind?: AheadDigest
  /** Digests started by the walk, until their comparison takes or forgets them (the walk's read-ahead bounds them). */
  private readonly ahead = new Map<string, {kind: AheadDigest} & HashRequestHandle>()

  constructor(private readonly dir: string) {
    this.label = endpointLabel({kind: 'local', dir})
  }

  walk(filter: PathFilter, onProblem: (problem: WalkProblem) => void, signal?: AbortSignal): AsyncIterable<TreeEntry> {
    const entries = walkLocalTree(this.dir, {
      filter,
      onProblem,
      rootExclusions: new Map([[RESERVED_NAME, `the name ${RESERVED_NAME} is reserved for zerofs's own objects at the root of a store`]]),
      signal,
    })
    // Hashing ahead, the walk runs far ahead of the comparisons, so that the files hash while the
    // other side's listing arrives rather than after it.
    return this.aheadKind === undefined ? entries : readAhead(this.startingHashes(entries), HASH_AHEAD_ENTRIES)
  }

  hashAhead(kind: AheadDigest | undefined): void {
    this.aheadKind = kind
    if (kind !== undefined) this.hasher ??= new FileHasher()
  }

  forget(entry: TreeEntry): void {
    if (entry.side !== 'local') return
    this.ahead.get(entry.absolute)?.withdraw()
    this.ahead.delete(entry.absolute)
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

  digest(entry: TreeEntry, reference: ContentReference | {kind: 'sha256'}): Promise<Digest> {
    if (entry.side !== 'local') throw new Error('LocalSide: not a local entry')
    const ahead = this.ahead.get(entry.absolute)
    this.ahead.delete(entry.absolute)
    if (ahead?.kind === reference.kind) return ahead.result
    ahead?.withdraw()
    this.hasher ??= new FileHasher()
    return this.hasher.hash(entry.absolute, reference, {size: entry.stats.size})
  }

  async close(): Promise<void> {
    await this.hasher?.close()
  }

  private async* startingHashes(entries: AsyncIterable<LocalEntry>): AsyncGenerator<LocalEntry> {
    for await (const entry of entries) {
      if (this.aheadKind !== undefined && entry.stats.type === 'file') this.startAhead(entry, this.aheadKind)
      yield entry
    }
  }

  private startAhead(entry: LocalEntry, kind: AheadDigest): void {
    this.hasher ??= new FileHasher()
    // A placeholder reference: the worker computes the digest of its kind and compares nothing.
    const reference = kind === 'md5' ? {kind, hex: '', source: ''} : {kind}
    const request = this.hasher.request(entry.absolute, reference, {size: entry.stats.size})
    request.result.catch(() => undefined) // its comparison awaits it, or it was forgotten
    this.ahead.set(entry.absolute, {kind, ...request})
  }
}

class StoreSide implements TreeSide {
  readonly kind = 'store'
  readonly label: string
  journalHits = 0

  constructor(private readonly store: ObjectStore, private readonly journal?: Journal) {
    this.label = store.url
  }

  walk(filter: PathFilter, onProblem: (problem: WalkProblem) => void, signal?: AbortSignal): AsyncIterable<TreeEntry> {
    return walkStoreTree(this.store, {filter, onProblem, signal})
  }

  async describe(entry: TreeEntry, signal?: AbortSignal): Promise<SideDescription | undefined> {
    if (entry.side !== 'store') throw new Error('StoreSide: not a store entry')
    if (entry.kind === 'implicit') return {description: describeImplicitDirectory()}
    const recorded = this.fromJournal(entry)
    if (recorded !== undefined) return recorded
    const head = await this.store.head(entry.key, signal)
    if (head === undefined) return undefined
    const description = describeObject(head, entry.kind)
    if (description.type === 'symlink') description.target = (await this.readAll(entry.key, signal)).toString('utf8')
    if (entry.kind === 'marker') return {description}
    const reference = contentReference(head)
    return reference === undefined ? {description, missingReference: missingReferenceReason(head)} : {description, reference}
  }

  async digest(entry: TreeEntry, reference: ContentReference | {kind: 'sha256'}, signal?: AbortSignal): Promise<{digest: string; bytes: number}> {
    if (entry.side !== 'store') throw new Error('StoreSide: not a store entry')
    const digest = new ContentDigest(reference)
    let bytes = 0
    for await (const chunk of await this.store.get(entry.key, undefined, signal)) {
      digest.update(chunk as Buffer)
      bytes += (chunk as Buffer).length
    }
    return {digest: digest.digest(), bytes}
  }

  forget(): void {}

  async close(): Promise<void> {}

  /**
   * A file or directory that migrate wrote (or found complete) and that the listing shows with the
   * recorded ETag and LastModified has not been written since: its metadata is the recorded one.
   * Symlinks are always read, for their targets.
   */
  private fromJournal(entry: StoreEntry): SideDescription | undefined {
    const record = this.journal?.getInOrder(entry.key)
    if (record?.lastModified === undefined || !isRecordedObject(record, entry)) return undefined
    const description = describeRecord(record, entry.size)
    if (description.type === 'dir') {
      this.journalHits++
      return {description}
    }
    // A file recorded without its SHA-256 (another tool wrote it) is HEADed for its other checksums.
    if (description.type !== 'file' || record.sha256 === undefined) return undefined
    this.journalHits++
    return {description, reference: {kind: 'sha256', hex: record.sha256, source: 'x-amz-meta-sha256'}}
  }

  private async readAll(key: string, signal?: AbortSignal): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const chunk of await this.store.get(key, undefined, signal)) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }
}
