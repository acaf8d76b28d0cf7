import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {constants} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {P9_LOCK_BLOCKED, P9_LOCK_SUCCESS, P9_LOCK_TYPE_UNLCK, P9_LOCK_TYPE_WRLCK} from '../../src/protocols/p9/constants.js'
import {P9TestClient} from '../helpers/p9-client.js'
import {startInProcessP9, type InProcessP9} from '../helpers/p9-server.js'

/** Sessions of the 9P server in this process: locks across connections, clunk and disconnect, durability of a written clunk. */

const lockBody = (fid: number, procId: number, type = P9_LOCK_TYPE_WRLCK) => ({fid, type, flags: 0, start: 0n, length: 0n, procId, clientId: 'test'})

describe('9P sessions', () => {
  let served: InProcessP9

  before(async () => {
    served = await startInProcessP9()
  })

  after(async () => {
    await served.dispose()
  })

  it('a written file is in the store when Rclunk arrives', async () => {
    const client = await P9TestClient.attached(served.port)
    await client.expect('Rwalk', 'Twalk', {fid: 0, newfid: 1, wnames: []})
    await client.expect('Rlcreate', 'Tlcreate', {fid: 1, name: 'durable.txt', flags: 0o101, mode: 0o644, gid: 0})
    const written = await client.expect('Rwrite', 'Twrite', {fid: 1, offset: 0n, data: Buffer.from('in the bucket')})
    assert.deepEqual(written.body, {count: 13})
    await client.expect('Rclunk', 'Tclunk', {fid: 1})
    assert.equal(await readFile(join(served.storeDir, 'durable.txt'), 'utf8'), 'in the bucket')
    client.close()
  })

  it('locks conflict across connections and go with the clunk of their fid and with a closed connection', async () => {
    const first = await P9TestClient.attached(served.port)
    const second = await P9TestClient.attached(served.port)
    for (const client of [first, second]) {
      await client.expect('Rwalk', 'Twalk', {fid: 0, newfid: 1, wnames: ['durable.txt']})
      await client.expect('Rlopen', 'Tlopen', {fid: 1, flags: 2})
    }
    assert.deepEqual((await first.call('Tlock', lockBody(1, 10))).body, {status: P9_LOCK_SUCCESS})
    assert.deepEqual((await second.call('Tlock', lockBody(1, 20))).body, {status: P9_LOCK_BLOCKED})
    const held = await second.call('Tgetlock', {fid: 1, type: P9_LOCK_TYPE_WRLCK, start: 5n, length: 1n, procId: 20, clientId: 'test'})
    assert.deepEqual(held.body, {type: P9_LOCK_TYPE_WRLCK, start: 0n, length: 0n, procId: 10, clientId: 'test'})
    const asLinuxAsks = await second.call('Tgetlock', {fid: 1, type: P9_LOCK_TYPE_UNLCK, start: 5n, length: 1n, procId: 20, clientId: 'test'})
    assert.deepEqual(asLinuxAsks.body, held.body, 'type UNLCK (what the Linux client sends) asks as a write lock would')
    await first.expect('Rclunk', 'Tclunk', {fid: 1})
    assert.deepEqual((await second.call('Tlock', lockBody(1, 20))).body, {status: P9_LOCK_SUCCESS}, 'released by the clunk')
    const free = await first.call('Tgetlock', {fid: 0, type: P9_LOCK_TYPE_WRLCK, start: 0n, length: 0n, procId: 10, clientId: 'test'})
    assert.equal((free.body as {type: number}).type, P9_LOCK_TYPE_UNLCK, 'the directory has no locks')
    await first.expect('Rwalk', 'Twalk', {fid: 0, newfid: 2, wnames: ['durable.txt']})
    assert.deepEqual((await first.call('Tlock', lockBody(2, 10))).body, {status: P9_LOCK_BLOCKED})
    second.close()
    await second.closed
    let status = P9_LOCK_BLOCKED
    while (status === P9_LOCK_BLOCKED) status = ((await first.call('Tlock', lockBody(2, 10))).body as {status: number}).status
    assert.equal(status, P9_LOCK_SUCCESS, 'released when the connection closed')
    const unlocked = await first.call('Tlock', lockBody(2, 10, P9_LOCK_TYPE_UNLCK))
    assert.deepEqual(unlocked.body, {status: P9_LOCK_SUCCESS})
    first.close()
  })

  it('a file unlinked while open stays readable through its open fid until the clunk; an open fid cannot walk in place', async () => {
    const client = await P9TestClient.attached(served.port)
    await client.expect('Rwalk', 'Twalk', {fid: 0, newfid: 1, wnames: []})
    await client.expect('Rlcreate', 'Tlcreate', {fid: 1, name: 'unlinked.txt', flags: 2, mode: 0o644, gid: 0})
    await client.expect('Rwrite', 'Twrite', {fid: 1, offset: 0n, data: Buffer.from('kept')})
    await client.expect('Runlinkat', 'Tunlinkat', {dirfid: 0, name: 'unlinked.txt', flags: 0})
    const read = await client.expect('Rread', 'Tread', {fid: 1, offset: 0n, count: 100})
    assert.equal((read.body as {data: Buffer}).data.toString(), 'kept')
    assert.equal(await client.errno('Twalk', {fid: 1, newfid: 1, wnames: []}), constants.errno.EBADF)
    await client.expect('Rclunk', 'Tclunk', {fid: 1})
    assert.equal(await client.errno('Twalk', {fid: 0, newfid: 2, wnames: ['unlinked.txt']}), constants.errno.ENOENT)
    client.close()
  })
})
