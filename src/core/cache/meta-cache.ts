import type Database from 'better-sqlite3'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {META_DB_FILE, STAGING_DIR} from './cache-dir.js'
import {openCacheDatabase} from './database.js'
import {InodeTable} from './inode-table.js'
import {acquireOwnerLock, type OwnerLock} from './owner-lock.js'
import {RenameJournal} from './rename-journal.js'
import {StagingJournal} from './staging-journal.js'

export interface MetaCacheOptions {
  /** Take the owner lock (only the owner uploads staged data and recovers journals). */
  owner: boolean
}

/** The metadata cache of one store: meta.db (inodes, staging and rename journals) and staging/. */
export class MetaCache {
  readonly inodes: InodeTable
  readonly staging: StagingJournal
  readonly renames: RenameJournal
  /** Random per database: the inode generation and the readdir cookie verifier. */
  readonly epoch: number
  readonly stagingDir: string

  private constructor(
    readonly dir: string,
    readonly db: Database.Database,
    private readonly lock: OwnerLock | undefined,
  ) {
    this.inodes = new InodeTable(db)
    this.staging = new StagingJournal(db)
    this.renames = new RenameJournal(db)
    this.epoch = Number((db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as {value: string}).value)
    this.stagingDir = join(dir, STAGING_DIR)
  }

  static open(dir: string, options: MetaCacheOptions): MetaCache {
    mkdirSync(join(dir, STAGING_DIR), {recursive: true})
    const lock = options.owner ? acquireOwnerLock(dir) : undefined
    try {
      return new MetaCache(dir, openCacheDatabase(join(dir, META_DB_FILE)), lock)
    } catch (error) {
      lock?.release()
      throw error
    }
  }

  get isOwner(): boolean {
    return this.lock !== undefined
  }

  stagingFile(ino: bigint): string {
    return join(this.stagingDir, String(ino))
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE, so a busy peer is waited for up front). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  close(): void {
    try {
      this.db.close()
    } finally {
      this.lock?.release()
    }
  }
}
