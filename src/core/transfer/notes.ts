import type Database from 'better-sqlite3'

/**
 * What a run tells about single entries, kept in SQLite (a tree can have millions of them):
 * - failed: could not be copied (unreadable, changed while read, refused by the store); exit 1
 * - invalid: a name that cannot be stored or restored (not UTF-8, too long, reserved); exit 1
 * - special: a socket, FIFO or device, which is not copied
 * - hard-link: a file with several names, copied once per name (names of one file share a group)
 * - would-copy, would-update, would-delete: what a dry run found to do
 */
export type NoteKind = 'failed' | 'invalid' | 'special' | 'hard-link' | 'would-copy' | 'would-update' | 'would-delete'

export interface Note {
  kind: NoteKind
  path: string
  reason: string
  /** hard-link: the source file's device and inode; '' otherwise. */
  group: string
}

export class Notes {
  private readonly insert: Database.Statement
  private nextSeq = 1

  constructor(private readonly db: Database.Database, private readonly pair: number) {
    this.insert = db.prepare('INSERT INTO notes (pair, seq, kind, path, reason, grp) VALUES (?, ?, ?, ?, ?, ?)')
  }

  add(kind: NoteKind, path: string, reason: string, group = ''): void {
    this.insert.run(this.pair, this.nextSeq++, kind, path, reason, group)
  }

  count(kind: NoteKind): number {
    return (this.db.prepare('SELECT COUNT(*) AS count FROM notes WHERE pair = ? AND kind = ?').get(this.pair, kind) as {count: number}).count
  }

  /** The notes of one kind, ordered by group then path (so that hard links come together), a page at a time. */
  *list(kind: NoteKind, pageSize = 500): Generator<Note> {
    const statement = this.db.prepare(`SELECT seq, grp AS "group", path, reason FROM notes
      WHERE pair = ? AND kind = ? AND (grp, path, seq) > (?, ?, ?) ORDER BY grp, path, seq LIMIT ?`)
    let after = {group: '', path: '', seq: 0}
    for (;;) {
      const rows = statement.all(this.pair, kind, after.group, after.path, after.seq, pageSize) as Array<{seq: number; group: string; path: string; reason: string}>
      for (const {group, path, reason} of rows) yield {kind, path, reason, group}
      if (rows.length < pageSize) return
      after = rows[rows.length - 1]
    }
  }
}
