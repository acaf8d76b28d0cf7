import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {BufferPool} from '../../src/core/blockdev/buffer-pool.js'
import {FreshChunks} from '../../src/core/blockdev/fresh-chunks.js'

const SIZE = 16

function filled(byte: number): Buffer {
  return Buffer.alloc(SIZE, byte)
}

describe('FreshChunks: fetched chunks kept in memory', () => {
  it('drops the least recently used chunk beyond its capacity, and gives its buffer back to the pool', () => {
    const pool = new BufferPool(SIZE, 4)
    const fresh = new FreshChunks(2, pool)
    const [a, b, c] = [filled(1), filled(2), filled(3)]
    fresh.set(0, a)
    fresh.set(1, b)
    // A read of chunk 0 makes chunk 1 the least recently used.
    assert.equal(fresh.slice(0, 2, 4)?.length, 4)
    fresh.set(2, c)
    assert.equal(fresh.has(1), false)
    assert.equal(fresh.get(0), a)
    assert.equal(fresh.get(2), c)
    assert.equal(pool.take(), b, 'the dropped buffer is reused by the next fetch')
  })

  it('gives back a deleted or replaced buffer, but not one taken: the taker owns it', () => {
    const pool = new BufferPool(SIZE, 4)
    const fresh = new FreshChunks(4, pool)
    const [a, b, c] = [filled(1), filled(2), filled(3)]
    fresh.set(0, a)
    fresh.set(0, b)
    assert.equal(pool.take(), a)
    assert.equal(fresh.take(0), b)
    assert.equal(fresh.has(0), false)
    fresh.set(0, b)
    fresh.set(1, c)
    fresh.delete(1)
    assert.equal(pool.take(), c)
    assert.notEqual(pool.take(), b, 'a buffer still held is never handed out')
    assert.equal(fresh.get(0), b)
  })
})
