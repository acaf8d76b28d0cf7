import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {NbdWireClient, infoRequestData, startInProcessNbd, type InProcessNbd} from '../helpers/nbd-wire.js'

/**
 * The NBD server's answers byte by byte, against the spec's values (written out here): option
 * replies of the handshake, and the error replies of transmission.
 */

const SIZE = 1024 * 1024
const REP_ACK = 1
const REP_SERVER = 2
const REP_INFO = 3
const REP_ERR_UNSUP = 2 ** 31 + 1
const REP_ERR_INVALID = 2 ** 31 + 3
const REP_ERR_UNKNOWN = 2 ** 31 + 6
const EINVAL = 22
const CMD = {READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, WRITE_ZEROES: 6}

describe('NBD on the wire', () => {
  let nbd: InProcessNbd

  before(async () => {
    nbd = await startInProcessNbd(SIZE)
  })

  after(async () => {
    await nbd?.dispose()
  })

  it('greets with fixed newstyle and no zeroes, lists, refuses unknown options and names, and acks an abort', async () => {
    const client = await NbdWireClient.connect(nbd.port)
    assert.equal((await client.greet()).flags, 0b11)
    client.sendOption(3) // LIST
    const server = await client.optionReply()
    assert.deepEqual([server.option, server.type, server.data.readUInt32BE(0), server.data.subarray(4).toString()], [3, REP_SERVER, 4, 'disk'])
    assert.equal((await client.optionReply()).type, REP_ACK)
    client.sendOption(3, Buffer.from('x'))
    assert.equal((await client.optionReply()).type, REP_ERR_INVALID)
    client.sendOption(8) // STRUCTURED_REPLY: not offered
    assert.deepEqual(await client.optionReply(), {option: 8, type: REP_ERR_UNSUP, data: Buffer.alloc(0)})
    client.sendOption(6, infoRequestData('nope'))
    assert.equal((await client.optionReply()).type, REP_ERR_UNKNOWN)
    client.sendOption(6, Buffer.from([0, 0, 0, 9, 1]))
    assert.equal((await client.optionReply()).type, REP_ERR_INVALID)
    client.sendOption(6, infoRequestData('disk', [3]))
    const exportInfo = await client.optionReply()
    assert.equal(exportInfo.type, REP_INFO)
    assert.deepEqual([exportInfo.data.readUInt16BE(0), exportInfo.data.readBigUInt64BE(2), exportInfo.data.readUInt16BE(10)], [0, BigInt(SIZE), 0x16d])
    const blockSize = await client.optionReply()
    assert.deepEqual([blockSize.data.readUInt16BE(0), blockSize.data.readUInt32BE(2), blockSize.data.readUInt32BE(6), blockSize.data.readUInt32BE(10)], [3, 1, 4096, 32 * 1024 * 1024])
    assert.equal((await client.optionReply()).type, REP_ACK)
    client.sendOption(2) // ABORT
    assert.equal((await client.optionReply()).type, REP_ACK)
    await client.closed
  })

  it('answers out-of-range and unknown requests with EINVAL, consuming a refused write\'s payload', async () => {
    const client = await NbdWireClient.connect(nbd.port)
    await client.greet()
    assert.equal((await client.go('')).at(-1)!.type, REP_ACK, 'the empty name is the only export')
    client.request(CMD.READ, 1n, BigInt(SIZE - 10), 11)
    assert.deepEqual(await client.reply(), {error: EINVAL, handle: 1n})
    client.request(CMD.WRITE, 2n, BigInt(SIZE), 8, {payload: Buffer.from('ABCDEFGH')})
    assert.deepEqual(await client.reply(), {error: EINVAL, handle: 2n})
    client.request(CMD.WRITE, 3n, 2n ** 63n, 4, {payload: Buffer.from('WXYZ')})
    assert.deepEqual(await client.reply(), {error: EINVAL, handle: 3n})
    client.request(99, 4n, 0n, 0)
    assert.deepEqual(await client.reply(), {error: EINVAL, handle: 4n})
    client.request(CMD.TRIM, 5n, BigInt(SIZE), 1)
    assert.deepEqual(await client.reply(), {error: EINVAL, handle: 5n})
    // The stream is still in step: a write and a read of it.
    client.request(CMD.WRITE, 6n, 100n, 5, {payload: Buffer.from('hello'), flags: 1})
    assert.deepEqual(await client.reply(), {error: 0, handle: 6n})
    client.request(CMD.READ, 7n, 98n, 9)
    assert.deepEqual(await client.reply(), {error: 0, handle: 7n})
    assert.deepEqual(await client.reader.read(9), Buffer.from('\0\0hello\0\0'))
    client.request(CMD.WRITE_ZEROES, 8n, 100n, 2, {flags: 2})
    client.request(CMD.FLUSH, 9n, 0n, 0)
    const replies = [await client.reply(), await client.reply()]
    assert.deepEqual(replies.map((reply) => reply.error), [0, 0])
    assert.deepEqual(replies.map((reply) => reply.handle).sort(), [8n, 9n])
    client.request(CMD.READ, 10n, 100n, 5)
    assert.deepEqual(await client.reply(), {error: 0, handle: 10n})
    assert.deepEqual(await client.reader.read(5), Buffer.from('\0\0llo'))
    client.request(CMD.DISC, 11n, 0n, 0)
    await client.closed
  })

  it('keeps many requests in flight and answers each by its handle', async () => {
    const client = await NbdWireClient.connect(nbd.port)
    await client.greet()
    await client.go('disk')
    const count = 100
    for (let i = 0; i < count; i++) {
      client.request(CMD.WRITE, BigInt(1000 + i), BigInt(i * 4096), 4096, {payload: Buffer.alloc(4096, i)})
    }
    const handles = new Set<bigint>()
    for (let i = 0; i < count; i++) {
      const reply = await client.reply()
      assert.equal(reply.error, 0)
      handles.add(reply.handle)
    }
    assert.equal(handles.size, count)
    assert.ok((await nbd.device.read(99 * 4096, 4096)).equals(Buffer.alloc(4096, 99)))
    client.request(CMD.DISC, 0n, 0n, 0)
    await client.closed
  })
})
