import type {InodeRow} from '../cache/inode-table.js'
import {ROOT_INO, type Ino} from '../fs/types.js'
import {displayPath} from '../layout/keys.js'
import type {BucketEntry} from './bucket-check.js'
import type {CacheAccess} from './cache-access.js'
import {countEntriesBelow} from './cache-structure.js'
import type {Problem, Severity} from './problem.js'

export interface CacheComparisonOptions {
  cache: CacheAccess
  report: (problem: Problem) => void
  repairing: boolean
  /** Entries the cache confirmed after this (ms) were refreshed by a live server meanwhile: left alone. */
  startedAt: number
  /** Staged inodes and their ancestors: local state newer than the bucket, never compared. */
  protectedInos: ReadonlySet<Ino>
}

/** A directory the walk is in, with its cache entry (if the cache knows it). */
interface Frame {
  path: string
  row?: InodeRow
  /** Bucket entries directly below that a complete cached listing of this directory lacks. */
  unlisted: number
  example?: string
  severity: Severity
}

const SEEN_BATCH = 500
const PAGE = 500

/**
 * Compares the cache with the bucket during the walk: each bucket entry is looked up in the cache
 * by its parent's inode and its name (one indexed query), and the entries the walk met are noted in
 * a temporary table, so that afterwards one query finds the cache entries the bucket does not have.
 * Disagreements that a change in the bucket after the cache last looked explains are ordinary
 * staleness (info: the cache refreshes them after its time-to-live); the others are warnings.
 */
export class CacheComparison {
  /** Cache entries compared with a bucket entry. */
  compared = 0
  private readonly frames: Frame[]
  private seenBatch: Ino[] = []

  constructor(private readonly options: CacheComparisonOptions) {
    options.cache.db.exec('DROP TABLE IF EXISTS temp.fsck_seen; CREATE TEMP TABLE fsck_seen (ino INTEGER PRIMARY KEY)')
    this.frames = [{path: '', row: options.cache.inodes.get(ROOT_INO), unlisted: 0, severity: 'info'}]
  }

  compare(entry: BucketEntry): void {
    const slash = entry.path.lastIndexOf('/')
    const parentPath = slash === -1 ? '' : entry.path.slice(0, slash)
    const name = entry.path.slice(slash + 1)
    while (this.frames.length > 1 && this.frames[this.frames.length - 1].path !== parentPath) this.leave(this.frames.pop()!)
    const parent = this.frames[this.frames.length - 1]
    const isDir = entry.kind !== 'object'
    const row = parent.row === undefined ? undefined : this.options.cache.inodes.child(parent.row.ino, name)
    // The children of a directory are looked up below its entry, even one of the wrong type.
    if (isDir) this.frames.push({path: entry.path, row, unlisted: 0, severity: 'info'})

    if (row === undefined) {
      this.unlisted(parent, entry, name)
      return
    }
    // The cache has a directory where the bucket (so far) has a file of that name: the directory may
    // yet show up further on (it sorts after the file, and wins); if not, reportMissing finds it.
    if (!isDir && row.type === 'dir') return
    this.seen(row.ino)
    if (this.options.protectedInos.has(row.ino) || row.seenAt >= this.options.startedAt) return
    this.compared++
    if (isDir && row.type !== 'dir') this.typeChanged(row, entry)
    else if (isDir) this.compareDirectory(row, entry)
    else this.compareObject(row, entry)
  }

  /** Ends the walk: reports the directories still open and flushes the entries seen. */
  finishWalk(): void {
    while (this.frames.length > 0) this.leave(this.frames.pop()!)
    this.flushSeen()
  }

  /** Cache entries (below the root, reachable from it) that the walk did not meet: the bucket lacks them. */
  reportMissing(): void {
    const {cache, protectedInos, startedAt, repairing, report} = this.options
    const page = cache.db.prepare(`
      SELECT ino FROM inodes
      WHERE ino > ? AND ino != ${ROOT_INO}
        AND ino NOT IN (SELECT ino FROM temp.fsck_seen) AND ino IN (SELECT ino FROM temp.fsck_reachable)
      ORDER BY ino LIMIT ${PAGE}`)
    const isSeen = cache.db.prepare('SELECT 1 FROM temp.fsck_seen WHERE ino = ?')
    for (let after = 0; ;) {
      const inos = (page.all(after) as Array<{ino: number}>).map((row) => BigInt(row.ino))
      for (const ino of inos) {
        const row = cache.inodes.get(ino)
        if (!row || protectedInos.has(ino) || row.seenAt >= startedAt) continue
        // Below a directory the bucket lacks as well: that directory's report covers it.
        if (row.parent !== ROOT_INO && !protectedInos.has(row.parent) && isSeen.get(row.parent) === undefined) continue
        const path = displayPath(cache.inodes.pathOf(ino) ?? row.name)
        const below = row.type === 'dir' ? countEntriesBelow(cache, ino) : 0
        const what = row.type === 'dir' ? `directory${below > 0 ? ` (with ${below} entries below it in the cache)` : ''}` : row.type
        report({
          kind: 'cache-missing-object', severity: 'warning', path, repaired: repairing,
          detail: `the cache has a ${what} the bucket does not${repairing ? '; forgotten' : ''}`,
        })
        if (repairing) {
          cache.transaction(() => {
            cache.inodes.deleteSubtree(ino)
            cache.inodes.update(row.parent, {changedAt: Date.now()})
          })
        }
      }
      if (inos.length < PAGE) return
      after = Number(inos[inos.length - 1])
    }
  }

