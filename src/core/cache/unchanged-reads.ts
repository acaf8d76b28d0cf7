import type Database from 'better-sqlite3'

/** What a result counts against the bound: its rows, and an empty one (a row not found) as one. */
const weight = (rows: readonly unknown[]): number => Math.max(1, rows.length)

/**
 * Results of recent reads of the cache database, in memory, valid while the database is unchanged.
 *
 * A warm listing reads the same rows again (a directory's pages at the cookies clients resume
 * at, the directory's own row for every page), and reading a whole row from SQLite costs several
 * microseconds: most of a warm listing of 1,000 entries. A result is answered from here only while
 * SQLite reports no change since it was read: no row changed through this connection
 * (`total_changes()`, which counts every write, also ones later rolled back) and no other
 * connection committed (`PRAGMA data_version`). So whatever writes the rows, and however, a result
 * here is exactly what the query would return. Reads inside a transaction are never kept (what
 * they see may be rolled back).
 *
 * The rows are shared by every caller that reads them: they are frozen. Bounded: at most `maxRows`
 * rows in all, the least recently used results dropped first.
 */
export class UnchangedReads<Row extends object> {
  private readonly results = new Map<string, readonly Row[]>()
  private rows = 0
  private readonly changes: Database.Statement
  private readonly dataVersion: Database.Statement
  private version = ''

  constructor(private readonly db: Database.Database, private readonly maxRows: number) {
    this.changes = db.prepare('SELECT total_changes()').pluck()
    this.dataVersion = db.prepare('PRAGMA data_version').pluck()
  }

  /** The rows under `key`, read by `read` unless rows read since the last change are kept. */
  get(key: string, read: () => Row[]): readonly Row[] {
    // Inside a transaction the rows may be uncommitted ones that a rollback takes back.
    if (this.db.inTransaction) return read()
    this.dropIfChanged()
    const kept = this.results.get(key)
    if (kept) {
      // Most recently used last.
      this.results.delete(key)
      this.results.set(key, kept)
      return kept
    }
    const rows = read()
    for (const row of rows) Object.freeze(row)
    if (weight(rows) > this.maxRows) return rows
    this.results.set(key, rows)
    this.rows += weight(rows)
    for (const [oldest, dropped] of this.results) {
      if (this.rows <= this.maxRows) break
      this.results.delete(oldest)
      this.rows -= weight(dropped)
    }
    return rows
  }

  private dropIfChanged(): void {
    const version = `${String(this.changes.get())}/${String(this.dataVersion.get())}`
    if (version === this.version) return
    this.version = version
    this.results.clear()
    this.rows = 0
  }
}
