import type Database from 'better-sqlite3'
import {ROOT_INO, type FileType, type Ino, type Timestamp} from '../fs/types.js'
import {SEQ_STEP} from './schema.js'
import {UnchangedReads} from './unchanged-reads.js'

/** What the cache knows about one path: its stable inode number and the store's last word on it. */
export interface InodeRow {
  ino: Ino
  parent: Ino
  name: string
  type: FileType
  /** False when the type is a guess from a listing (an object whose metadata was not read yet). */
  typeKnown: boolean
  /** Directories: whether a marker object exists (undefined: not known yet). */
  marker?: boolean
  size: number
  etag?: string
  /** ms since the epoch as the store reported it; undefined after our own upload until seen again. */
  lastModified?: number
  mode: number
  uid: number
  gid: number
  rdev: number
  mtime: Timestamp
  atime: Timestamp
  ctime: Timestamp
  target?: string
  seenAt: number
  attrsAt?: number
  listedAt?: number
  changedAt?: number
  /** Position among the parent's entries (name order, with gaps): the readdir cookie. Never 0. */
  seq: number
  /** Directories: changes whenever the entries were renumbered (old cookies are then invalid). */
  cookieGen: number
}

export type InodeFields = Omit<InodeRow, 'ino' | 'parent' | 'name' | 'seq' | 'cookieGen'>

/** A child as a readdir without attributes shows it. */
export type ChildEntry = Pick<InodeRow, 'ino' | 'name' | 'type' | 'seq'>

interface RawRow {
  ino: number
  parent: number
  name: string
  type: string
  type_known: number
  marker: number | null
  size: number
  etag: string | null
  last_modified: number | null
  mode: number
  uid: number
  gid: number
  rdev: number
  mtime_sec: number
  mtime_nsec: number
  atime_sec: number
  atime_nsec: number
  ctime_sec: number
  ctime_nsec: number
  target: string | null
  seen_at: number
  attrs_at: number | null
  listed_at: number | null
  changed_at: number | null
  seq: number
  cookie_gen: number
}

/**
 * A whole row as SQLite returns it in raw mode, in the order of ROW_COLUMNS. Rows are read as arrays:
 * better-sqlite3 builds an object of 26 named columns several times slower than the array, and a
 * listing of 1,000 entries reads every row at least once.
 */
type RawValues = [
  ino: number, parent: number, name: string, type: string, typeKnown: number, marker: number | null,
  size: number, etag: string | null, lastModified: number | null, mode: number, uid: number, gid: number, rdev: number,
  mtimeSec: number, mtimeNsec: number, atimeSec: number, atimeNsec: number, ctimeSec: number, ctimeNsec: number,
  target: string | null, seenAt: number, attrsAt: number | null, listedAt: number | null, changedAt: number | null,
  seq: number, cookieGen: number,
]

const ROW_COLUMNS: ReadonlyArray<keyof RawRow> = [
  'ino', 'parent', 'name', 'type', 'type_known', 'marker', 'size', 'etag', 'last_modified', 'mode', 'uid', 'gid', 'rdev',
  'mtime_sec', 'mtime_nsec', 'atime_sec', 'atime_nsec', 'ctime_sec', 'ctime_nsec',
  'target', 'seen_at', 'attrs_at', 'listed_at', 'changed_at', 'seq', 'cookie_gen',
]
const SELECT_ROWS = `SELECT ${ROW_COLUMNS.join(', ')} FROM inodes`

function fromRaw(values: RawValues): InodeRow {
  const [
    ino, parent, name, type, typeKnown, marker, size, etag, lastModified, mode, uid, gid, rdev,
    mtimeSec, mtimeNsec, atimeSec, atimeNsec, ctimeSec, ctimeNsec, target, seenAt, attrsAt, listedAt, changedAt, seq, cookieGen,
  ] = values
  return {
    ino: BigInt(ino),
    parent: BigInt(parent),
    name,
    type: type as FileType,
    typeKnown: typeKnown === 1,
    marker: marker === null ? undefined : marker === 1,
    size,
    etag: etag ?? undefined,
    lastModified: lastModified ?? undefined,
    mode,
    uid,
    gid,
    rdev,
    mtime: {sec: mtimeSec, nsec: mtimeNsec},
    atime: {sec: atimeSec, nsec: atimeNsec},
    ctime: {sec: ctimeSec, nsec: ctimeNsec},
    target: target ?? undefined,
    seenAt,
    attrsAt: attrsAt ?? undefined,
    listedAt: listedAt ?? undefined,
    changedAt: changedAt ?? undefined,
    seq,
    cookieGen,
  }
}

