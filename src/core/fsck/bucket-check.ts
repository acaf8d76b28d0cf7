import PQueue from 'p-queue'
import {classifyKey, DIRECTORY_CONTENT_TYPE, displayPath, markerKey, type InvalidKeyReason} from '../layout/keys.js'
import {defaultMode, parseAttributes} from '../layout/metadata.js'
import type {ObjectStore} from '../store/object-store.js'
import {walkStoreTree} from '../transfer/store-tree.js'
import type {StoreEntry} from '../transfer/tree-entry.js'
import {NameConflicts} from './name-conflicts.js'
import type {Problem} from './problem.js'

/** A store entry in key order; an implicit directory carries the time of the first object below it. */
export type BucketEntry = StoreEntry

export interface BucketCheckOptions {
  store: ObjectStore
  report: (problem: Problem) => void
  /** Give implicit directories marker objects. */
  createMarkers: boolean
  /** Read every object's metadata (one HEAD each), not only that of zero-byte objects and markers. */
  deep: boolean
  /** HEADs and marker puts in flight. */
  concurrency: number
  /** Every entry, in key order (the cache comparison). */
  onEntry?: (entry: BucketEntry) => void
  /** A marker was created for the directory at `path`. */
  onMarkerCreated?: (path: string) => void
  signal?: AbortSignal
}

export interface BucketCounts {
  objects: number
  directories: number
}

const REASONS: Record<InvalidKeyReason, string> = {
  'empty-component': 'an empty path component (a leading /, or //)',
  'dot-component': 'a "." or ".." path component',
  'name-too-long': 'a path component longer than 255 bytes',
  nul: 'a NUL character',
  'invalid-utf8': 'bytes that are not UTF-8',
  'shadowed-by-directory': 'a directory of the same name',
}

/** Metadata values quoted in a report are cut to this length. */
const VALUE_SHOWN = 40

/**
 * One pass over the whole store in key order (a flat listing, so servers that drop prefixes
 * holding only sub-prefixes hide nothing), with bounded memory: keys that are not POSIX paths, a
 * file and a directory of one name, implicit directories, and (through HEAD) attribute metadata
 * that does not parse and symlinks with an empty body. Only zero-byte objects and markers are
 * HEADed unless `deep`: an empty symlink is a zero-byte object, and a HEAD per object would make
 * the pass many times slower than the listing.
 */
export class BucketCheck {
  private readonly queue: PQueue
  private failure: unknown
  /** Settles once every problem found so far has been reported, in key order. */
  private reported: Promise<void> = Promise.resolve()

  constructor(private readonly options: BucketCheckOptions) {
    this.queue = new PQueue({concurrency: options.concurrency})
  }

  async run(): Promise<BucketCounts> {
    const {store, signal} = this.options
    const counts: BucketCounts = {objects: 0, directories: 0}
    const conflicts = new NameConflicts()
    const walk = walkStoreTree(store, {
      signal,
      onProblem: (problem) => {
        const classified = classifyKey(problem.path)
        const reason = classified.kind === 'invalid' ? REASONS[classified.reason] : problem.reason
        this.report({kind: 'bucket-invalid-key', severity: 'warning', key: problem.path, detail: `the key has ${reason}`, repaired: false})
      },
    })
    try {
      for await (const entry of withImplicitTimes(walk)) {
        if (this.failure !== undefined) throw this.failure
        if (entry.kind === 'object') counts.objects++
        else counts.directories++
        const shadowed = conflicts.next(entry.key, entry.kind === 'object')
        if (shadowed !== undefined) {
          this.report({
            kind: 'bucket-name-conflict', severity: 'warning', key: shadowed, repaired: false,
            detail: `the file ${displayPath(shadowed)} is hidden by the directory ${displayPath(shadowed)}/ of the same name`,
          })
        }
        this.options.onEntry?.(entry)
        if (entry.kind === 'implicit') this.implicitDirectory(entry)
        else if (entry.size === 0 || this.options.deep) this.later((report) => this.checkMetadata(entry, report))
        if (this.queue.size > this.options.concurrency * 4) await this.queue.onSizeLessThan(this.options.concurrency * 2)
      }
      await this.queue.onIdle()
      await this.reported
    } finally {
      this.queue.clear()
    }
    if (this.failure !== undefined) throw this.failure
    return counts
  }

