import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {LOCK_END, LockTable, type LockOwner} from '../../src/protocols/p9/lock-table.js'

const a: LockOwner = {procId: 1, clientId: 'guest'}
const b: LockOwner = {procId: 2, clientId: 'guest'}
const otherHost: LockOwner = {procId: 1, clientId: 'other'}
const ino = 10n

const ranges = (table: LockTable) => table.held(ino).map((lock) => `${lock.owner.procId}${lock.owner.clientId[0]}:${lock.kind[0]}:${lock.start}-${lock.end === LOCK_END ? 'end' : lock.end}`)

describe('9P lock table', () => {
  it('splits an owner\'s range when part of it is unlocked or changes kind, and merges touching ranges', () => {
    const table = new LockTable()
    assert.equal(table.set(ino, a, 'write', 0n, 100n), undefined)
    table.set(ino, a, 'unlock', 40n, 20n)
    assert.deepEqual(ranges(table), ['1g:w:0-40', '1g:w:60-100'])
    table.set(ino, a, 'read', 30n, 40n)
    assert.deepEqual(ranges(table), ['1g:w:0-30', '1g:r:30-70', '1g:w:70-100'])
    table.set(ino, a, 'write', 30n, 40n)
    assert.deepEqual(ranges(table), ['1g:w:0-100'])
    table.set(ino, a, 'write', 100n, 0n)
    assert.deepEqual(ranges(table), ['1g:w:0-end'])
    table.set(ino, a, 'unlock', 0n, 0n)
    assert.deepEqual(ranges(table), [])
  })

  it('refuses conflicting ranges of other owners and changes nothing then', () => {
    const table = new LockTable()
    table.set(ino, a, 'write', 10n, 10n)
    assert.deepEqual(table.set(ino, b, 'read', 15n, 1n)?.owner, a)
    assert.deepEqual(table.set(ino, otherHost, 'write', 0n, 0n)?.owner, a, 'same proc_id on another client is another owner')
    assert.equal(table.set(ino, b, 'write', 20n, 10n), undefined, 'adjacent ranges do not conflict')
    assert.equal(table.set(ino, b, 'write', 0n, 10n), undefined)
    assert.deepEqual(ranges(table), ['2g:w:0-10', '1g:w:10-20', '2g:w:20-30'])
    assert.equal(table.conflict(ino, a, 'write', 0n, 5n)?.owner, b)
    assert.equal(table.conflict(ino, a, 'write', 10n, 10n), undefined, 'an owner never conflicts with itself')
  })

  it('lets readers share and keeps writers out', () => {
    const table = new LockTable()
    assert.equal(table.set(ino, a, 'read', 0n, 0n), undefined)
    assert.equal(table.set(ino, b, 'read', 5n, 5n), undefined)
    assert.deepEqual(table.set(ino, otherHost, 'write', 7n, 1n)?.kind, 'read')
    assert.equal(table.set(ino, a, 'write', 0n, 0n)?.owner, b, 'upgrading needs the other reader gone')
    table.release(ino, b)
    assert.equal(table.set(ino, a, 'write', 0n, 0n), undefined)
    assert.deepEqual(ranges(table), ['1g:w:0-end'])
    table.release(ino, a)
    assert.deepEqual(table.held(ino), [])
  })
})
