import type Database from 'better-sqlite3'

/** One planned action of a run, with what it needs to know (kept as JSON). */
export interface WorkItem<Detail> {
  seq: number
  action: string
  key: string
  /** Bytes it moves, for progress. */
  size: number
  detail: Detail
}

const INSERT_BATCH = 1000

/**
 * A run's plan in SQLite: appended in key order while both trees are walked, then read back in
 * pages, so that a plan for millions of entries costs no memory.
 */
export class WorkList<Detail> {
  private readonly insert: Database.Statement
  private pending: Array<Omit<WorkItem<Detail>, 'seq'>> = []
  private nextSeq = 1

  constructor(private readonly db: Database.Database, private readonly pair: number) {
    this.insert = db.prepare('INSERT INTO work (pair, seq, action, key, size, detail) VALUES (?, ?, ?, ?, ?, ?)')
  }

  add(action: string, key: string, size: number, detail: Detail): void {
    this.pending.push({action, key, size, detail})
    if (this.pending.length >= INSERT_BATCH) this.flush()
  }

  flush(): void {
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) return
    this.db.transaction(() => {
      for (const item of batch) this.insert.run(this.pair, this.nextSeq++, item.action, item.key, item.size, JSON.stringify(item.detail))
    })()
  }

  /** Per action: how many items and bytes. */
  totals(): Map<string, {count: number; bytes: number}> {
    this.flush()
    const rows = this.db.prepare('SELECT action, COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM work WHERE pair = ? GROUP BY action')
      .all(this.pair) as Array<{action: string; count: number; bytes: number}>
    return new Map(rows.map((row) => [row.action, {count: row.count, bytes: row.bytes}]))
  }

  /** The items of the given actions in plan order (or reversed), read a page at a time. */
  *items(actions: readonly string[], options: {reverse?: boolean; pageSize?: number} = {}): Generator<WorkItem<Detail>> {
    this.flush()
    const pageSize = options.pageSize ?? 500
    const placeholders = actions.map(() => '?').join(', ')
    const statement = this.db.prepare(options.reverse
      ? `SELECT seq, action, key, size, detail FROM work WHERE pair = ? AND seq < ? AND action IN (${placeholders}) ORDER BY seq DESC LIMIT ?`
      : `SELECT seq, action, key, size, detail FROM work WHERE pair = ? AND seq > ? AND action IN (${placeholders}) ORDER BY seq LIMIT ?`)
    let after = options.reverse ? Number.MAX_SAFE_INTEGER : 0
    for (;;) {
      const rows = statement.all(this.pair, after, ...actions, pageSize) as Array<Omit<WorkItem<Detail>, 'detail'> & {detail: string}>
      for (const row of rows) yield {...row, detail: JSON.parse(row.detail) as Detail}
      if (rows.length < pageSize) return
      after = rows[rows.length - 1].seq
    }
  }
}
