import assert from 'node:assert/strict'
import {it} from 'node:test'

import {ROOT_INO} from '../../src/core/fs/types.js'
import {describeOnStores} from './fs-stores.js'

const MiB = 1024 * 1024

/**
 * An upload drops a file's staged entry and updates its row in one transaction; a getattr or read
 * that took the row before that and looked for the staged entry after it saw the file as it was
 * before the staged writes (a client then read a copied file short). Many calls in flight across
 * the upload's end must all see the new size.
 */
describeOnStores('fs: calls racing an upload', (newWorld) => {
  it('getattr and read see the staged size until the upload is done and the uploaded size after', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const fs = await world.open({flushDelayMs: 60_000})
    const file = await fs.create(ROOT_INO, 'grown.bin', {mode: 0o644, uid: 0, gid: 0})
    await fs.write(file.ino, 0, Buffer.alloc(MiB, 1))
    await fs.fsync(file.ino)
    for (let round = 0; round < 5; round++) {
      const size = (round + 2) * MiB
      await fs.write(file.ino, size - MiB, Buffer.alloc(MiB, round + 2))
      let uploading = true
      const upload = fs.fsync(file.ino).finally(() => {
        uploading = false
      })
      const seen: number[] = []
      while (uploading) {
        const calls = Array.from({length: 50}, async (_, index) => {
          if (index % 2 === 0) seen.push((await fs.getattr(file.ino)).size)
          else {
            const {data, eof} = await fs.read(file.ino, size - 10, 100)
            seen.push(eof ? size - 10 + data.length : -1)
          }
        })
        await Promise.all(calls)
      }
      await upload
      assert.deepEqual([...new Set(seen)], [size], `round ${round}: every call saw ${size} bytes`)
    }
    await fs.close()
  })
})

describeOnStores('fs: writes racing an upload', (newWorld) => {
  it('a write that waited for an upload stages on top of the uploaded object, not of the file as it was before', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const fs = await world.open({flushDelayMs: 60_000})
    const file = await fs.create(ROOT_INO, 'appended.bin', {mode: 0o644, uid: 0, gid: 0})
    const parts = [0, 1, 2, 3].map((index) => Buffer.alloc(MiB, index + 1))
    await fs.write(file.ino, 0, parts[0])
    for (let index = 1; index < parts.length; index++) {
      // The write reads the file's row while the upload runs, then waits for it to finish.
      const upload = fs.fsync(file.ino)
      const write = fs.write(file.ino, index * MiB, parts[index])
      await Promise.all([upload, write])
    }
    await fs.fsync(file.ino)
    const expected = Buffer.concat(parts)
    assert.ok((await fs.read(file.ino, 0, expected.length)).data.equals(expected), 'read back through the Fs')
    const stored: Buffer[] = []
    for await (const chunk of await world.store.get('appended.bin')) stored.push(chunk as Buffer)
    assert.ok(Buffer.concat(stored).equals(expected), 'the object holds every write')
    await fs.close()
  })
})
