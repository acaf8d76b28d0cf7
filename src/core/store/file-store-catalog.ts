import Database from 'better-sqlite3'
import {closeSync, fdatasync, fsync, open} from 'node:fs'
import {dirname} from 'node:path'
import {promisify} from 'node:util'

import type {UserMetadata} from './object-store.js'

/**
 * The FileStore's metadata database (better-sqlite3, WAL): what a bucket keeps beside an object's
 * bytes (ETag, content type, user metadata, last-modified), and the multipart uploads in progress.
 *
 * A row belongs to one version of an object: it is keyed by the key and the identity of the file
 * that holds that version (inode, size, mtime). A put writes its row before renaming the new file into
 * place, and rename keeps inode and mtime, so a reader only trusts the row whose identity matches the
 * file now at the key: after a crash at any point, a file has either its own row or none, never the
 * row of another version. Rows whose file is gone are harmless and removed when the key next changes.
 *
 * A row recorded before its rename is pending (it carries the writer's pid) until the rename is done:
 * cleaning up after one put must not drop the row of a concurrent put of the same key that has not
 * renamed yet. A pending row whose writer died is settled at the next open, as no rename can follow.
 */

/** Which file a row describes. A directory marker's directory is identified by its inode alone. */
export interface FileIdentity {
  ino: bigint
  size: number
  mtimeNs: bigint
}

export interface ObjectRecord {
  etag: string
  contentType?: string
  metadata: UserMetadata
  /** Milliseconds since the epoch. */
  lastModified: number
}

export interface UploadRecord {
  uploadId: string
  key: string
  /** Milliseconds since the epoch. */
  initiated: number
  contentType?: string
  metadata: UserMetadata
}

