import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {after, before, describe, it} from 'node:test'

import {locate, locateStore, normalisePath} from '../../src/core/store/locate.js'

// The location rules every command applies to its argument (serve and fsck through locateStore).
describe('locate', () => {
  let home: string

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'zerofs-locate-'))
    await mkdir(join(home, 'store', '.zerofs'), {recursive: true})
    await mkdir(join(home, 'store', 'a', 'b'), {recursive: true})
    await mkdir(join(home, 'plain', 'sub'), {recursive: true})
  })

  after(async () => {
    if (home) await rm(home, {recursive: true, force: true})
  })

  it('splits s3://BUCKET/PATH into the bucket root and the path, keeping the raw key prefix', async () => {
    assert.deepEqual(await locate('s3://photos'), {store: 's3://photos', path: '/', keyPrefix: ''})
    assert.deepEqual(await locate('s3://photos/'), {store: 's3://photos', path: '/', keyPrefix: ''})
    assert.deepEqual(await locate('s3://photos/2024/raw/'), {store: 's3://photos', path: '/2024/raw', keyPrefix: '2024/raw/'})
    assert.deepEqual(await locate('s3://photos/a//b'), {store: 's3://photos', path: '/a/b', keyPrefix: 'a//b'})
  })

  it('reads s3://BUCKET/PREFIX as a store scoped to the prefix for commands that take a whole store', async () => {
    assert.deepEqual(await locateStore('s3://photos'), {store: 's3://photos', path: '/', keyPrefix: ''})
    assert.deepEqual(await locateStore('s3://photos/2024/raw/'), {store: 's3://photos/2024/raw', path: '/', keyPrefix: ''})
    for (const hostile of ['s3://photos/a//b', 's3://photos/../etc', 's3://photos/a/./b']) {
      await assert.rejects(locateStore(hostile), /invalid store location .*empty, "\." or "\.\." component/, hostile)
    }
    const store = join(home, 'store')
    assert.deepEqual(await locateStore(join(store, 'a')), await locate(join(store, 'a')), 'local paths as locate reads them')
  })

  it('never puts the path above the store root', async () => {
    assert.equal((await locate('s3://photos/../../etc')).path, '/etc')
    assert.equal(normalisePath('a/./b/../../..'), '/')
    assert.equal(normalisePath(''), '/')
  })

  it('takes the nearest ancestor holding .zerofs as the store of a local path', async () => {
    const store = join(home, 'store')
    assert.deepEqual(await locate(join(store, 'a', 'b')), {store, path: '/a/b', keyPrefix: 'a/b'})
    assert.deepEqual(await locate(`${join(store, 'a')}/`), {store, path: '/a', keyPrefix: 'a/'})
    assert.deepEqual(await locate(store), {store, path: '/', keyPrefix: ''})
    assert.deepEqual(await locate(join(store, 'a', 'missing')), {store, path: '/a/missing', keyPrefix: 'a/missing'})
    assert.deepEqual(await locate(pathToFileURL(join(store, 'a')).href), {store, path: '/a', keyPrefix: 'a'})
  })

  it('takes a local path outside any store as a store of its own', async () => {
    const plain = join(home, 'plain', 'sub')
    assert.deepEqual(await locate(plain), {store: plain, path: '/', keyPrefix: ''})
  })

  it('without a location, names the embedded default store and creates it', async () => {
    const saved = process.env.XDG_DATA_HOME
    process.env.XDG_DATA_HOME = join(home, 'data')
    try {
      const located = await locate()
      assert.deepEqual(located, {store: join(home, 'data', 'zerofs', 'default'), path: '/', keyPrefix: ''})
      assert.ok(existsSync(located.store))
    } finally {
      if (saved === undefined) delete process.env.XDG_DATA_HOME
      else process.env.XDG_DATA_HOME = saved
    }
  })
})
