import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {startInProcessNfs, type InProcessNfs} from '../helpers/nfs-server.js'
import {NfsTestClient} from '../helpers/nfs-wire.js'

/**
 * What a client sees across a server restart (over the same store and cache): the same handles,
 * and a new write verifier, which is how it learns to send its uncommitted data again.
 * (nfs-kernel-lifecycle.test.ts does this with kill -9 under the Linux client.)
 */
describe('NFSv3 across a server restart', () => {
  let nfs: InProcessNfs

  before(async () => {
    nfs = await startInProcessNfs()
  })
  after(() => nfs.dispose())

  it('keeps file handles valid and answers with a new write verifier', async () => {
    let client = await NfsTestClient.connect(nfs.port)
    const root = await client.mountRoot()
    const dir = (await client.mkdir(root, 'kept')).handle!
    const file = (await client.create(dir, 'data', {mode: 0, attributes: {mode: 0o644}})).handle!
    const written = await client.write(file, 0n, Buffer.from('before the restart'), 0)
    assert.equal(written.status, 0)
    await client.close()

    await nfs.restart()
    client = await NfsTestClient.connect(nfs.port)
    try {
      assert.equal((await client.getattr(root)).status, 0, 'the root handle still works without a new MNT')
      assert.equal((await client.lookup(dir, 'data')).status, 0)
      const again = await client.write(file, 0n, Buffer.from('BEFORE'), 0)
      assert.equal(again.status, 0)
      assert.notDeepEqual(again.verifier, written.verifier, 'a new verifier tells the client to resend what it had not committed')
      const committed = await client.commit(file)
      assert.deepEqual(committed.verifier, again.verifier)
      assert.equal((await client.read(file, 0n, 100)).data?.toString(), 'BEFORE the restart')
    } finally {
      await client.close()
    }
  })
})