  /** A marker was just created for an implicit directory: its cache entry (if any) has one now. */
  markerCreated(path: string): void {
    const {cache} = this.options
    let row = cache.inodes.get(ROOT_INO)
    for (const name of path.split('/')) row = row && cache.inodes.child(row.ino, name)
    if (row?.type !== 'dir') return
    const ino = row.ino
    cache.transaction(() => cache.inodes.update(ino, {marker: true, attrsAt: undefined}))
  }

  private compareObject(row: InodeRow, entry: BucketEntry): void {
    const differences: string[] = []
    if (row.size !== entry.size) differences.push(`size ${row.size} in the cache, ${entry.size} in the bucket`)
    if (row.etag !== undefined && row.etag !== entry.etag) differences.push(`ETag ${row.etag} in the cache, ${entry.etag} in the bucket`)
    if (row.lastModified !== undefined && !sameSecond(row.lastModified, entry.lastModified!.getTime())) {
      differences.push(`modified ${iso(row.lastModified)} in the cache, ${iso(entry.lastModified!.getTime())} in the bucket`)
    }
    if (differences.length === 0) return
    this.differs(row, entry, differences, entry.lastModified!.getTime(), () => this.options.cache.inodes.update(row.ino, {
      // As a listing records a changed object: its metadata is read again at the next access.
      size: entry.size, etag: entry.etag, lastModified: entry.lastModified!.getTime(),
      typeKnown: false, attrsAt: undefined, target: undefined, seenAt: Date.now(),
    }))
  }

  private compareDirectory(row: InodeRow, entry: BucketEntry): void {
    const marker = entry.kind === 'marker'
    const differences: string[] = []
    if (row.marker === true && !marker) differences.push('the cache knows a marker object the bucket does not have')
    if (row.marker === false && marker) differences.push('the bucket has a marker object the cache does not know')
    if (marker && row.marker === true && row.lastModified !== undefined && !sameSecond(row.lastModified, entry.lastModified!.getTime())) {
      differences.push(`marker modified ${iso(row.lastModified)} in the cache, ${iso(entry.lastModified!.getTime())} in the bucket`)
    }
    if (differences.length === 0) return
    // An implicit directory's time is that of an object below it, not its own: it has none.
    const lastModified = marker ? entry.lastModified!.getTime() : undefined
    this.differs(row, entry, differences, lastModified, () => this.options.cache.inodes.update(row.ino, {
      marker, etag: marker ? entry.etag : undefined, lastModified, attrsAt: undefined, seenAt: Date.now(),
    }))
  }

  /** A file (or symlink...) in the cache where the bucket has a directory: the directory wins. */
  private typeChanged(row: InodeRow, entry: BucketEntry): void {
    this.differs(row, entry, [`a ${row.type} in the cache, a directory in the bucket`], undefined, () => {
      this.options.cache.inodes.deleteSubtree(row.ino)
      // The parent's cached listing named a file: it must be read again to show the directory.
      this.options.cache.inodes.update(row.parent, {listedAt: undefined})
    })
  }

  /** `changedAt`: when the bucket entry last changed, if it says (an implicit directory does not). */
  private differs(row: InodeRow, entry: BucketEntry, differences: string[], changedAt: number | undefined, repair: () => void): void {
    const {repairing, report, cache} = this.options
    const changedSince = sameSecondOrLater(changedAt, row.seenAt)
    const detail = `${differences.join('; ')}${changedSince ? ' (changed in the bucket since the cache last looked; it refreshes after its time-to-live)' : ''}`
    report({
      kind: 'cache-differs', severity: changedSince ? 'info' : 'warning', path: displayPath(entry.path),
      detail: `${detail}${repairing ? '; refreshed' : ''}`, repaired: repairing,
    })
    if (repairing) cache.transaction(repair)
  }

  private unlisted(parent: Frame, entry: BucketEntry, name: string): void {
    const listedAt = parent.row?.listedAt
    if (listedAt === undefined) return // never listed: the cache finds new entries when asked
    parent.unlisted++
    parent.example ??= name
    if (!sameSecondOrLater(entry.lastModified?.getTime(), listedAt)) parent.severity = 'warning'
  }

  private leave(frame: Frame): void {
    if (frame.unlisted === 0 || frame.row === undefined) return
    const {repairing, report, cache} = this.options
    const row = frame.row
    const explained = frame.severity === 'info' ? ' (all added since the listing; it is read again after its time-to-live)' : ''
    report({
      kind: 'cache-stale-listing', severity: frame.severity, path: displayPath(frame.path), repaired: repairing,
      detail: `the cached listing lacks ${frame.unlisted} ${frame.unlisted === 1 ? 'entry' : 'entries'} of the bucket`
        + ` (such as '${frame.example}')${explained}${repairing ? '; the listing will be read again' : ''}`,
    })
    if (repairing) cache.transaction(() => cache.inodes.update(row.ino, {listedAt: undefined}))
  }

  private seen(ino: Ino): void {
    this.seenBatch.push(ino)
    if (this.seenBatch.length >= SEEN_BATCH) this.flushSeen()
  }

  private flushSeen(): void {
    const batch = this.seenBatch
    this.seenBatch = []
    if (batch.length === 0) return
    const insert = this.options.cache.db.prepare('INSERT OR IGNORE INTO temp.fsck_seen (ino) VALUES (?)')
    this.options.cache.db.transaction(() => {
      for (const ino of batch) insert.run(ino)
    })()
  }

}

/** Listings give milliseconds, HEAD whole seconds: a cache entry may hold either. */
function sameSecond(a: number, b: number): boolean {
  return Math.floor(a / 1000) === Math.floor(b / 1000)
}

/** Whether a bucket time (whole seconds on many servers) is not before a cache time (ms). */
function sameSecondOrLater(bucketTime: number | undefined, cacheTime: number): boolean {
  return bucketTime !== undefined && Math.floor(bucketTime / 1000) >= Math.floor(cacheTime / 1000)
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