type Column = Exclude<keyof RawRow, 'ino' | 'parent' | 'name' | 'seq' | 'cookie_gen'>

function toColumns(fields: Partial<InodeFields>): Partial<Record<Column, number | string | null>> {
  const columns: Partial<Record<Column, number | string | null>> = {}
  const set = (column: Column, value: number | string | null | undefined): void => {
    columns[column] = value === undefined ? null : value
  }
  for (const [key, value] of Object.entries(fields) as Array<[keyof InodeFields, InodeFields[keyof InodeFields]]>) {
    switch (key) {
      case 'type': set('type', value as string); break
      case 'typeKnown': set('type_known', value ? 1 : 0); break
      case 'marker': set('marker', value === undefined ? null : value ? 1 : 0); break
      case 'size': set('size', value as number); break
      case 'etag': set('etag', value as string | undefined); break
      case 'lastModified': set('last_modified', value as number | undefined); break
      case 'mode': set('mode', value as number); break
      case 'uid': set('uid', value as number); break
      case 'gid': set('gid', value as number); break
      case 'rdev': set('rdev', value as number); break
      case 'mtime': set('mtime_sec', (value as Timestamp).sec); set('mtime_nsec', (value as Timestamp).nsec); break
      case 'atime': set('atime_sec', (value as Timestamp).sec); set('atime_nsec', (value as Timestamp).nsec); break
      case 'ctime': set('ctime_sec', (value as Timestamp).sec); set('ctime_nsec', (value as Timestamp).nsec); break
      case 'target': set('target', value as string | undefined); break
      case 'seenAt': set('seen_at', value as number); break
      case 'attrsAt': set('attrs_at', value as number | undefined); break
      case 'listedAt': set('listed_at', value as number | undefined); break
      case 'changedAt': set('changed_at', value as number | undefined); break
    }
  }
  return columns
}

/** Every column a new row sets, in one fixed order: inserts use one prepared statement, built once. */
const INSERTED_COLUMNS: Column[] = [
  'type', 'type_known', 'marker', 'size', 'etag', 'last_modified', 'mode', 'uid', 'gid', 'rdev',
  'mtime_sec', 'mtime_nsec', 'atime_sec', 'atime_nsec', 'ctime_sec', 'ctime_nsec', 'target',
  'seen_at', 'attrs_at', 'listed_at', 'changed_at',
]
const INSERT_SQL = `INSERT INTO inodes (parent, name, seq, ${INSERTED_COLUMNS.join(', ')}) VALUES (?, ?, ?, ${INSERTED_COLUMNS.map(() => '?').join(', ')})`
/** Each name of a JSON array that is no child yet, in name order, with the positions of its neighbours. */
const NEIGHBOURS_SQL = `
  SELECT value,
    (SELECT seq FROM inodes WHERE parent = @parent AND name < value ORDER BY name DESC LIMIT 1),
    (SELECT seq FROM inodes WHERE parent = @parent AND name > value ORDER BY name LIMIT 1)
  FROM json_each(@names) WHERE NOT EXISTS (SELECT 1 FROM inodes WHERE parent = @parent AND name = value) ORDER BY value`

function insertedValues(fields: InodeFields): Array<number | string | null> {
  const optional = <T>(value: T | undefined): T | null => (value === undefined ? null : value)
  return [
    fields.type, fields.typeKnown ? 1 : 0, fields.marker === undefined ? null : fields.marker ? 1 : 0, fields.size,
    optional(fields.etag), optional(fields.lastModified), fields.mode, fields.uid, fields.gid, fields.rdev,
    fields.mtime.sec, fields.mtime.nsec, fields.atime.sec, fields.atime.nsec, fields.ctime.sec, fields.ctime.nsec,
    optional(fields.target), fields.seenAt, optional(fields.attrsAt), optional(fields.listedAt), optional(fields.changedAt),
  ]
}

/** Rows recently read kept in memory (about 0.5 KiB each): a few listings of 1,000 entries. */
const RECENT_MAX_ROWS = 8192

/** A file unlinked while a client holds it open (InodeTable.detach). */
export function isDetached(row: InodeRow): boolean {
  return row.parent === 0n && row.ino !== ROOT_INO
}

/**
 * The inode table: a row per known path, linked to its parent by inode number, so renaming a
 * directory moves one row and its descendants keep their numbers.
 */
export class InodeTable {
  private readonly statements = new Map<string, Database.Statement>()
  private readonly recent: UnchangedReads<InodeRow>

