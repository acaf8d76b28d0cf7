import type Database from 'better-sqlite3'
import type {Ino} from '../fs/types.js'

/**
 * A rename under way in the store: a file's object is copied to its new key, or every key under a
 * directory's prefix to the new prefix; then the sources are deleted and the row moves. Journaled
 * before the first copy, so that the next owner finishes a rename a crash interrupted.
 */
export interface PendingRename {
  id: number
  kind: 'file' | 'dir'
  ino: Ino
  /** A directory's key prefix (`a/b/`), or a file's key (`a/b`). */
  fromPrefix: string
  toPrefix: string
  toParent: Ino
  toName: string
  startedAt: number
}

interface RawRename {
  id: number
  kind: string
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
    const result = this.db.prepare('INSERT INTO renames (kind, ino, from_prefix, to_prefix, to_parent, to_name, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(rename.kind, rename.ino, rename.fromPrefix, rename.toPrefix, rename.toParent, rename.toName, startedAt)
    return {...rename, id: Number(result.lastInsertRowid), startedAt}
  }

  finish(id: number): void {
    this.db.prepare('DELETE FROM renames WHERE id = ?').run(id)
  }

  pending(): PendingRename[] {
    const rows = this.db.prepare('SELECT * FROM renames ORDER BY id').all() as RawRename[]
    return rows.map((raw) => ({
      id: raw.id,
      kind: raw.kind === 'file' ? 'file' : 'dir',
      ino: BigInt(raw.ino),
      fromPrefix: raw.from_prefix,
      toPrefix: raw.to_prefix,
      toParent: BigInt(raw.to_parent),
      toName: raw.to_name,
      startedAt: raw.started_at,
    }))
  }
}
