import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import Database from 'better-sqlite3'
import {UnchangedReads} from '../../src/core/cache/unchanged-reads.js'

let scratch: string
let counter = 0

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'zerofs-unchanged-reads-test-'))
})
after(() => rmSync(scratch, {recursive: true, force: true}))

/** A WAL database with a table of numbers, and a reader that counts its reads. */
function numbers(): {file: string; db: Database.Database; read: () => Array<{v: number}>; reads: () => number} {
  const file = join(scratch, `db-${counter++}.sqlite`)
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE n (v INTEGER)')
  db.prepare('INSERT INTO n (v) VALUES (1), (2)').run()
  let reads = 0
  const select = db.prepare('SELECT v FROM n ORDER BY v')
  return {file, db, read: () => (reads++, select.all() as Array<{v: number}>), reads: () => reads}
}

describe('UnchangedReads', () => {
  it('answers a page again from memory while nothing changed', () => {
    const {db, read, reads} = numbers()
    const pages = new UnchangedReads<{v: number}>(db, 100)
    assert.deepEqual(pages.get('a', read), [{v: 1}, {v: 2}])
    assert.deepEqual(pages.get('a', read), [{v: 1}, {v: 2}])
    assert.equal(reads(), 1)
    assert.deepEqual(pages.get('b', read), [{v: 1}, {v: 2}])
    assert.equal(reads(), 2)
    db.close()
  })

  it('reads again after a write through the same connection, even one rolled back', () => {
    const {db, read, reads} = numbers()
    const pages = new UnchangedReads<{v: number}>(db, 100)
    pages.get('a', read)
    db.prepare('INSERT INTO n (v) VALUES (3)').run()
    assert.deepEqual(pages.get('a', read), [{v: 1}, {v: 2}, {v: 3}])
    assert.equal(reads(), 2)
    assert.throws(() => db.transaction(() => {
      db.prepare('DELETE FROM n').run()
      throw new Error('roll back')
    })())
    assert.deepEqual(pages.get('a', read), [{v: 1}, {v: 2}, {v: 3}])
    assert.equal(reads(), 3)
    db.close()
  })

  it('never keeps what a transaction read (it may be rolled back)', () => {
    const {db, read, reads} = numbers()
    const pages = new UnchangedReads<{v: number}>(db, 100)
    assert.throws(() => db.transaction(() => {
      db.prepare('INSERT INTO n (v) VALUES (3)').run()
      assert.deepEqual(pages.get('a', read), [{v: 1}, {v: 2}, {v: 3}])
      throw new Error('roll back')
    })())
    assert.deepEqual(pages.get('a', read), [{v: 1}, {v: 2}])
    assert.equal(reads(), 2)
    db.close()
  })

  it('reads again after another connection committed', () => {
    const {file, db, read, reads} = numbers()
    const pages = new UnchangedReads<{v: number}>(db, 100)
    pages.get('a', read)
    const other = new Database(file)
    other.prepare('UPDATE n SET v = v * 10').run()
    other.close()
    assert.deepEqual(pages.get('a', read), [{v: 10}, {v: 20}])
    assert.equal(reads(), 2)
    db.close()
  })

  it('keeps at most its bound of rows, dropping the least recently used page', () => {
    const {db, read, reads} = numbers()
    const pages = new UnchangedReads<{v: number}>(db, 4)
    pages.get('a', read)
    pages.get('b', read)
    pages.get('a', read)
    pages.get('c', read) // 6 rows: b goes
    assert.equal(reads(), 3)
    pages.get('a', read)
    pages.get('c', read)
    assert.equal(reads(), 3)
    pages.get('b', read)
    assert.equal(reads(), 4)
    const tiny = new UnchangedReads<{v: number}>(db, 1)
    tiny.get('a', read)
    tiny.get('a', read) // a result larger than the bound is never kept
    assert.equal(reads(), 6)
    db.close()
  })

  it('counts a result without rows against the bound, and freezes the rows it hands out', () => {
    const {db, read} = numbers()
    const pages = new UnchangedReads<{v: number}>(db, 2)
    let reads = 0
    const nothing = (): Array<{v: number}> => (reads++, [])
    for (const key of ['x', 'y', 'z', 'x']) pages.get(key, nothing)
    assert.equal(reads, 4)
    const [row] = pages.get('a', read)
    assert.throws(() => {
      (row as {v: number}).v = 5
    }, TypeError)
    db.close()
  })
})