  constructor(private readonly db: Database.Database) {
    this.recent = new UnchangedReads(db, RECENT_MAX_ROWS)
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /** A statement reading whole rows (as RawValues) that satisfy `condition`. */
  private rows(condition: string): Database.Statement {
    const sql = `${SELECT_ROWS} ${condition}`
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql).raw(true)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /** The row of `ino`; shared with other callers (see UnchangedReads) and frozen. */
  get(ino: Ino): InodeRow | undefined {
    return this.recent.get(`i${ino}`, () => {
      const raw = this.rows('WHERE ino = ?').get(ino) as RawValues | undefined
      return raw ? [fromRaw(raw)] : []
    })[0]
  }

  child(parent: Ino, name: string): InodeRow | undefined {
    const raw = this.rows('WHERE parent = ? AND name = ?').get(parent, name) as RawValues | undefined
    return raw && fromRaw(raw)
  }

  /** The rows of those of `names` that are children of `parent` (one query for a page of a listing). */
  childrenNamed(parent: Ino, names: readonly string[]): Map<string, InodeRow> {
    const raws = this.rows('WHERE parent = ? AND name IN (SELECT value FROM json_each(?))').all(parent, JSON.stringify(names)) as RawValues[]
    return new Map(raws.map((raw) => [raw[2], fromRaw(raw)]))
  }

  /**
   * Children in readdir order (name order), after the position `afterSeq` (a cookie; 0 for the
   * start). The rows are shared with other callers (see UnchangedReads) and frozen.
   */
  children(parent: Ino, afterSeq: number, limit: number): readonly InodeRow[] {
    return this.recent.get(`c${parent}/${afterSeq}/${limit}`, () =>
      (this.rows('WHERE parent = ? AND seq > ? ORDER BY seq LIMIT ?').all(parent, afterSeq, limit) as RawValues[]).map(fromRaw))
  }

  /** Like children, only what a plain readdir shows (reading whole rows costs most of a long listing). */
  childEntries(parent: Ino, afterSeq: number, limit: number): ChildEntry[] {
    const rows = this.statement('SELECT ino, name, type, seq FROM inodes WHERE parent = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(parent, afterSeq, limit) as Array<Pick<RawRow, 'ino' | 'name' | 'type' | 'seq'>>
    return rows.map((raw) => ({ino: BigInt(raw.ino), name: raw.name, type: raw.type as FileType, seq: raw.seq}))
  }

  hasChildren(parent: Ino): boolean {
    return this.statement('SELECT 1 FROM inodes WHERE parent = ? LIMIT 1').get(parent) !== undefined
  }

  insert(parent: Ino, name: string, fields: InodeFields): InodeRow {
    return this.get(this.add(parent, name, fields))!
  }

  /** Inserts a row (at `seq`, by default a position of its own) and returns only its number. */
  add(parent: Ino, name: string, fields: InodeFields, seq = this.positionFor(parent, name)): Ino {
    const result = this.statement(INSERT_SQL).run(parent, name, seq, ...insertedValues(fields))
    return BigInt(result.lastInsertRowid)
  }

  /**
   * The row for a name this process just created in the store: a row a concurrent listing may have
   * added for it meanwhile is reused when of the same type, replaced otherwise.
   */
  upsert(parent: Ino, name: string, fields: InodeFields): InodeRow {
    const existing = this.child(parent, name)
    if (existing?.type === fields.type) {
      this.update(existing.ino, fields)
      return this.get(existing.ino)!
    }
    if (existing) this.deleteSubtree(existing.ino)
    return this.insert(parent, name, fields)
  }

  update(ino: Ino, fields: Partial<InodeFields>): void {
    const columns = toColumns(fields)
    const names = Object.keys(columns)
    if (names.length === 0) return
    const sql = `UPDATE inodes SET ${names.map((name) => `${name} = ?`).join(', ')} WHERE ino = ?`
    this.statement(sql).run(...Object.values(columns), ino)
  }

  /** Moves a row to a new parent and name, replacing whatever row was there. */
  move(ino: Ino, parent: Ino, name: string): void {
    const occupant = this.child(parent, name)
    if (occupant && occupant.ino !== ino) this.deleteSubtree(occupant.ino)
    this.statement('UPDATE inodes SET parent = 0, name = ? WHERE ino = ?').run(`\0moving ${ino}`, ino)
    this.statement('UPDATE inodes SET parent = ?, name = ?, seq = ? WHERE ino = ?').run(parent, name, this.positionFor(parent, name), ino)
  }

  /**
   * A readdir position for a new entry: between its neighbours in name order (SQLite compares
   * UTF-8 bytes, as S3 orders keys). When two neighbours leave no room, the directory is numbered
   * afresh and its cookie generation changes.
   */
  private positionFor(parent: Ino, name: string): number {
    for (let attempt = 0; ; attempt++) {
      const before = this.statement('SELECT seq FROM inodes WHERE parent = ? AND name < ? ORDER BY name DESC LIMIT 1').get(parent, name) as {seq: number} | undefined
      const after = this.statement('SELECT seq FROM inodes WHERE parent = ? AND name > ? ORDER BY name LIMIT 1').get(parent, name) as {seq: number} | undefined
      const low = before?.seq ?? 0
      if (after === undefined) return low + SEQ_STEP
      if (after.seq - low >= 2) return low + Math.floor((after.seq - low) / 2)
      if (attempt > 0) throw new Error(`cannot place ${name} in directory ${parent}`)
      this.renumber(parent)
    }
  }

  /**
   * Positions for those of `names` that are no child of `parent` yet, as positionFor would give them
   * one by one but with one query for all: names that fall between the same two neighbours are spread
   * evenly over the gap between them. Renumbers the directory when a gap is too narrow.
   */
  positionsFor(parent: Ino, names: readonly string[]): Map<string, number> {
    const positions = new Map<string, number>()
    if (names.length === 0) return positions
    const json = JSON.stringify([...new Set(names)])
    for (let attempt = 0; ; attempt++) {
      const placed = this.statement(NEIGHBOURS_SQL).raw(true).all({parent, names: json}) as Array<[string, number | null, number | null]>
      let roomy = true
      for (let start = 0; start < placed.length && roomy;) {
        const [, before, after] = placed[start]
        let end = start + 1
        while (end < placed.length && placed[end][1] === before && placed[end][2] === after) end++
        const low = before ?? 0
        const count = end - start
        if (after !== null && after - low <= count) {
          roomy = false
          break
        }
        for (let index = 0; index < count; index++) {
          const seq = after === null ? low + (index + 1) * SEQ_STEP : low + Math.floor(((index + 1) * (after - low)) / (count + 1))
          positions.set(placed[start + index][0], seq)
        }
        start = end
      }
      if (roomy) return positions
      if (attempt > 0) throw new Error(`cannot place ${placed.length} names in directory ${parent}`)
      positions.clear()
      this.renumber(parent)
    }
  }

  private renumber(parent: Ino): void {
    const inos = (this.statement('SELECT ino FROM inodes WHERE parent = ? ORDER BY name').all(parent) as Array<{ino: number}>)
    inos.forEach(({ino}, index) => this.statement('UPDATE inodes SET seq = ? WHERE ino = ?').run((index + 1) * SEQ_STEP, ino))
    this.statement('UPDATE inodes SET cookie_gen = cookie_gen + 1 WHERE ino = ?').run(parent)
  }

  /**
   * Takes a row out of the namespace, keeping its number (a file unlinked while a client holds it
   * open): no path leads to it any more, and it has none.
   */
  detach(ino: Ino): void {
    this.statement('UPDATE inodes SET parent = 0, name = ? WHERE ino = ?').run(`\0unlinked ${ino}`, ino)
  }

  /** Rows taken out of the namespace by detach. */
  detached(): Ino[] {
    const rows = this.statement('SELECT ino FROM inodes WHERE parent = 0 AND ino != ?').all(ROOT_INO) as Array<{ino: number}>
    return rows.map((row) => BigInt(row.ino))
  }

  /** Deletes a row and every row below it; their numbers are never given out again. */
  deleteSubtree(ino: Ino): void {
    this.statement(`
      WITH RECURSIVE below(ino) AS (SELECT ? UNION ALL SELECT inodes.ino FROM inodes JOIN below ON inodes.parent = below.ino)
      DELETE FROM inodes WHERE ino IN below`).run(ino)
  }

  /** Children of `parent` not seen since `before` (ms). */
  unseenChildren(parent: Ino, before: number): InodeRow[] {
    return (this.rows('WHERE parent = ? AND seen_at < ?').all(parent, before) as RawValues[]).map(fromRaw)
  }

  /** The inode numbers from `ino` up to the root (inclusive), or undefined when a link is missing. */
  ancestry(ino: Ino): InodeRow[] | undefined {
    const chain: InodeRow[] = []
    let current = this.get(ino)
    while (current) {
      chain.push(current)
      if (current.parent === 0n) return current.ino === ROOT_INO ? chain : undefined
      current = this.get(current.parent)
      if (chain.length > 4096) return undefined
    }
    return undefined
  }

  /** The relative path ('' for the root, 'a/b') or undefined when the inode is gone. */
  pathOf(ino: Ino): string | undefined {
    const chain = this.ancestry(ino)
    if (!chain) return undefined
    return chain.slice(0, -1).reverse().map((row) => row.name).join('/')
  }
}
