import type Database from 'better-sqlite3'

import {formatEpochSeconds} from '../layout/timestamp.js'
import {compareKeys} from '../store/key-order.js'
import type {LocalStats} from './tree-entry.js'

/**
 * What a migration knows to be complete at its destination: per key, the source attributes it was
 * copied with and the destination ETag it had then. A later run that finds the same attributes at
 * the source and the same ETag (and size) in the destination listing skips the entry without
 * asking the server anything more.
 *
 * Records are written in batches: one lost to a kill -9 only costs the next run a HEAD (or a stat)
 * to find the entry complete, never a second upload.
 */
export interface JournalRecord {
  size: number
  /** formatEpochSeconds of the source mtime. */
  mtime: string
  mode: number
  uid: number
  gid: number
  etag: string
  sha256?: string
  /** The object's LastModified (ms) as a listing showed it after the record was made; unknown until then. */
  lastModified?: number
}

const BATCH = 256
const FLUSH_AFTER_MS = 500
/** Records read at once by an ordered scan (getInOrder). */
const SCAN_PAGE = 512

type RecordRow = Omit<JournalRecord, 'sha256' | 'lastModified'> & {sha256: string | null; lastModified: number | null}

interface Scan {
  rows: Array<RecordRow & {key: string}>
  index: number
  /** The key last asked for: a key at or before it is looked up instead. */
  asked?: string
  exhausted: boolean
}

export class Journal {
  private readonly select: Database.Statement<[number, string]>
  private readonly upsert: Database.Statement
  private readonly remove: Database.Statement<[number, string]>
  private readonly listed: Database.Statement
  private readonly page: Database.Statement<[number, string, number]>
  private scan?: Scan
  private pending: Array<{key: string; record?: JournalRecord; listedAt?: {etag: string; lastModified: number}}> = []
  private flushTimer?: NodeJS.Timeout

  constructor(private readonly db: Database.Database, private readonly pair: number) {
    this.select = db.prepare('SELECT size, mtime, mode, uid, gid, etag, sha256, last_modified AS lastModified FROM journal WHERE pair = ? AND key = ?')
    this.upsert = db.prepare(`INSERT INTO journal (pair, key, size, mtime, mode, uid, gid, etag, sha256, last_modified)
      VALUES (@pair, @key, @size, @mtime, @mode, @uid, @gid, @etag, @sha256, @lastModified)
      ON CONFLICT (pair, key) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, mode = excluded.mode,
        uid = excluded.uid, gid = excluded.gid, etag = excluded.etag, sha256 = excluded.sha256, last_modified = excluded.last_modified`)
    this.remove = db.prepare('DELETE FROM journal WHERE pair = ? AND key = ?')
    this.listed = db.prepare('UPDATE journal SET last_modified = ? WHERE pair = ? AND key = ? AND etag = ?')
    // SQLite's BINARY collation orders TEXT by its UTF-8 bytes: S3's key order (compareKeys).
    this.page = db.prepare(`SELECT key, size, mtime, mode, uid, gid, etag, sha256, last_modified AS lastModified
      FROM journal WHERE pair = ? AND key > ? ORDER BY key LIMIT ?`)
  }

  get(key: string): JournalRecord | undefined {
    const row = this.select.get(this.pair, key) as RecordRow | undefined
    return row === undefined ? undefined : toRecord(row)
  }

  /**
   * get() for a caller that asks in ascending key order, as a walk does: the journal is read as one
   * ordered scan beside it, a page at a time, instead of a lookup per key. Records of keys ahead of
   * the one asked must not change meanwhile (a migration records only keys it has walked past).
   */
  getInOrder(key: string): JournalRecord | undefined {
    const scan = this.scan ??= {rows: [], index: 0, exhausted: false}
    if (scan.asked !== undefined && compareKeys(key, scan.asked) <= 0) return this.get(key)
    scan.asked = key
    for (;;) {
      while (scan.index < scan.rows.length && compareKeys(scan.rows[scan.index].key, key) < 0) scan.index++
      if (scan.index < scan.rows.length || scan.exhausted) break
      const after = scan.rows.length > 0 ? scan.rows[scan.rows.length - 1].key : ''
      scan.rows = this.page.all(this.pair, after, SCAN_PAGE) as Scan['rows']
      scan.index = 0
      scan.exhausted = scan.rows.length < SCAN_PAGE
    }
    const row = scan.rows[scan.index]
    return row?.key === key ? toRecord(row) : undefined
  }

  /** A new record: the object was just written, so its LastModified is not known yet. */
  record(key: string, record: JournalRecord): void {
    this.queue({key, record: {...record, lastModified: undefined}})
  }

  /** A listing showed the recorded object (same ETag) with this LastModified. */
  listedAs(key: string, etag: string, lastModified: number): void {
    this.queue({key, listedAt: {etag, lastModified}})
  }

  forget(key: string): void {
    this.queue({key})
  }

  flush(): void {
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) return
    this.db.transaction(() => {
      for (const {key, record, listedAt} of batch) {
        if (listedAt !== undefined) this.listed.run(listedAt.lastModified, this.pair, key, listedAt.etag)
        else if (record === undefined) this.remove.run(this.pair, key)
        else this.upsert.run({pair: this.pair, key, ...record, sha256: record.sha256 ?? null, lastModified: record.lastModified ?? null})
      }
    })()
  }

  private queue(change: {key: string; record?: JournalRecord; listedAt?: {etag: string; lastModified: number}}): void {
    this.pending.push(change)
    if (this.pending.length >= BATCH) this.flush()
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS).unref()
  }
}

function toRecord(row: RecordRow): JournalRecord {
  const record: JournalRecord = {size: row.size, mtime: row.mtime, mode: row.mode, uid: row.uid, gid: row.gid, etag: row.etag}
  if (row.sha256 !== null) record.sha256 = row.sha256
  if (row.lastModified !== null) record.lastModified = row.lastModified
  return record
}

/** The record of a local entry copied to (or from) an object with this ETag. */
export function journalRecord(stats: LocalStats, etag: string, sha256?: string): JournalRecord {
  return {size: stats.size, mtime: formatEpochSeconds(stats.mtime), mode: stats.mode, uid: stats.uid, gid: stats.gid, etag, sha256}
}

/**
 * Whether a listed object is the one a record was made for: same ETag and, once known, same
 * LastModified (a rewrite with the same bytes, such as a metadata change, moves LastModified).
 */
export function isRecordedObject(record: JournalRecord, listed: {etag?: string; lastModified?: Date}): boolean {
  if (listed.etag === undefined || record.etag !== listed.etag) return false
  return record.lastModified === undefined || record.lastModified === listed.lastModified?.getTime()
}

/** Whether the local entry still has the attributes it was recorded with. */
export function matchesStats(record: JournalRecord, stats: LocalStats): boolean {
  return record.size === stats.size && record.mtime === formatEpochSeconds(stats.mtime) && record.mode === stats.mode
    && record.uid === stats.uid && record.gid === stats.gid
}
