import {ROOT_INO, type Ino} from '../fs/types.js'
import {displayPath} from '../layout/keys.js'
import type {CacheAccess} from './cache-access.js'
import type {Problem} from './problem.js'

/**
 * The shape of the inode table: every entry must hang below the root through parent links. An
 * entry whose parent is gone is an orphan; entries whose parent links loop never reach the root.
 * Both are found with one walk from the root (kept in a temporary table, not in memory).
 */

const PAGE = 500
/** Parent links followed to tell a cycle member from an entry that only hangs below one. */
const MAX_CYCLE_STEPS = 4096

interface RawEntry {
  ino: number
  parent: number
  name: string
  type: string
}

export class CacheStructure {
  private constructor(private readonly cache: CacheAccess) {}

  /** Walks the table from the root into `temp.fsck_reachable`. */
  static analyse(cache: CacheAccess): CacheStructure {
    cache.db.exec(`
      DROP TABLE IF EXISTS temp.fsck_reachable;
      CREATE TEMP TABLE fsck_reachable (ino INTEGER PRIMARY KEY);
      WITH RECURSIVE reach(ino) AS (
        SELECT ${ROOT_INO}
        UNION SELECT inodes.ino FROM inodes JOIN reach ON inodes.parent = reach.ino WHERE inodes.ino != ${ROOT_INO}
      )
      INSERT INTO temp.fsck_reachable SELECT ino FROM reach;
    `)
    return new CacheStructure(cache)
  }

  isReachable(ino: Ino): boolean {
    return this.cache.db.prepare('SELECT 1 FROM temp.fsck_reachable WHERE ino = ?').get(ino) !== undefined
  }

  /** The path of a reachable entry ('' for the root), or undefined when it is not reachable. */
  pathOf(ino: Ino): string | undefined {
    return this.isReachable(ino) ? this.cache.inodes.pathOf(ino) : undefined
  }

  /** Orphans (with how many entries hang below each) and cycle members, as problems. */
  *problems(repairing: boolean): Generator<Problem> {
    const {db} = this.cache
    const orphans = db.prepare(`
      SELECT ino, parent, name, type FROM inodes AS entry
      WHERE ino != ${ROOT_INO} AND ino > ? AND NOT EXISTS (SELECT 1 FROM inodes WHERE inodes.ino = entry.parent)
      ORDER BY ino LIMIT ${PAGE}`)
    for (const entry of pages<RawEntry>((after) => orphans.all(after) as RawEntry[])) {
      const below = countEntriesBelow(this.cache, BigInt(entry.ino))
      yield {
        kind: 'cache-orphan',
        severity: 'error',
        path: `<inode ${entry.ino}>`,
        detail: `the ${entry.type} '${entry.name}' (inode ${entry.ino}) names parent inode ${entry.parent}, which is not in the cache`
          + `${below > 0 ? `; ${below} entries below it` : ''}${repairing ? '; forgotten' : ''}`,
        repaired: repairing,
      }
    }
    // Unreachable entries that are not below an orphan hang on a loop of parent links.
    const loose = db.prepare(`
      WITH RECURSIVE lost(ino) AS (
        SELECT ino FROM inodes AS entry WHERE ino != ${ROOT_INO} AND NOT EXISTS (SELECT 1 FROM inodes WHERE inodes.ino = entry.parent)
        UNION SELECT inodes.ino FROM inodes JOIN lost ON inodes.parent = lost.ino
      )
      SELECT ino, parent, name, type FROM inodes
      WHERE ino > ? AND ino NOT IN (SELECT ino FROM temp.fsck_reachable) AND ino NOT IN lost
      ORDER BY ino LIMIT ${PAGE}`)
    for (const entry of pages<RawEntry>((after) => loose.all(after) as RawEntry[])) {
      const cycle = this.cycleThrough(BigInt(entry.ino))
      // Below a cycle (it goes with it), or a member other than the cycle's smallest inode (one report per cycle).
      if (cycle === undefined || cycle.some((ino) => ino < BigInt(entry.ino))) continue
      yield {
        kind: 'cache-cycle',
        severity: 'error',
        path: `<inode ${entry.ino}>`,
        detail: `the parent links of ${cycle.length - 1} entries form a cycle: ${cycle.map(String).join(' → ')} (inodes; '${entry.name}' is ${entry.ino})`
          + `${repairing ? '; forgotten' : ''}`,
        repaired: repairing,
      }
    }
  }

  /** Forgets every entry that does not hang below the root (orphans, cycles and what is below them). */
  forgetUnreachable(): number {
    return this.cache.transaction(() => Number(this.cache.db.prepare('DELETE FROM inodes WHERE ino NOT IN (SELECT ino FROM temp.fsck_reachable)').run().changes))
  }

  /** Interrupted renames (journaled by the core): the keys may be under both names. */
  *pendingRenames(): Generator<{id: number; problem: Omit<Problem, 'severity' | 'repaired'>}> {
    for (const rename of this.cache.renames.pending()) {
      yield {
        id: rename.id,
        problem: {
          kind: 'cache-rename-pending',
          path: displayPath(rename.fromPrefix.replace(/\/$/, '')),
          detail: `renaming ${displayPath(rename.fromPrefix)} to ${displayPath(rename.toPrefix)} was interrupted `
            + `(started ${new Date(rename.startedAt).toISOString()}): keys may be under both names`,
        },
      }
    }
  }

  /** The loop of parent links from `ino` back to itself, or undefined when `ino` is not on one. */
  private cycleThrough(ino: Ino): Ino[] | undefined {
    const chain: Ino[] = [ino]
    const visited = new Set<Ino>(chain)
    let current = this.cache.inodes.get(ino)
    for (let step = 0; current && step < MAX_CYCLE_STEPS; step++) {
      if (current.parent === ino) return [...chain, ino]
      // A loop that does not pass through `ino`: it only hangs below one.
      if (visited.has(current.parent)) return undefined
      chain.push(current.parent)
      visited.add(current.parent)
      current = this.cache.inodes.get(current.parent)
    }
    return undefined
  }
}

/** How many entries hang below `ino` (UNION, not UNION ALL: it ends on a cycle too). */
export function countEntriesBelow(cache: CacheAccess, ino: Ino): number {
  const row = cache.db.prepare(`
    WITH RECURSIVE below(ino) AS (SELECT ? UNION SELECT inodes.ino FROM inodes JOIN below ON inodes.parent = below.ino)
    SELECT count(*) - 1 AS count FROM below`).get(ino) as {count: number}
  return row.count
}

/** Pages of rows ordered by `ino`: `query(after)` returns the rows after inode `after`. */
function* pages<T extends {ino: number}>(query: (after: number) => T[]): Generator<T> {
  for (let after = 0; ;) {
    const page = query(after)
    yield* page
    if (page.length < PAGE) return
    after = page[page.length - 1].ino
  }
}
