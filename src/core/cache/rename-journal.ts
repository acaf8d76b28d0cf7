import type Database from 'better-sqlite3'
import type {Ino} from '../fs/types.js'

/** A directory rename under way: its keys move from one prefix to another before the row moves. */
export interface PendingRename {
  id: number
  ino: Ino
  fromPrefix: string
  toPrefix: string
  toParent: Ino
  toName: string
  startedAt: number
}

interface RawRename {
  id: number
  ino: number
  from_prefix: string
  to_prefix: string
  to_parent: number
  to_name: string
  started_at: number
}

export class RenameJournal {
  constructor(private readonly db: Database.Database) {}

  begin(rename: Omit<PendingRename, 'id' | 'startedAt'>): PendingRename {
    const startedAt = Date.now()
    const result = this.db.prepare('INSERT INTO renames (ino, from_prefix, to_prefix, to_parent, to_name, started_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(rename.ino, rename.fromPrefix, rename.toPrefix, rename.toParent, rename.toName, startedAt)
    return {...rename, id: Number(result.lastInsertRowid), startedAt}
  }

  finish(id: number): void {
    this.db.prepare('DELETE FROM renames WHERE id = ?').run(id)
  }

  pending(): PendingRename[] {
    const rows = this.db.prepare('SELECT * FROM renames ORDER BY id').all() as RawRename[]
    return rows.map((raw) => ({
      id: raw.id,
      ino: BigInt(raw.ino),
      fromPrefix: raw.from_prefix,
      toPrefix: raw.to_prefix,
      toParent: BigInt(raw.to_parent),
      toName: raw.to_name,
      startedAt: raw.started_at,
    }))
  }
}
