import {mkdirSync} from 'node:fs'
import {join} from 'node:path'

import Database from 'better-sqlite3'

import {isProcessRunning} from '../store/file-store-temp.js'
import {TransferError} from './errors.js'

/**
 * The migrations' own database, `transfer.db` in the store's cache directory (beside `serve`'s
 * meta.db, whose schema it does not touch). It holds, per migration (a source and a destination,
 * called a pair):
 * - `journal`: every entry known to be complete at the destination, with the source attributes and
 *   the destination ETag it was complete with; it survives runs and makes them resumable;
 * - `work`: the current run's plan, so that no run holds a whole tree in memory;
 * - `notes`: what the current run skipped, failed or wants to tell about single entries;
 * - `uploads`: multipart uploads in flight, so that a killed run's uploads can be aborted.
 */

export const TRANSFER_DB_FILE = 'transfer.db'

const BUSY_TIMEOUT_MS = 10_000

const migrations: Array<(db: Database.Database) => void> = [
  (db) => {
    db.exec(`
      CREATE TABLE pairs (
        id INTEGER PRIMARY KEY,
        description TEXT NOT NULL UNIQUE,  -- 'upload file:///src -> s3://bucket/prefix'
        pid INTEGER,                       -- the process running it, NULL when none
        started INTEGER                    -- ms
      );
      CREATE TABLE journal (
        pair INTEGER NOT NULL,
        key TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime TEXT NOT NULL,               -- the source's mtime, as formatEpochSeconds writes it
        mode INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        gid INTEGER NOT NULL,
        etag TEXT NOT NULL,                -- the object's ETag when it was known complete
        sha256 TEXT,                       -- content, for files
        PRIMARY KEY (pair, key)
      ) WITHOUT ROWID;
      CREATE TABLE work (
        pair INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        action TEXT NOT NULL,
        key TEXT NOT NULL,
        size INTEGER NOT NULL,
        detail TEXT NOT NULL,              -- JSON: what the action needs to know of both sides
        PRIMARY KEY (pair, seq)
      ) WITHOUT ROWID;
      CREATE TABLE notes (
        pair INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        reason TEXT NOT NULL,
        grp TEXT NOT NULL DEFAULT '',      -- hard links: device and inode, to list names together
        PRIMARY KEY (pair, seq)
      ) WITHOUT ROWID;
      CREATE INDEX notes_by_kind ON notes (pair, kind, grp, path, seq);
      CREATE TABLE uploads (
        pair INTEGER NOT NULL,
        key TEXT NOT NULL,
        started INTEGER NOT NULL,          -- ms, before the upload was created
        PRIMARY KEY (pair, key)
      ) WITHOUT ROWID;
    `)
  },
  (db) => {
    // The object's LastModified as a listing shows it, once a listing has: an object listed with the
    // recorded ETag and LastModified has not been written since, so its metadata is the recorded one.
    db.exec('ALTER TABLE journal ADD COLUMN last_modified INTEGER')
  },
]

export class TransferDatabase {
  private constructor(readonly db: Database.Database, readonly file: string) {}

  /** The database of an earlier migration, read-only; undefined when there is none. */
  static openExisting(cacheDir: string): TransferDatabase | undefined {
    const file = join(cacheDir, TRANSFER_DB_FILE)
    let db: Database.Database
    try {
      db = new Database(file, {readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS})
    } catch {
      return undefined
    }
    if ((db.pragma('user_version', {simple: true}) as number) !== migrations.length) {
      db.close()
      return undefined
    }
    return new TransferDatabase(db, file)
  }

  /** The id of a migration that has run before, without claiming it. */
  pairId(description: string): number | undefined {
    return (this.db.prepare('SELECT id FROM pairs WHERE description = ?').get(description) as {id: number} | undefined)?.id
  }

  static open(cacheDir: string): TransferDatabase {
    mkdirSync(cacheDir, {recursive: true})
    const file = join(cacheDir, TRANSFER_DB_FILE)
    const db = new Database(file, {timeout: BUSY_TIMEOUT_MS})
    try {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      migrate(db, file)
      return new TransferDatabase(db, file)
    } catch (error) {
      db.close()
      throw new TransferError('Failed', `the transfer journal ${file} is unusable: ${(error as Error).message}`, {cause: error})
    }
  }

  /**
   * Claims the pair for this process: fails with TransferError Busy while another live process runs
   * it; otherwise clears what an earlier run left of its plan and notes (its journal stays).
   */
  claim(description: string): number {
    return this.db.transaction((): number => {
      this.db.prepare('INSERT OR IGNORE INTO pairs (description) VALUES (?)').run(description)
      const row = this.db.prepare('SELECT id, pid FROM pairs WHERE description = ?').get(description) as {id: number; pid: number | null}
      if (row.pid !== null && row.pid !== process.pid && isProcessRunning(row.pid)) {
        throw new TransferError('Busy', `another run of this migration is in progress (process ${row.pid}); its journal is ${this.file}`)
      }
      this.db.prepare('UPDATE pairs SET pid = ?, started = ? WHERE id = ?').run(process.pid, Date.now(), row.id)
      this.db.prepare('DELETE FROM work WHERE pair = ?').run(row.id)
      this.db.prepare('DELETE FROM notes WHERE pair = ?').run(row.id)
      return row.id
    }).immediate()
  }

  release(pair: number): void {
    this.db.prepare('DELETE FROM work WHERE pair = ?').run(pair)
    this.db.prepare('UPDATE pairs SET pid = NULL WHERE id = ? AND pid = ?').run(pair, process.pid)
  }

  close(): void {
    this.db.close()
  }
}

function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', {simple: true}) as number
  if (version > migrations.length) {
    throw new Error(`${file} has schema version ${version}, newer than this zerofs knows (${migrations.length})`)
  }
  for (let next = version; next < migrations.length; next++) {
    db.transaction(() => {
      migrations[next](db)
      db.pragma(`user_version = ${next + 1}`)
    }).immediate()
  }
}