  private implicitDirectory(entry: BucketEntry): void {
    const problem: Problem = {
      kind: 'bucket-implicit-directory', severity: 'info', key: entry.key, repaired: false,
      detail: `${displayPath(entry.path)} has objects below it but no marker object`,
    }
    if (!this.options.createMarkers) {
      this.report(problem)
      return
    }
    this.later(async (report) => {
      try {
        await this.options.store.put(markerKey(entry.path), Buffer.alloc(0), {
          metadata: {mode: String(defaultMode('dir'))},
          contentType: DIRECTORY_CONTENT_TYPE,
          signal: this.options.signal,
        })
        report({...problem, detail: `${problem.detail}; marker created`, repaired: true})
        this.options.onMarkerCreated?.(entry.path)
      } catch (error) {
        report({...problem, detail: `${problem.detail}; creating its marker failed: ${(error as Error).message}`})
      }
    })
  }

  private async checkMetadata(entry: BucketEntry, report: (problem: Problem) => void): Promise<void> {
    const head = await this.options.store.head(entry.key, this.options.signal)
    if (head === undefined) return // deleted since it was listed
    const kind = entry.kind === 'marker' ? 'marker' : 'object'
    const {attributes, invalid} = parseAttributes(head.metadata, kind, head.lastModified, {uid: 0, gid: 0})
    if (invalid.length > 0) {
      const values = invalid.map((name) => `${name}=${JSON.stringify(shorten(head.metadata[name] ?? ''))}`).join(', ')
      report({
        kind: 'bucket-invalid-attributes', severity: 'warning', key: entry.key, repaired: false,
        detail: `${displayPath(entry.path)}: ${values} ${invalid.length === 1 ? 'does' : 'do'} not parse${invalid.includes('mode') ? ` as a ${kind === 'marker' ? 'directory' : 'file'} mode` : ''}`,
      })
    }
    if (attributes.type === 'symlink' && head.size === 0) {
      report({
        kind: 'bucket-empty-symlink', severity: 'warning', key: entry.key, repaired: false,
        detail: `${displayPath(entry.path)} is a symbolic link with an empty target`,
      })
    }
  }

  /** Reports a problem after those found earlier in key order, even when HEADs for them are still in flight. */
  private report(problem: Problem): void {
    this.inKeyOrder(Promise.resolve([problem]))
  }

  /**
   * Queues store work whose problems are reported in key order (two runs over the same bucket print
   * the same report, whatever order the HEADs finish in); its first failure ends the pass.
   */
  private later(work: (report: (problem: Problem) => void) => Promise<void>): void {
    const found: Problem[] = []
    this.inKeyOrder(this.queue.add(() => work((problem) => found.push(problem))).then(() => found, (error: unknown) => {
      this.failure ??= error
      return []
    }))
  }

  private inKeyOrder(problems: Promise<Problem[]>): void {
    this.reported = Promise.all([this.reported, problems]).then(([, found]) => {
      for (const problem of found) this.options.report(problem)
    })
  }
}

/**
 * The walk yields an implicit directory just before the object that revealed it; that object's
 * time is the directory's (how old it is decides whether a cached listing could have seen it).
 */
async function* withImplicitTimes(walk: AsyncIterable<StoreEntry>): AsyncGenerator<BucketEntry> {
  const waiting: StoreEntry[] = []
  for await (const entry of walk) {
    if (entry.kind === 'implicit') {
      waiting.push(entry)
      continue
    }
    for (const directory of waiting) yield {...directory, lastModified: entry.lastModified}
    waiting.length = 0
    yield entry
  }
  yield* waiting
}

function shorten(value: string): string {
  return value.length > VALUE_SHOWN ? `${value.slice(0, VALUE_SHOWN)}…` : value
}
