import Database from 'better-sqlite3'
import {KIND_ORDER, type Problem, type ProblemKind, type Severity} from './problem.js'

export interface KindGroup {
  kind: ProblemKind
  count: number
  repaired: number
  /** Problems of this kind that count (errors, warnings). */
  counting: number
  /** The worst severity among them. */
  severity: Severity
}

interface RawProblem {
  kind: ProblemKind
  severity: Severity
  key: string | null
  path: string | null
  detail: string
  repaired: number
}

/** Severities by rank, worst first (the CASE in `groups` ranks them so). */
const BY_RANK: readonly Severity[] = ['error', 'warning', 'info']

/**
 * Problems as fsck finds them, kept on disk (a private temporary SQLite database, not memory: a
 * bucket written by other tools may have an implicit directory per prefix) and read back grouped
 * by kind, in the order of PROBLEM_KINDS and then in the order found.
 */
export class ProblemSpool {
  private readonly db = new Database('')
  private readonly insert: Database.Statement
  private pending: Problem[] = []

  constructor() {
    this.db.exec(`CREATE TABLE problems (
      id INTEGER PRIMARY KEY, kind TEXT NOT NULL, rank INTEGER NOT NULL, severity TEXT NOT NULL,
      key TEXT, path TEXT, detail TEXT NOT NULL, repaired INTEGER NOT NULL)`)
    this.insert = this.db.prepare('INSERT INTO problems (kind, rank, severity, key, path, detail, repaired) VALUES (?, ?, ?, ?, ?, ?, ?)')
  }

  add(problem: Problem): void {
    this.pending.push(problem)
    if (this.pending.length >= 500) this.flush()
  }

  /** One row per kind found, in report order. */
  groups(options: {includeInfo: boolean}): KindGroup[] {
    this.flush()
    const rows = this.db.prepare(`
      SELECT kind, count(*) AS count, sum(repaired) AS repaired, sum(severity != 'info') AS counting,
        min(CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END) AS worst
      FROM problems ${options.includeInfo ? '' : "WHERE severity != 'info'"} GROUP BY kind ORDER BY min(rank)`).all() as
      Array<{kind: ProblemKind; count: number; repaired: number; counting: number; worst: number}>
    return rows.map((row) => ({kind: row.kind, count: row.count, repaired: row.repaired, counting: row.counting, severity: BY_RANK[row.worst]}))
  }

  /** The problems of one kind in the order found (streamed). */
  *ofKind(kind: ProblemKind, options: {includeInfo: boolean}): Generator<Problem> {
    this.flush()
    const query = this.db.prepare(`SELECT * FROM problems WHERE kind = ? ${options.includeInfo ? '' : "AND severity != 'info'"} ORDER BY id`)
    for (const raw of query.iterate(kind) as IterableIterator<RawProblem>) yield fromRaw(raw)
  }

  /** Every problem, grouped by kind (streamed). */
  *all(): Generator<Problem> {
    this.flush()
    for (const raw of this.db.prepare('SELECT * FROM problems ORDER BY rank, id').iterate() as IterableIterator<RawProblem>) yield fromRaw(raw)
  }

  close(): void {
    this.db.close()
  }

  private flush(): void {
    const batch = this.pending
    this.pending = []
    this.db.transaction(() => {
      for (const p of batch) this.insert.run(p.kind, KIND_ORDER.indexOf(p.kind), p.severity, p.key ?? null, p.path ?? null, p.detail, p.repaired ? 1 : 0)
    })()
  }
}

function fromRaw(raw: RawProblem): Problem {
  return {
    kind: raw.kind,
    severity: raw.severity,
    ...(raw.key === null ? {} : {key: raw.key}),
    ...(raw.path === null ? {} : {path: raw.path}),
    detail: raw.detail,
    repaired: raw.repaired === 1,
  }
}
