import assert from 'node:assert/strict'
import {link, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {StagingFiles} from '../../src/core/fs/staging-files.js'

// A FileStore takes an uploaded data file by a hard link: the object must never change through the staging path.
describe('StagingFiles: a data file a store shares by a hard link', () => {
  let dir: string
  let files: StagingFiles<number>

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zerofs-staging-files-'))
    files = new StagingFiles<number>((index) => join(dir, String(index)))
  })

  after(async () => {
    await files.closeAll()
    await rm(dir, {recursive: true, force: true})
  })

  it('is copied to an inode of its own before it is written', async () => {
    await writeFile(join(dir, '1'), 'uploaded bytes')
    await link(join(dir, '1'), join(dir, 'object-1'))
    await files.write(1, 0, Buffer.from('UPLOADED'))
    assert.equal(await readFile(join(dir, 'object-1'), 'utf8'), 'uploaded bytes')
    assert.equal((await files.read(1, 0, 14)).toString(), 'UPLOADED bytes')
    assert.equal((await stat(join(dir, '1'))).nlink, 1)
    await files.truncate(1, 4)
    assert.equal(await readFile(join(dir, 'object-1'), 'utf8'), 'uploaded bytes')
  })

  it('is replaced, never emptied, when the inode is staged anew', async () => {
    await writeFile(join(dir, '2'), 'uploaded bytes')
    await link(join(dir, '2'), join(dir, 'object-2'))
    await files.create(2, 3)
    await files.write(2, 0, Buffer.from('new'))
    assert.equal(await readFile(join(dir, 'object-2'), 'utf8'), 'uploaded bytes')
    assert.equal(await readFile(join(dir, '2'), 'utf8'), 'new')
  })

  it('is written in place when nothing shares it', async () => {
    await files.create(3, 0)
    await files.write(3, 0, Buffer.from('abc'))
    const before = (await stat(join(dir, '3'))).ino
    await files.close(3)
    await files.write(3, 3, Buffer.from('def'))
    assert.equal((await stat(join(dir, '3'))).ino, before)
    assert.equal(await readFile(join(dir, '3'), 'utf8'), 'abcdef')
  })
})
