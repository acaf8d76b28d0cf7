import assert from 'node:assert/strict'
import {it} from 'node:test'

import {GroupCommit} from '../../src/core/store/group-commit.js'

it('runs a lone item at once and batches what is submitted while a batch runs', async () => {
  const batches: number[][] = []
  let release: () => void = () => undefined
  const commit = new GroupCommit<number, number>(async (items) => {
    batches.push(items)
    if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve))
    return items.map((item) => ({status: 'fulfilled', value: item * 10}))
  })
  const first = commit.submit(1)
  assert.deepEqual(batches, [[1]], 'the first item does not wait')
  const later = [2, 3, 4].map((item) => commit.submit(item))
  release()
  assert.deepEqual(await Promise.all([first, ...later]), [10, 20, 30, 40])
  assert.deepEqual(batches, [[1], [2, 3, 4]])
})

it('fails an item alone, and a whole batch when the batch fails', async () => {
  const commit = new GroupCommit<number, number>(async (items) => {
    if (items.includes(0)) throw new Error('batch failed')
    return items.map((item) => item < 0 ? {status: 'rejected', reason: new Error(`item ${item}`)} : {status: 'fulfilled', value: item})
  })
  const settled = await Promise.allSettled([commit.submit(1), commit.submit(-1), commit.submit(2)])
  assert.deepEqual(settled.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled'])
  await assert.rejects(commit.submit(0), /batch failed/)
  assert.equal(await commit.submit(5), 5, 'and goes on after a failed batch')
})
