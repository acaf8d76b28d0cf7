import assert from 'node:assert/strict'
import {connect} from 'node:net'
import {describe, it} from 'node:test'

import {RpcServer} from '../../src/protocols/rpc/server.js'
import {RpcClient, successBody} from '../helpers/nfs-rpc-client.js'

const silent = {debug() {}, info() {}, warn() {}, error() {}}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1')
    probe.once('error', () => resolve(true))
    probe.once('connect', () => {
      probe.destroy()
      resolve(false)
    })
  })
}

describe('RpcServer.close', () => {
  it('stops accepting, lets a call in flight deliver its reply, then closes the connection', async () => {
    let markStarted!: () => void
    const started = new Promise<void>((resolve) => (markStarted = resolve))
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const server = new RpcServer({
      logger: silent,
      programs: [{
        name: 'slow',
        prog: 400100,
        versions: new Map([[1, [async () => {
          markStarted()
          await released
          return (writer) => writer.string('finished')
        }]]]),
      }],
    })
    const {port} = await server.listen(0, '127.0.0.1')
    const client = await RpcClient.connect(port)
    const reply = client.call(400100, 1, 0, Buffer.alloc(0))
    await started

    const closing = server.close()
    assert.equal(await refusesConnections(port), true)
    release()
    assert.equal(successBody(await reply).string().toString(), 'finished')
    await closing
    await client.closed
  })
})
