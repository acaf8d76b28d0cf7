import assert from 'node:assert/strict'
import {it} from 'node:test'
import fc from 'fast-check'
import {isFsError} from '../../src/core/errors.js'
import type {Fs} from '../../src/core/fs/fs.js'
import {ROOT_INO, type Attr} from '../../src/core/fs/types.js'
import {describeOnStores, type FsWorld} from './fs-stores.js'

/**
 * Model-based test: random sequences of namespace and data operations run against the Fs and
 * against a plain Map of paths; every result (success or errno) and every observed state must agree.
 * After each sequence everything is flushed, and the tree is compared again through a reopened Fs
 * and through a fresh cache that sees only what the store holds.
 */

type Node =
  | {type: 'file'; data: Buffer; mode: number}
  | {type: 'dir'; mode: number}
  | {type: 'symlink'; target: string}

class Model {
  readonly nodes = new Map<string, Node>()

  get(path: string): Node | undefined {
    return path === '' ? {type: 'dir', mode: 0o755} : this.nodes.get(path)
  }

  children(path: string): string[] {
    const prefix = path === '' ? '' : `${path}/`
    return [...this.nodes.keys()].filter((key) => key.startsWith(prefix) && !key.slice(prefix.length).includes('/'))
  }

  /** The errno of resolving `path` itself (no symlink is followed: one on the way is ENOTDIR). */
  lookupError(path: string): string | undefined {
    if (path === '') return undefined
    const components = path.split('/')
    for (let i = 1; i <= components.length; i++) {
      const node = this.get(components.slice(0, i).join('/'))
      if (!node) return 'ENOENT'
      if (i < components.length && node.type !== 'dir') return 'ENOTDIR'
    }
    return undefined
  }

  /** The errno a new entry at `path` fails with, given only its parent. */
  parentError(path: string): string | undefined {
    const parent = parentOf(path)
    return this.lookupError(parent) ?? (this.get(parent)!.type === 'dir' ? undefined : 'ENOTDIR')
  }
}

interface Real {
  fs: Fs
}

const owner = {uid: 1000, gid: 1000}
const paths = ['a', 'b', 'c', 'a/a', 'a/b', 'b/c', 'c/a', 'a/a/b', 'a/b/c']

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/')
  return slash === -1 ? '' : path.slice(0, slash)
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

/** Runs `fn` and returns 'ok' or the errno it failed with. */
async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn()
    return 'ok'
  } catch (error) {
    if (isFsError(error)) return error.code
    throw error
  }
}

async function resolveIno(fs: Fs, path: string): Promise<bigint> {
  return path === '' ? ROOT_INO : (await fs.resolve(path)).ino
}

abstract class FsCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true
  }

  abstract run(model: Model, real: Real): Promise<void>
  abstract toString(): string
}

class CreateCommand extends FsCommand {
  constructor(readonly path: string) {
    super()
  }

  async run(model: Model, real: Real): Promise<void> {
    const expected = model.parentError(this.path) ?? (model.get(this.path) ? 'EEXIST' : 'ok')
    const actual = await outcome(async () => real.fs.create(await resolveIno(real.fs, parentOf(this.path)), nameOf(this.path), {mode: 0o644, ...owner, exclusive: true}))
    assert.equal(actual, expected, this.toString())
    if (expected === 'ok') model.nodes.set(this.path, {type: 'file', data: Buffer.alloc(0), mode: 0o644})
  }

  toString(): string {
    return `create(${this.path})`
  }
}

class MkdirCommand extends FsCommand {
  constructor(readonly path: string) {
    super()
  }

  async run(model: Model, real: Real): Promise<void> {
    const expected = model.parentError(this.path) ?? (model.get(this.path) ? 'EEXIST' : 'ok')
    const actual = await outcome(async () => real.fs.mkdir(await resolveIno(real.fs, parentOf(this.path)), nameOf(this.path), {mode: 0o755, ...owner}))
    assert.equal(actual, expected, this.toString())
    if (expected === 'ok') model.nodes.set(this.path, {type: 'dir', mode: 0o755})
  }

  toString(): string {
    return `mkdir(${this.path})`
  }
}

class SymlinkCommand extends FsCommand {
  constructor(readonly path: string, readonly target: string) {
    super()
  }

  async run(model: Model, real: Real): Promise<void> {
    const expected = model.parentError(this.path) ?? (model.get(this.path) ? 'EEXIST' : 'ok')
    const actual = await outcome(async () => real.fs.symlink(await resolveIno(real.fs, parentOf(this.path)), nameOf(this.path), this.target, owner))
    assert.equal(actual, expected, this.toString())
    if (expected === 'ok') model.nodes.set(this.path, {type: 'symlink', target: this.target})
  }

  toString(): string {
    return `symlink(${this.path} -> ${this.target})`
  }
}

class WriteCommand extends FsCommand {
  constructor(readonly path: string, readonly offset: number, readonly data: Buffer, readonly stable: boolean) {
    super()
  }

