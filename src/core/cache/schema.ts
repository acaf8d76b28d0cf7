import type Database from 'better-sqlite3'
import {randomInt} from 'node:crypto'
import {CacheError} from './errors.js'

/**
 * The cache's schema as an ordered list of migrations; `PRAGMA user_version` counts those applied.
 * Never edit a migration that has shipped: append a new one.
 */
/** Gap between the readdir positions of neighbouring entries when a directory is numbered afresh. */
export const SEQ_STEP = 1 << 20

const migrations: Array<(db: Database.Database) => void> = [
  (db) => {
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

      -- One row per path known: its stable inode number and what the store last said about it.
      -- AUTOINCREMENT: a number is never given out twice, so a handle to a deleted entry is stale.
      CREATE TABLE inodes (
        ino INTEGER PRIMARY KEY AUTOINCREMENT,
        parent INTEGER NOT NULL,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        type_known INTEGER NOT NULL,   -- 0: guessed from a listing (an object whose metadata is unread)
        marker INTEGER,                -- directories: 1 marker object, 0 implicit, NULL unknown
        size INTEGER NOT NULL,
        etag TEXT,
        last_modified INTEGER,         -- ms; NULL after our own upload until a listing or HEAD tells
        mode INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        gid INTEGER NOT NULL,
        rdev INTEGER NOT NULL,
        mtime_sec INTEGER NOT NULL, mtime_nsec INTEGER NOT NULL,
        atime_sec INTEGER NOT NULL, atime_nsec INTEGER NOT NULL,
        ctime_sec INTEGER NOT NULL, ctime_nsec INTEGER NOT NULL,
        target TEXT,                   -- symlinks: the body, for this etag
        seen_at INTEGER NOT NULL,      -- ms: existence last confirmed
        attrs_at INTEGER,              -- ms: attributes last confirmed; NULL unknown
        listed_at INTEGER,             -- directories: start of the last complete listing
        changed_at INTEGER,            -- directories: last change of the entries seen here (ms)
        UNIQUE (parent, name)
      );
      CREATE INDEX inodes_children ON inodes (parent);
      INSERT INTO inodes (ino, parent, name, type, type_known, marker, size, mode, uid, gid, rdev,
        mtime_sec, mtime_nsec, atime_sec, atime_nsec, ctime_sec, ctime_nsec, seen_at)
        VALUES (1, 0, '', 'dir', 1, 0, 0, ${0o40755}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

      -- Staged (not yet uploaded) files: data in staging/<ino>, the attributes to upload with it.
      CREATE TABLE staged (
        ino INTEGER PRIMARY KEY,
        size INTEGER NOT NULL,
        written TEXT NOT NULL,         -- JSON [[start, end], ...]: bytes the clients wrote
        fetched TEXT NOT NULL,         -- JSON ranges copied in from the base object
        base_key TEXT,                 -- the object this file started from, if any
        base_etag TEXT,
        base_size INTEGER,
        base_limit INTEGER NOT NULL,   -- bytes of the base still part of the file (truncation lowers it)
        mode INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        gid INTEGER NOT NULL,
        mtime_sec INTEGER NOT NULL, mtime_nsec INTEGER NOT NULL,
        atime_sec INTEGER NOT NULL, atime_nsec INTEGER NOT NULL,
        ctime_sec INTEGER NOT NULL, ctime_nsec INTEGER NOT NULL,
        staged_at INTEGER NOT NULL
      );

      -- Directory renames under way: copy every key under from_prefix, delete them, then move the row.
      CREATE TABLE renames (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ino INTEGER NOT NULL,
        from_prefix TEXT NOT NULL,
        to_prefix TEXT NOT NULL,
        to_parent INTEGER NOT NULL,
        to_name TEXT NOT NULL,
        started_at INTEGER NOT NULL
      );
    `)
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('epoch', String(randomInt(1, 2 ** 31 - 1)))
  },
  (db) => {
    // Readdir order and cookies: `seq` orders a directory's entries by name (UTF-8 byte order, as S3
    // lists) with gaps, so entries added later slot in without renumbering; `cookie_gen` (on the
    // directory) changes when a renumbering invalidates the cookies handed out.
    db.exec(`
      ALTER TABLE inodes ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE inodes ADD COLUMN cookie_gen INTEGER NOT NULL DEFAULT 0;
      UPDATE inodes SET seq = ino * ${SEQ_STEP};
      CREATE INDEX inodes_order ON inodes (parent, seq);
    `)
  },
  (db) => {
    // File renames are journaled too (copy, then delete: a crash between them left both names).
    // For a file, from_prefix and to_prefix hold the two keys.
    db.exec(`ALTER TABLE renames ADD COLUMN kind TEXT NOT NULL DEFAULT 'dir'`)
  },
]

export const SCHEMA_VERSION = migrations.length

/** Brings a database up to SCHEMA_VERSION; refuses one written by a newer zerofs. */
export function migrate(db: Database.Database, file: string): void {
  const version = (): number => db.pragma('user_version', {simple: true}) as number
  const step = db.transaction((): boolean => {
    // Read again inside the write transaction: another process may have migrated meanwhile.
    const current = version()
    if (current > SCHEMA_VERSION) {
      throw new CacheError('TooNew', `the cache ${file} has schema version ${current}; this zerofs knows up to ${SCHEMA_VERSION} (upgrade zerofs or use another --cache-dir)`)
    }
    if (current === SCHEMA_VERSION) return false
    migrations[current](db)
    db.pragma(`user_version = ${current + 1}`)
    return true
  })
  if (version() === SCHEMA_VERSION) return
  while (step.immediate()) {
    // one migration per transaction
  }
}
