import assert from 'node:assert/strict'
import {it} from 'node:test'
import fc from 'fast-check'
import {isFsError} from '../../src/core/errors.js'
import type {Fs} from '../../src/core/fs/fs.js'
import {ROOT_INO, type Ino} from '../../src/core/fs/types.js'
import {describeOnStores} from '../core/fs-stores.js'
import {assertClean, runFsck} from './fsck-world.js'

/**
 * Whatever the core does, it leaves a store and a cache that fsck finds clean: random sequences of
 * namespace and data operations through the Fs, then a check (and a repair with nothing to do).
 */

const owner = {uid: 1000, gid: 1000}
const paths = ['a', 'b', 'a/c', 'a/d', 'b/e', 'a/c/f']

type Op =
  | {op: 'write'; path: string; offset: number; data: string}
  | {op: 'truncate'; path: string; size: number}
  | {op: 'mkdir' | 'rmdir' | 'unlink'; path: string}
  | {op: 'rename'; from: string; to: string}
  | {op: 'symlink'; path: string; target: string}
  | {op: 'chmod'; path: string; mode: number}
  | {op: 'fsync'; path: string}

const path = fc.constantFrom(...paths)
// Directories first and often, so that sequences reach below the root.
const operation: fc.Arbitrary<Op> = fc.oneof(
  {arbitrary: fc.record({op: fc.constant('mkdir' as const), path: fc.constantFrom('a', 'b', 'a/c')}), weight: 4},
  {arbitrary: fc.record({op: fc.constant('write' as const), path, offset: fc.nat(64), data: fc.string({minLength: 1, maxLength: 16})}), weight: 4},
  {arbitrary: fc.record({op: fc.constant('rename' as const), from: path, to: path}), weight: 3},
  {arbitrary: fc.record({op: fc.constant('truncate' as const), path, size: fc.nat(48)}), weight: 1},
  {arbitrary: fc.record({op: fc.constantFrom('rmdir' as const, 'unlink' as const), path}), weight: 2},
  {arbitrary: fc.record({op: fc.constant('symlink' as const), path, target: fc.constantFrom('a', '../b', '/a/c')}), weight: 1},
  {arbitrary: fc.record({op: fc.constant('chmod' as const), path, mode: fc.constantFrom(0o600, 0o755, 0o640)}), weight: 1},
  {arbitrary: fc.record({op: fc.constant('fsync' as const), path}), weight: 1},
)

function split(path: string): {parent: string; name: string} {
  const slash = path.lastIndexOf('/')
  return slash === -1 ? {parent: '', name: path} : {parent: path.slice(0, slash), name: path.slice(slash + 1)}
}

async function inoOf(fs: Fs, path: string): Promise<Ino> {
  return path === '' ? ROOT_INO : (await fs.resolve(path)).ino
}

async function apply(fs: Fs, op: Op): Promise<void> {
  switch (op.op) {
    case 'write': {
      const {parent, name} = split(op.path)
      const file = await fs.create(await inoOf(fs, parent), name, {mode: 0o644, ...owner})
      await fs.write(file.ino, op.offset, Buffer.from(op.data))
      return
    }
    case 'truncate': return void await fs.setattr(await inoOf(fs, op.path), {size: op.size})
    case 'mkdir': {
      const {parent, name} = split(op.path)
      return void await fs.mkdir(await inoOf(fs, parent), name, {mode: 0o755, ...owner})
    }
    case 'rmdir':
    case 'unlink': {
      const {parent, name} = split(op.path)
      return op.op === 'rmdir' ? fs.rmdir(await inoOf(fs, parent), name) : fs.unlink(await inoOf(fs, parent), name)
    }
    case 'rename': {
      const from = split(op.from)
      const to = split(op.to)
      return fs.rename(await inoOf(fs, from.parent), from.name, await inoOf(fs, to.parent), to.name)
    }
    case 'symlink': {
      const {parent, name} = split(op.path)
      return void await fs.symlink(await inoOf(fs, parent), name, op.target, owner)
    }
    case 'chmod': return void await fs.setattr(await inoOf(fs, op.path), {mode: op.mode})
    case 'fsync': return fs.fsync(await inoOf(fs, op.path))
  }
}

describeOnStores('fsck after the core\'s random operations', (newWorld) => {
  it('finds the store and the cache clean, and a repair finds nothing to do', async () => {
    await fc.assert(fc.asyncProperty(fc.array(operation, {minLength: 5, maxLength: 25}), async (ops) => {
      const world = await newWorld()
      try {
        // No background uploads: Fs.close() does not wait for one whose journal entry is already gone,
        // so its staging file can outlive close() for a moment (a core race fsck rightly reports).
        const fs = await world.open({flushDelayMs: 3_600_000})
        for (const op of ops) {
          try {
            await apply(fs, op)
          } catch (error) {
            if (!isFsError(error)) throw error
          }
        }
        // Beside the live Fs (its staged writes are its work in progress), then after it closed.
        assertClean(await runFsck(world), `beside the Fs after ${JSON.stringify(ops)}`)
        await fs.close()
        assertClean(await runFsck(world), `after ${JSON.stringify(ops)}`)
        const repair = await runFsck(world, {repair: true})
        assertClean(repair, 'a repair after a clean check')
        assert.deepEqual(repair.problems.filter((problem) => problem.repaired), [], 'nothing repaired')
      } finally {
        await world.dispose()
      }
    }), {numRuns: 25})
  })
})