  async run(model: Model, real: Real): Promise<void> {
    const node = model.get(this.path)
    const expected = model.lookupError(this.path) ?? (node?.type === 'dir' ? 'EISDIR' : node?.type === 'symlink' ? 'EINVAL' : 'ok')
    const actual = await outcome(async () => real.fs.write(await resolveIno(real.fs, this.path), this.offset, this.data, {stable: this.stable}))
    assert.equal(actual, expected, this.toString())
    if (expected === 'ok' && node?.type === 'file') {
      const end = this.offset + this.data.length
      const data = Buffer.alloc(Math.max(node.data.length, end))
      node.data.copy(data)
      this.data.copy(data, this.offset)
      node.data = data
    }
  }

  toString(): string {
    return `write(${this.path}, ${this.offset}, ${JSON.stringify(this.data.toString())}${this.stable ? ', stable' : ''})`
  }
}

class TruncateCommand extends FsCommand {
  constructor(readonly path: string, readonly size: number) {
    super()
  }

  async run(model: Model, real: Real): Promise<void> {
    const node = model.get(this.path)
    const expected = model.lookupError(this.path) ?? (node?.type === 'dir' ? 'EISDIR' : node?.type === 'symlink' ? 'EINVAL' : 'ok')
    const actual = await outcome(async () => real.fs.setattr(await resolveIno(real.fs, this.path), {size: this.size}))
    assert.equal(actual, expected, this.toString())
    if (expected === 'ok' && node?.type === 'file') {
      const data = Buffer.alloc(this.size)
      node.data.copy(data, 0, 0, Math.min(this.size, node.data.length))
      node.data = data
    }
  }

  toString(): string {
    return `truncate(${this.path}, ${this.size})`
  }
}

class ChmodCommand extends FsCommand {
  constructor(readonly path: string, readonly mode: number) {
    super()
  }

  async run(model: Model, real: Real): Promise<void> {
    const node = model.get(this.path)
    const expected = model.lookupError(this.path) ?? 'ok'
    const actual = await outcome(async () => real.fs.setattr(await resolveIno(real.fs, this.path), {mode: this.mode}))
    assert.equal(actual, expected, this.toString())
    if (expected === 'ok' && node && node.type !== 'symlink') node.mode = this.mode
  }

  toString(): string {
    return `chmod(${this.path}, 0${this.mode.toString(8)})`
  }
}

class UnlinkCommand extends FsCommand {
  constructor(readonly path: string) {
    super()
  }

  async run(model: Model, real: Real): Promise<void> {
    const expected = model.lookupError(this.path) ?? (model.get(this.path)?.type === 'dir' ? 'EISDIR' : 'ok')
    const actual = await outcome(async () => real.fs.unlink(await resolveIno(real.fs, parentOf(this.path)), nameOf(this.path)))
    assert.equal(actual, expected, this.toString())
    if (expected === 'ok') model.nodes.delete(this.path)
  }

  toString(): string {
    return `unlink(${this.path})`
  }
}

class RmdirCommand extends FsCommand {
  constructor(readonly path: string) {
    super()
  }

  async run(model: Model, real: Real): Promise<void> {
    const node = model.get(this.path)
    const expected = model.lookupError(this.path)
      ?? (node?.type !== 'dir' ? 'ENOTDIR' : model.children(this.path).length > 0 ? 'ENOTEMPTY' : 'ok')
    const actual = await outcome(async () => real.fs.rmdir(await resolveIno(real.fs, parentOf(this.path)), nameOf(this.path)))
    assert.equal(actual, expected, this.toString())
    if (expected === 'ok') model.nodes.delete(this.path)
  }

  toString(): string {
    return `rmdir(${this.path})`
  }
}

class RenameCommand extends FsCommand {
  constructor(readonly from: string, readonly to: string) {
    super()
  }

  private expected(model: Model): string {
    // In the order the harness and the Fs meet them: both parent paths resolve, then the source
    // parent must be a directory holding the source, then the target parent must be a directory.
    const pathError = model.lookupError(parentOf(this.from)) ?? model.lookupError(parentOf(this.to))
    if (pathError) return pathError
    if (model.get(parentOf(this.from))!.type !== 'dir') return 'ENOTDIR'
    const source = model.get(this.from)
    if (!source) return 'ENOENT'
    if (model.get(parentOf(this.to))!.type !== 'dir') return 'ENOTDIR'
    if (this.from === this.to) return 'ok'
    const target = model.get(this.to)
    if (source!.type === 'dir') {
      if (this.to.startsWith(`${this.from}/`)) return 'EINVAL'
      if (target && target.type !== 'dir') return 'ENOTDIR'
      if (target && model.children(this.to).length > 0) return 'ENOTEMPTY'
      return 'ok'
    }
    if (target?.type === 'dir') return 'EISDIR'
    return 'ok'
  }

