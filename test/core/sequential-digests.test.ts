import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {describe, it} from 'node:test'
import type {StagedFile} from '../../src/core/cache/staging-journal.js'
import {SequentialDigests} from '../../src/core/fs/sequential-digests.js'

const time = {sec: 1_700_000_000, nsec: 0}

/** A staged file of `size` bytes (as the journal holds it before a write), without a base object unless `baseLimit`. */
function staged(size: number, baseLimit = 0): StagedFile {
  return {
    ino: 7n, size, written: size === 0 ? [] : [[0, size]], fetched: [], baseLimit,
    mode: 0o100644, uid: 0, gid: 0, mtime: time, atime: time, ctime: time, stagedAt: 0,
  }
}

const sha256 = (...pieces: Buffer[]): string => createHash('sha256').update(Buffer.concat(pieces)).digest('hex')

describe('SequentialDigests', () => {
  const a = Buffer.from('first piece ')
  const b = Buffer.from('second piece')

  it('knows the hash of a file written from its start, in order', () => {
    const digests = new SequentialDigests()
    digests.written(staged(0), 0, a)
    digests.written(staged(a.length), a.length, b)
    assert.equal(digests.sha256(staged(a.length + b.length)), sha256(a, b))
    // Asking does not end the hash: the file may grow after an upload.
    digests.written(staged(a.length + b.length), a.length + b.length, a)
    assert.equal(digests.sha256(staged(2 * a.length + b.length)), sha256(a, b, a))
  })

  it('knows nothing after a write elsewhere than the end, a gap, a size change behind its back, or of a file with a base', () => {
    const rewrite = new SequentialDigests()
    rewrite.written(staged(0), 0, a)
    rewrite.written(staged(a.length), 0, b)
    assert.equal(rewrite.sha256(staged(b.length)), undefined)

    const gap = new SequentialDigests()
    gap.written(staged(0), 0, a)
    gap.written(staged(a.length), a.length + 1, b)
    assert.equal(gap.sha256(staged(a.length + 1 + b.length)), undefined)

    const truncated = new SequentialDigests()
    truncated.written(staged(0), 0, a)
    assert.equal(truncated.sha256(staged(3)), undefined)
    truncated.written(staged(3), 3, b)
    assert.equal(truncated.sha256(staged(3 + b.length)), undefined)

    const based = new SequentialDigests()
    based.written(staged(0, 100), 0, a)
    assert.equal(based.sha256(staged(a.length, 100)), undefined)

    const forgotten = new SequentialDigests()
    forgotten.written(staged(0), 0, a)
    forgotten.forget(7n)
    assert.equal(forgotten.sha256(staged(a.length)), undefined)
  })
})
