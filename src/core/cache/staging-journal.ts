import type Database from 'better-sqlite3'
import type {Ino, Timestamp} from '../fs/types.js'
import {decodeRanges, encodeRanges, type RangeList} from './range-set.js'

/** The object a staged file started from: gaps in the staged data are filled from it. */
export interface BaseObject {
  key: string
  etag: string
  size: number
}

/** The journal entry of a staged file; its data lives in `staging/<ino>`. */
export interface StagedFile {
  ino: Ino
  /** Logical size of the file. */
  size: number
  /** Bytes written by clients. */
  written: RangeList
  /** Bytes copied into the staging file from the base object. */
  fetched: RangeList
  base?: BaseObject
  /** Bytes of the base still part of the file: `[0, baseLimit)` not written or fetched come from the base. */
  baseLimit: number
  /** The attributes to upload with the data. */
  mode: number
  uid: number
  gid: number
  mtime: Timestamp
  atime: Timestamp
  ctime: Timestamp
  stagedAt: number
}

interface RawStaged {
  ino: number
  size: number
  written: string
  fetched: string
  base_key: string | null
  base_etag: string | null
  base_size: number | null
  base_limit: number
  mode: number
  uid: number
  gid: number
  mtime_sec: number
  mtime_nsec: number
  atime_sec: number
  atime_nsec: number
  ctime_sec: number
  ctime_nsec: number
  staged_at: number
}

function fromRaw(raw: RawStaged): StagedFile {
  return {
    ino: BigInt(raw.ino),
    size: raw.size,
    written: decodeRanges(raw.written),
    fetched: decodeRanges(raw.fetched),
    base: raw.base_key === null ? undefined : {key: raw.base_key, etag: raw.base_etag ?? '', size: raw.base_size ?? 0},
    baseLimit: raw.base_limit,
    mode: raw.mode,
    uid: raw.uid,
    gid: raw.gid,
    mtime: {sec: raw.mtime_sec, nsec: raw.mtime_nsec},
    atime: {sec: raw.atime_sec, nsec: raw.atime_nsec},
    ctime: {sec: raw.ctime_sec, nsec: raw.ctime_nsec},
    stagedAt: raw.staged_at,
  }
}

function toParams(file: StagedFile): Record<string, bigint | number | string | null> {
  return {
    ino: file.ino,
    size: file.size,
    written: encodeRanges(file.written),
    fetched: encodeRanges(file.fetched),
    base_key: file.base?.key ?? null,
    base_etag: file.base?.etag ?? null,
    base_size: file.base?.size ?? null,
    base_limit: file.baseLimit,
    mode: file.mode,
    uid: file.uid,
    gid: file.gid,
    mtime_sec: file.mtime.sec,
    mtime_nsec: file.mtime.nsec,
    atime_sec: file.atime.sec,
    atime_nsec: file.atime.nsec,
    ctime_sec: file.ctime.sec,
    ctime_nsec: file.ctime.nsec,
    staged_at: file.stagedAt,
  }
}

const COLUMNS = ['ino', 'size', 'written', 'fetched', 'base_key', 'base_etag', 'base_size', 'base_limit', 'mode', 'uid', 'gid',
  'mtime_sec', 'mtime_nsec', 'atime_sec', 'atime_nsec', 'ctime_sec', 'ctime_nsec', 'staged_at']

/** The journal of staged writes: what a restart needs to upload acknowledged data. */
export class StagingJournal {
  private readonly getStatement: Database.Statement
  private readonly putStatement: Database.Statement
  private readonly deleteStatement: Database.Statement
  private readonly allStatement: Database.Statement

  constructor(db: Database.Database) {
    this.getStatement = db.prepare('SELECT * FROM staged WHERE ino = ?')
    this.putStatement = db.prepare(`INSERT OR REPLACE INTO staged (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`)
    this.deleteStatement = db.prepare('DELETE FROM staged WHERE ino = ?')
    this.allStatement = db.prepare('SELECT ino FROM staged ORDER BY staged_at')
  }

  get(ino: Ino): StagedFile | undefined {
    const raw = this.getStatement.get(ino) as RawStaged | undefined
    return raw && fromRaw(raw)
  }

  /** Records the whole entry (one small write per client write). */
  put(file: StagedFile): void {
    this.putStatement.run(toParams(file))
  }

  delete(ino: Ino): void {
    this.deleteStatement.run(ino)
  }

  /** Base objects under `fromPrefix` moved to `toPrefix` (a directory rename moved them). */
  rebase(fromPrefix: string, toPrefix: string): void {
    for (const ino of this.inos()) {
      const file = this.get(ino)!
      if (file.base?.key.startsWith(fromPrefix)) {
        this.put({...file, base: {...file.base, key: toPrefix + file.base.key.slice(fromPrefix.length)}})
      }
    }
  }

  /** Every staged inode, oldest first (few: they are uploaded within seconds). */
  inos(): Ino[] {
    return (this.allStatement.all() as Array<{ino: number}>).map((row) => BigInt(row.ino))
  }
}