  async run(model: Model, real: Real): Promise<void> {
    const expected = this.expected(model)
    const actual = await outcome(async () => real.fs.rename(
      await resolveIno(real.fs, parentOf(this.from)), nameOf(this.from),
      await resolveIno(real.fs, parentOf(this.to)), nameOf(this.to)))
    assert.equal(actual, expected, this.toString())
    if (expected !== 'ok' || this.from === this.to) return
    const moved = [...model.nodes].filter(([path]) => path === this.from || path.startsWith(`${this.from}/`))
    model.nodes.delete(this.to)
    for (const [path] of moved) model.nodes.delete(path)
    for (const [path, node] of moved) model.nodes.set(this.to + path.slice(this.from.length), node)
  }

  toString(): string {
    return `rename(${this.from}, ${this.to})`
  }
}

class CheckCommand extends FsCommand {
  constructor(readonly path: string) {
    super()
  }

  async run(model: Model, real: Real): Promise<void> {
    await expectSame(model, real.fs, this.path)
  }

  toString(): string {
    return `check(${this.path})`
  }
}

/** The Fs shows exactly what the model holds at `path` (and, for a directory, its entries). */
async function expectSame(model: Model, fs: Fs, path: string): Promise<void> {
  const node = model.get(path)
  const expectedError = model.lookupError(path)
  let attr: Attr
  try {
    attr = path === '' ? await fs.getattr(ROOT_INO) : await fs.resolve(path)
  } catch (error) {
    assert.ok(isFsError(error), String(error))
    assert.equal(error.code, expectedError, `resolve(${path})`)
    return
  }
  assert.equal(expectedError, undefined, `${path} exists but the model has no such entry`)
  assert.equal(attr.type, node!.type, `type of ${path}`)
  if (node!.type === 'file') {
    assert.equal(attr.size, node!.data.length, `size of ${path}`)
    assert.equal(attr.mode & 0o7777, node!.mode, `mode of ${path}`)
    const {data} = await fs.read(attr.ino, 0, node!.data.length + 10)
    assert.ok(data.equals(node!.data), `content of ${path}: ${JSON.stringify(data.toString())} vs ${JSON.stringify(node!.data.toString())}`)
  } else if (node!.type === 'symlink') {
    assert.equal(await fs.readlink(attr.ino), node!.target)
  } else {
    assert.equal(attr.mode & 0o7777, node!.mode, `mode of ${path}`)
    const names: string[] = []
    for (let cookie = 0n; ;) {
      const page = await fs.readdir(attr.ino, cookie, 3)
      names.push(...page.entries.map((entry) => entry.name))
      if (page.eof) break
      cookie = page.entries.at(-1)!.cookie
    }
    assert.deepEqual(names.sort(), model.children(path).map(nameOf).sort(), `entries of /${path}`)
  }
}

async function expectTree(model: Model, fs: Fs): Promise<void> {
  await expectSame(model, fs, '')
  for (const path of model.nodes.keys()) await expectSame(model, fs, path)
}

const pathArbitrary = fc.constantFrom(...paths)
const commands = [
  pathArbitrary.map((path) => new CreateCommand(path)),
  pathArbitrary.map((path) => new MkdirCommand(path)),
  fc.tuple(pathArbitrary, fc.constantFrom('a', '../b', '/c/a', 'x')).map(([path, target]) => new SymlinkCommand(path, target)),
  fc.tuple(pathArbitrary, fc.nat(12), fc.uint8Array({minLength: 1, maxLength: 8}), fc.boolean())
    .map(([path, offset, bytes, stable]) => new WriteCommand(path, offset, Buffer.from(bytes), stable)),
  fc.tuple(pathArbitrary, fc.nat(16)).map(([path, size]) => new TruncateCommand(path, size)),
  fc.tuple(pathArbitrary, fc.constantFrom(0o600, 0o644, 0o700, 0o755)).map(([path, mode]) => new ChmodCommand(path, mode)),
  pathArbitrary.map((path) => new UnlinkCommand(path)),
  pathArbitrary.map((path) => new RmdirCommand(path)),
  fc.tuple(pathArbitrary, pathArbitrary).map(([from, to]) => new RenameCommand(from, to)),
  fc.constantFrom('', ...paths).map((path) => new CheckCommand(path)),
]

describeOnStores('fs: model-based', (newWorld, kind) => {
  it('agrees with a Map model over random operation sequences, before and after reopening', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, {maxCommands: 30}), async (sequence) => {
        const world: FsWorld = await newWorld()
        try {
          const model = new Model()
          // Background uploads start almost at once, interleaving with the next operations.
          const fs = await world.open({flushDelayMs: 1, cacheTtlMs: 50})
          await fc.asyncModelRun(() => ({model, real: {fs}}), sequence)
          await fs.flushAll()
          await expectTree(model, fs)
          await fs.close()
          await expectTree(model, await world.open())
          // A fresh cache sees only the store: everything must have been uploaded.
          await expectTree(model, await world.open({cacheDir: `${world.cacheDir}-fresh`, readOnly: true}))
        } finally {
          await world.dispose()
        }
      }),
      {numRuns: Number(process.env.ZEROFS_MODEL_RUNS ?? (kind === 'file' ? 25 : 10))},
    )
  })
})
