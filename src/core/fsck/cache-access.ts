import Database from 'better-sqlite3'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {META_DB_FILE, STAGING_DIR} from '../cache/cache-dir.js'
import {CacheError} from '../cache/errors.js'
import {InodeTable} from '../cache/inode-table.js'
import {MetaCache} from '../cache/meta-cache.js'
import {RenameJournal} from '../cache/rename-journal.js'
import {SCHEMA_VERSION} from '../cache/schema.js'
import {StagingJournal} from '../cache/staging-journal.js'
import type {Ino} from '../fs/types.js'

/**
 * The cache as fsck uses it: the core's tables over one connection. A check reads it through a
 * read-only connection of its own (no lock, no migration, nothing created: it runs beside a
 * server); a repair opens it as the core does, as its owner.
 */
export interface CacheAccess {
  readonly db: Database.Database
  readonly inodes: InodeTable
  readonly staging: StagingJournal
  readonly renames: RenameJournal
  readonly stagingDir: string
  stagingFile(ino: Ino): string
  /** One write transaction (a repair); a read-only cache never writes. */
  transaction<T>(fn: () => T): T
  close(): void
}

/** What the cache directory holds, as far as the database file goes. */
export type CacheState =
  | {kind: 'absent'}
  | {kind: 'damaged'; detail: string}
  | {kind: 'outdated'; version: number}
  | {kind: 'current'}

const BUSY_TIMEOUT_MS = 10_000
const INTEGRITY_MESSAGES = 5

export function metaDbFile(cacheDir: string): string {
  return join(cacheDir, META_DB_FILE)
}

/**
 * Looks at meta.db without changing it: SQLite's integrity check, the schema version, the root
 * entry. A file SQLite cannot read at all, or one written by a newer zerofs, is an operational
 * failure (CacheError): fsck cannot check what it cannot read.
 */
export function inspectCache(cacheDir: string): CacheState {
  const file = metaDbFile(cacheDir)
  if (!existsSync(file)) return {kind: 'absent'}
  const db = openReadOnly(file)
  try {
    const version = readVersion(db, file)
    if (version > SCHEMA_VERSION) {
      throw new CacheError('TooNew', `the cache ${file} has schema version ${version}; this zerofs knows up to ${SCHEMA_VERSION} (upgrade zerofs or use another --cache-dir)`)
    }
    const damage = integrityDamage(db)
    if (damage !== undefined) return {kind: 'damaged', detail: damage}
    if (version < SCHEMA_VERSION) return {kind: 'outdated', version}
    const root = db.prepare('SELECT parent, type FROM inodes WHERE ino = 1').get() as {parent: number; type: string} | undefined
    if (root?.parent !== 0 || root.type !== 'dir') return {kind: 'damaged', detail: 'the root directory entry is missing'}
    return {kind: 'current'}
  } finally {
    db.close()
  }
}

/** The cache through a read-only connection (a check). */
export function openCacheReadOnly(cacheDir: string): CacheAccess {
  const db = openReadOnly(metaDbFile(cacheDir))
  const stagingDir = join(cacheDir, STAGING_DIR)
  return {
    db,
    inodes: new InodeTable(db),
    staging: new StagingJournal(db),
    renames: new RenameJournal(db),
    stagingDir,
    stagingFile: (ino) => join(stagingDir, String(ino)),
    transaction: (fn) => fn(),
    close: () => db.close(),
  }
}

/** The cache as its owner (a repair): the core's MetaCache, which migrates an older schema. */
export function openCacheAsOwner(cacheDir: string): CacheAccess {
  return MetaCache.open(cacheDir, {owner: true})
}

function openReadOnly(file: string): Database.Database {
  try {
    const db = new Database(file, {readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS})
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    return db
  } catch (error) {
    throw unreadable(file, error)
  }
}

function readVersion(db: Database.Database, file: string): number {
  try {
    return db.pragma('user_version', {simple: true}) as number
  } catch (error) {
    throw unreadable(file, error)
  }
}

/** SQLite's own findings (the first few), or undefined when it finds nothing wrong. */
function integrityDamage(db: Database.Database): string | undefined {
  try {
    const rows = db.pragma(`integrity_check(${INTEGRITY_MESSAGES})`) as Array<{integrity_check: string}>
    const messages = rows.map((row) => row.integrity_check)
    return messages.length === 1 && messages[0] === 'ok' ? undefined : `integrity_check: ${messages.join('; ')}`
  } catch (error) {
    // SQLite stops at some damage with SQLITE_CORRUPT instead of listing it.
    if ((error as {code?: string}).code?.startsWith('SQLITE_CORRUPT')) return `integrity_check: ${(error as Error).message}`
    throw error
  }
}

function unreadable(file: string, error: unknown): CacheError {
  return new CacheError('Corrupt',
    `cannot read the cache database ${file}: ${(error as Error).message} (move the cache directory aside, after saving its staging/ folder, or use another --cache-dir)`,
    {cause: error})
}