const SCHEMA_VERSION = 1

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE objects (
      key TEXT NOT NULL,
      ino INTEGER NOT NULL,
      size INTEGER NOT NULL,
      mtime_ns INTEGER NOT NULL,
      etag TEXT NOT NULL,
      content_type TEXT,
      metadata TEXT NOT NULL,
      last_modified INTEGER NOT NULL,
      pending_pid INTEGER,
      PRIMARY KEY (key, ino)
    ) WITHOUT ROWID;
    CREATE TABLE uploads (
      upload_id TEXT PRIMARY KEY,
      key TEXT NOT NULL,
      initiated INTEGER NOT NULL,
      content_type TEXT,
      metadata TEXT NOT NULL
    );
    CREATE INDEX uploads_in_order ON uploads (key, initiated, upload_id);
  `,
}

interface ObjectRow {
  etag: string
  content_type: string | null
  metadata: string
  last_modified: number
}

interface UploadRow {
  upload_id: string
  key: string
  initiated: number
  content_type: string | null
  metadata: string
}

/** SQLite integers are signed 64-bit; inode numbers and nanosecond times are stored by their bits. */
function int64(value: bigint): bigint {
  return BigInt.asIntN(64, value)
}

function toRecord(row: ObjectRow): ObjectRecord {
  return {
    etag: row.etag,
    contentType: row.content_type ?? undefined,
    metadata: JSON.parse(row.metadata) as UserMetadata,
    lastModified: row.last_modified,
  }
}

function toUpload(row: UploadRow): UploadRecord {
  return {
    uploadId: row.upload_id,
    key: row.key,
    initiated: row.initiated,
    contentType: row.content_type ?? undefined,
    metadata: JSON.parse(row.metadata) as UserMetadata,
  }
}

export class FileStoreCatalog {
  private readonly db: Database.Database
  private readonly statements
  /** The database is in WAL mode (it is unless the filesystem cannot share memory between processes). */
  private readonly walMode: boolean
  /** The write-ahead log, opened at the first commit synced through it. */
  private log?: Promise<number>

  constructor(path: string) {
    this.db = new Database(path)
    try {
      this.walMode = this.db.pragma('journal_mode = WAL', {simple: true}) === 'wal'
      // Another process may use the same store: wait for its write lock instead of failing.
      this.db.pragma('busy_timeout = 10000')
      this.db.pragma('synchronous = NORMAL')
      this.migrate()
    } catch (error) {
      this.db.close()
      throw error
    }
    const db = this.db
    this.statements = {
      find: db.prepare<[string, bigint, number, bigint], ObjectRow>(
        'SELECT etag, content_type, metadata, last_modified FROM objects WHERE key = ? AND ino = ? AND size = ? AND mtime_ns = ?'),
      findMany: db.prepare<[string], ObjectRow & {at: number}>(`
        SELECT files.key AS at, etag, content_type, metadata, last_modified FROM json_each(?) AS files
        JOIN objects ON objects.key = files.value->>0 AND ino = files.value->>1 AND size = files.value->>2 AND mtime_ns = files.value->>3`),
      record: db.prepare(
        `INSERT OR REPLACE INTO objects (key, ino, size, mtime_ns, etag, content_type, metadata, last_modified, pending_pid)
         VALUES (@key, @ino, @size, @mtimeNs, @etag, @contentType, @metadata, @lastModified, @pendingPid)`),
      settle: db.prepare<[string, bigint, number, bigint]>(
        'UPDATE objects SET pending_pid = NULL WHERE key = ? AND ino = ? AND size = ? AND mtime_ns = ?'),
      forgetOne: db.prepare<[string, bigint, number, bigint]>(
        'DELETE FROM objects WHERE key = ? AND ino = ? AND size = ? AND mtime_ns = ?'),
      forgetOthers: db.prepare<[string, bigint, number, bigint]>(
        'DELETE FROM objects WHERE key = ? AND pending_pid IS NULL AND NOT (ino = ? AND size = ? AND mtime_ns = ?)'),
      forgetAll: db.prepare<[string]>('DELETE FROM objects WHERE key = ? AND pending_pid IS NULL'),
      pendingWriters: db.prepare<[], {pid: number}>('SELECT DISTINCT pending_pid AS pid FROM objects WHERE pending_pid IS NOT NULL'),
      settleWriter: db.prepare<[number]>('UPDATE objects SET pending_pid = NULL WHERE pending_pid = ?'),
      addUpload: db.prepare(
        `INSERT INTO uploads (upload_id, key, initiated, content_type, metadata)
         VALUES (@uploadId, @key, @initiated, @contentType, @metadata)`),
      findUpload: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE upload_id = ?'),
      removeUpload: db.prepare<[string]>('DELETE FROM uploads WHERE upload_id = ?'),
      uploadsPage: db.prepare<{prefix: string; key: string; initiated: number; uploadId: string; limit: number}, UploadRow>(
        `SELECT * FROM uploads
         WHERE substr(key, 1, length(@prefix)) = @prefix
           AND (key > @key OR (key = @key AND (initiated > @initiated OR (initiated = @initiated AND upload_id > @uploadId))))
         ORDER BY key, initiated, upload_id LIMIT @limit`),
    }
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', {simple: true}) as number
    if (current > SCHEMA_VERSION) {
      throw new Error(`the FileStore database has schema version ${current}, newer than this zerofs knows (${SCHEMA_VERSION})`)
    }
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version])
        this.db.pragma(`user_version = ${version}`)
      }).immediate()
    }
  }

  find(key: string, identity: FileIdentity): ObjectRecord | undefined {
    const row = this.statements.find.get(key, int64(identity.ino), identity.size, int64(identity.mtimeNs))
    return row && toRecord(row)
  }

  /** find for many files in one query (a listing's batch); the records in the order of `files`. */
  findMany(files: ReadonlyArray<{key: string; identity: FileIdentity}>): Array<ObjectRecord | undefined> {
    const records = new Array<ObjectRecord | undefined>(files.length).fill(undefined)
    if (files.length === 0) return records
    // Built by hand: JSON.stringify knows no bigint, and SQLite reads integers up to 2^63 exactly.
    const json = `[${files.map(({key, identity}) => `[${JSON.stringify(key)},${int64(identity.ino)},${identity.size},${int64(identity.mtimeNs)}]`).join(',')}]`
    for (const row of this.statements.findMany.all(json)) records[row.at] = toRecord(row)
    return records
  }

  /** Records a settled row: the file with this identity is already at the key. */
  record(key: string, identity: FileIdentity, record: ObjectRecord): void {
    this.write(key, identity, record, null)
  }

  /** Records the row of a file about to be renamed to the key; `settle` it once the rename is done. */
  recordPending(key: string, identity: FileIdentity, record: ObjectRecord): void {
    this.write(key, identity, record, process.pid)
  }

  settle(key: string, identity: FileIdentity): void {
    this.statements.settle.run(key, int64(identity.ino), identity.size, int64(identity.mtimeNs))
  }

  /** Settles the pending rows of writers that no longer run (`isRunning` decides). */
  settleAbandoned(isRunning: (pid: number) => boolean): void {
    for (const {pid} of this.statements.pendingWriters.all()) {
      if (pid !== process.pid && !isRunning(pid)) this.statements.settleWriter.run(pid)
    }
  }

  private write(key: string, identity: FileIdentity, record: ObjectRecord, pendingPid: number | null): void {
    this.statements.record.run({
      key,
      ino: int64(identity.ino),
      size: identity.size,
      mtimeNs: int64(identity.mtimeNs),
      etag: record.etag,
      contentType: record.contentType ?? null,
      metadata: JSON.stringify(record.metadata),
      lastModified: record.lastModified,
      pendingPid,
    })
  }

  /** Drops the settled rows of a key except the one of `keep` (all of them without it). */
  forget(key: string, keep?: FileIdentity): void {
    if (keep === undefined) this.statements.forgetAll.run(key)
    else this.statements.forgetOthers.run(key, int64(keep.ino), keep.size, int64(keep.mtimeNs))
  }

  forgetOne(key: string, identity: FileIdentity): void {
    this.statements.forgetOne.run(key, int64(identity.ino), identity.size, int64(identity.mtimeNs))
  }

  addUpload(upload: UploadRecord): void {
    this.statements.addUpload.run({...upload, contentType: upload.contentType ?? null, metadata: JSON.stringify(upload.metadata)})
  }

  findUpload(uploadId: string): UploadRecord | undefined {
    const row = this.statements.findUpload.get(uploadId)
    return row === undefined ? undefined : toUpload(row)
  }

  removeUpload(uploadId: string): void {
    this.statements.removeUpload.run(uploadId)
  }

  /** Uploads whose key starts with `prefix`, in (key, initiated, uploadId) order, after `after`. */
  uploadsPage(prefix: string, after: UploadRecord | undefined, limit: number): UploadRecord[] {
    return this.statements.uploadsPage.all({
      prefix,
      key: after?.key ?? '',
      initiated: after?.initiated ?? -1,
      uploadId: after?.uploadId ?? '',
      limit,
    }).map(toUpload)
  }

  /**
   * Runs `work` holding the database's write lock (BEGIN IMMEDIATE), which every process using the
   * store takes: renames and unlinks at keys happen inside it, so that the rows a put or delete drops
   * are judged against the file that is really at the key.
   */
  exclusive<T>(work: () => T): T {
    return this.db.transaction(work).immediate()
  }

  /**
   * `exclusive`, with its commit synced to disk before the promise resolves, like `durably`, but
   * by an fdatasync of the write-ahead log in the thread pool instead of inside the commit on this
   * thread, which goes on meanwhile (in WAL mode a commit is durable once the log holds it on disk).
   */
  async exclusiveDurably<T>(work: () => T): Promise<T> {
    if (!this.walMode) return this.durably(() => this.exclusive(work))
    const result = this.exclusive(work)
    await promisify(fdatasync)(await (this.log ??= this.openLog()))
    return result
  }

  /** Opens the log (which the commit before made) and syncs its directory entry once. */
  private async openLog(): Promise<number> {
    const log = await promisify(open)(`${this.db.name}-wal`, 'r')
    try {
      const dir = await promisify(open)(dirname(this.db.name), 'r')
      try {
        await promisify(fsync)(dir)
      } finally {
        closeSync(dir)
      }
    } catch (error) {
      closeSync(log)
      this.log = undefined
      throw error
    }
    return log
  }

  /** Runs `work` with every commit synced to disk: for rows that must exist before a rename makes them matter. */
  durably<T>(work: () => T): T {
    this.db.pragma('synchronous = FULL')
    try {
      return work()
    } finally {
      this.db.pragma('synchronous = NORMAL')
    }
  }

  close(): void {
    if (this.db.open) this.db.close()
    void this.log?.then(closeSync, () => undefined)
    this.log = undefined
  }
}
