import Database from 'better-sqlite3'
import {CacheError} from './errors.js'
import {migrate} from './schema.js'

/** How long a connection waits for another process's write (a `serve` and an `ls` share meta.db). */
const BUSY_TIMEOUT_MS = 10_000

/**
 * SQLite's page cache per connection. better-sqlite3 builds SQLite with 16 MB, which a listing of
 * 100,000 entries fills (and malloc fragmentation roughly doubles in resident memory); the file's
 * pages stay in the OS page cache, so a miss here costs one pread.
 */
const PAGE_CACHE_KIB = 4096

/** Opens (creating if needed) a cache database in WAL mode and migrates it to the current schema. */
export function openCacheDatabase(file: string): Database.Database {
  let db: Database.Database
  try {
    db = new Database(file, {timeout: BUSY_TIMEOUT_MS})
  } catch (error) {
    throw new CacheError('Corrupt', `cannot open the cache database ${file}: ${(error as Error).message}`, {cause: error})
  }
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`)
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    migrate(db, file)
    return db
  } catch (error) {
    db.close()
    if (error instanceof CacheError) throw error
    throw new CacheError('Corrupt', `the cache database ${file} is unusable: ${(error as Error).message}`, {cause: error})
  }
}
