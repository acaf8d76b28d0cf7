import assert from 'node:assert/strict'
import {readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {it} from 'node:test'

import type {Fs} from '../../src/core/fs/fs.js'
import {ROOT_INO, type Ino} from '../../src/core/fs/types.js'
import {describeOnStores, type FsWorld} from './fs-stores.js'

const owner = {mode: 0o644, uid: 0, gid: 0}

async function names(fs: Fs): Promise<string[]> {
  return (await fs.readdir(ROOT_INO, 0n, 100)).entries.map((entry) => entry.name)
}

async function objectKeys(world: FsWorld): Promise<string[]> {
  const keys: string[] = []
  for await (const entry of world.store.list({prefix: ''})) if (entry.kind === 'object') keys.push(entry.key)
  return keys.filter((key) => !key.startsWith('.zerofs/'))
}

async function readAll(fs: Fs, ino: Ino): Promise<string> {
  return (await fs.read(ino, 0, 1 << 20)).data.toString()
}

/** An uploaded file, then forgotten by a reopened Fs (so its data lives only in the store). */
async function uploadedFile(world: FsWorld, name: string, content: string): Promise<Fs> {
  const first = await world.open()
  const file = await first.create(ROOT_INO, name, owner)
  await first.write(file.ino, 0, Buffer.from(content))
  await first.close()
  await world.open().then((fs) => fs.close())
  return world.open()
}

describeOnStores('fs: a file unlinked or replaced while open lives on until the last close', (newWorld) => {
  it('keeps an uploaded file readable and writable through its inode, nameless, then drops it', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const fs = await uploadedFile(world, 'open.txt', 'still here')
    const {ino} = await fs.lookup(ROOT_INO, 'open.txt')
    fs.openFile(ino)
    await fs.unlink(ROOT_INO, 'open.txt')

    assert.deepEqual(await names(fs), [])
    await assert.rejects(fs.lookup(ROOT_INO, 'open.txt'), {code: 'ENOENT'})
    assert.deepEqual(await objectKeys(world), [], 'the object is gone at once')
    assert.equal((await fs.getattr(ino)).nlink, 0)
    assert.equal(await readAll(fs, ino), 'still here')
    await fs.write(ino, 10, Buffer.from(' and more'))
    await fs.fsync(ino)
    assert.equal(await readAll(fs, ino), 'still here and more')
    assert.deepEqual(await objectKeys(world), [], 'nothing of it is uploaded')

    await fs.closeFile(ino)
    await assert.rejects(fs.getattr(ino), {code: 'ESTALE'})
    assert.deepEqual(await readdir(join(world.cacheDir, 'staging')), [], 'its staged data is gone')
  })

  it('keeps the old contents of a file renamed over while open', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const fs = await uploadedFile(world, 'target', 'old')
    const {ino} = await fs.lookup(ROOT_INO, 'target')
    fs.openFile(ino)
    const newer = await fs.create(ROOT_INO, 'newer', owner)
    await fs.write(newer.ino, 0, Buffer.from('new'))
    await fs.fsync(newer.ino)
    await fs.rename(ROOT_INO, 'newer', ROOT_INO, 'target')

    assert.deepEqual(await names(fs), ['target'])
    assert.equal(await readAll(fs, newer.ino), 'new')
    assert.equal(await readAll(fs, ino), 'old')
    await fs.closeFile(ino)
    await assert.rejects(fs.getattr(ino), {code: 'ESTALE'})
    assert.equal(await readAll(fs, (await fs.lookup(ROOT_INO, 'target')).ino), 'new')
  })

  it('deletes at once a file whose opens were all closed, and counts nested opens', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const fs = await world.open()
    const file = await fs.create(ROOT_INO, 'twice', owner)
    fs.openFile(file.ino)
    fs.openFile(file.ino)
    await fs.write(file.ino, 0, Buffer.from('x'))
    await fs.unlink(ROOT_INO, 'twice')
    await fs.closeFile(file.ino)
    assert.equal(await readAll(fs, file.ino), 'x', 'one open is left')
    await fs.closeFile(file.ino)
    await assert.rejects(fs.getattr(file.ino), {code: 'ESTALE'})

    const closed = await fs.create(ROOT_INO, 'closed', owner)
    fs.openFile(closed.ino)
    await fs.closeFile(closed.ino)
    await fs.unlink(ROOT_INO, 'closed')
    await assert.rejects(fs.getattr(closed.ino), {code: 'ESTALE'})
  })

  it('drops what was open and unlinked when the process stopped, at the next open', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const fs = await world.open()
    const file = await fs.create(ROOT_INO, 'orphan', owner)
    await fs.write(file.ino, 0, Buffer.from('data'))
    fs.openFile(file.ino)
    await fs.unlink(ROOT_INO, 'orphan')
    await fs.close()

    const reopened = await world.open()
    await assert.rejects(reopened.getattr(file.ino), {code: 'ESTALE'})
    assert.deepEqual(await names(reopened), [])
    assert.deepEqual(await objectKeys(world), [])
    assert.deepEqual(await readdir(join(world.cacheDir, 'staging')), [])
  })
})
