import assert from 'node:assert/strict'
import {connect} from 'node:net'
import {after, before, describe, it} from 'node:test'

import {AUTH_SYS, GARBAGE_ARGS, PROC_UNAVAIL, PROG_MISMATCH, PROG_UNAVAIL, SYSTEM_ERR} from '../../src/protocols/rpc/constants.js'
import {decodeCall} from '../../src/protocols/rpc/message.js'
import {RecordFramer, RecordTooLargeError, recordHeader} from '../../src/protocols/rpc/record-marking.js'
import {RpcServer} from '../../src/protocols/rpc/server.js'
import {DecodeError, XdrReader, XdrWriter} from '../../src/protocols/rpc/xdr.js'

const silent = {debug() {}, info() {}, warn() {}, error() {}}

function callRecord(xid: number, prog: number, vers: number, proc: number, args: Buffer = Buffer.alloc(0), uid = 1000): Buffer {
  const cred = new XdrWriter().uint32(0).string('host').uint32(uid).uint32(100).uint32(2).uint32(100).uint32(27).toBuffer()
  return new XdrWriter().uint32(xid).uint32(0).uint32(2).uint32(prog).uint32(vers).uint32(proc)
    .uint32(AUTH_SYS).opaque(cred).uint32(0).opaque(Buffer.alloc(0)).fixedOpaque(args).toBuffer()
}

describe('XDR', () => {
  it('round-trips every type with padding', () => {
    const bytes = new XdrWriter(1).uint32(0xffffffff).int32(-5).uint64(2n ** 64n - 1n).int64(-2n).bool(true)
      .opaque(Buffer.from('abcde')).string('é').toBuffer()
    assert.equal(bytes.length, 4 + 4 + 8 + 8 + 4 + 12 + 8)
    const reader = new XdrReader(bytes)
    assert.equal(reader.uint32(), 0xffffffff)
    assert.equal(reader.int32(), -5)
    assert.equal(reader.uint64(), 2n ** 64n - 1n)
    assert.equal(reader.int64(), -2n)
    assert.equal(reader.bool(), true)
    assert.equal(reader.opaque().toString(), 'abcde')
    assert.equal(reader.string().toString('utf8'), 'é')
    assert.equal(reader.remaining, 0)
  })

  it('attaches large opaque data uncopied: the pieces are the same message, padding included', () => {
    const data = Buffer.alloc(64 * 1024 + 3, 7)
    const writer = new XdrWriter().uint32(1).opaque(data).uint32(2)
    const pieces = writer.toBuffers()
    assert.ok(pieces.includes(data), 'the data travels by reference')
    const whole = writer.toBuffer()
    assert.equal(whole.length, writer.size)
    assert.deepEqual(Buffer.concat(pieces), whole)
    const reader = new XdrReader(whole)
    assert.equal(reader.uint32(), 1)
    assert.deepEqual(reader.opaque(), data)
    assert.equal(reader.uint32(), 2)
  })

  it('writes opaque data given in pieces as one opaque: attached uncopied when large, copied when short', () => {
    for (const pieces of [[Buffer.alloc(40_000, 1), Buffer.alloc(30_001, 2), Buffer.alloc(5, 3)], [Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')], []]) {
      const writer = new XdrWriter().uint32(1).opaquePieces(pieces).uint32(2)
      const data = Buffer.concat(pieces)
      assert.equal(pieces.length > 0 && pieces.every((piece) => writer.toBuffers().includes(piece)), data.length >= 64 * 1024)
      const reader = new XdrReader(writer.toBuffer())
      assert.equal(reader.uint32(), 1)
      assert.deepEqual(reader.opaque(), data)
      assert.equal(reader.uint32(), 2)
      assert.equal(reader.remaining, 0)
    }
  })

  it('throws only DecodeError on short, oversized or invalid input', () => {
    assert.throws(() => new XdrReader(Buffer.alloc(3)).uint32(), DecodeError)
    assert.throws(() => new XdrReader(new XdrWriter().uint32(10).toBuffer()).opaque(), DecodeError)
    assert.throws(() => new XdrReader(new XdrWriter().opaque(Buffer.alloc(8)).toBuffer()).opaque(4), DecodeError)
    assert.throws(() => new XdrReader(new XdrWriter().uint32(2).toBuffer()).bool(), DecodeError)
    assert.throws(() => new XdrReader(new XdrWriter().uint32(1e9).toBuffer()).array(() => 0), DecodeError)
  })

  it('fuzz: arbitrary bytes make the readers throw DecodeError or succeed, nothing else', () => {
    let seed = 42
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff)
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(Array.from({length: random() % 64}, () => random() & 0xff))
      try {
        decodeCall(bytes)
      } catch (error) {
        assert.ok(error instanceof DecodeError || (error as Error).name === 'CallRejected', String(error))
      }
    }
  })
})

describe('record marking', () => {
  it('reassembles a record fed split at every offset, and multi-fragment records', () => {
    const payload = Buffer.from('0123456789abcdef0123')
    const twoFragments = Buffer.concat([
      Buffer.from([0, 0, 0, 8]), payload.subarray(0, 8), recordHeader(12), payload.subarray(8),
    ])
    const stream = Buffer.concat([recordHeader(payload.length), payload, twoFragments])
    for (let split = 0; split <= stream.length; split++) {
      const framer = new RecordFramer(1024)
      const records = [...framer.push(stream.subarray(0, split)), ...framer.push(stream.subarray(split))]
      assert.deepEqual(records.map(String), [String(payload), String(payload)], `split at ${split}`)
    }
  })

  it('refuses records over the cap, counting every fragment', () => {
    const framer = new RecordFramer(16)
    assert.throws(() => framer.push(Buffer.concat([Buffer.from([0, 0, 0, 10]), Buffer.alloc(10), Buffer.from([0x80, 0, 0, 10])])), RecordTooLargeError)
  })
})

describe('RPC server', () => {
  const server = new RpcServer({
    logger: silent,
    programs: [{
      name: 'echo',
      prog: 400000,
      versions: new Map([[1, [
        async () => () => {},
        async (call) => {
          const text = call.args.string(64)
          return (writer) => writer.string(text)
        },
        async () => {
          throw new Error('handler bug')
        },
        async (call) => {
          await new Promise((resolve) => setTimeout(resolve, 50))
          const text = call.args.string(64)
          return (writer) => writer.string(text)
        },
      ]], [3, []]]),
    }],
  })
  let port = 0
  before(async () => {
    port = (await server.listen(0, '127.0.0.1')).port
  })
  after(() => server.close())

  async function exchange(records: Buffer[], expected: number): Promise<XdrReader[]> {
    const socket = connect(port, '127.0.0.1')
    const framer = new RecordFramer(1 << 20)
    const replies: XdrReader[] = []
    return new Promise((resolve, reject) => {
      socket.on('data', (chunk) => {
        for (const record of framer.push(chunk)) replies.push(new XdrReader(record))
        if (replies.length === expected) {
          socket.destroy()
          resolve(replies)
        }
      })
      socket.on('error', reject)
      socket.on('close', () => resolve(replies))
      for (const record of records) socket.write(Buffer.concat([recordHeader(record.length), record]))
    })
  }

  function acceptStat(reply: XdrReader): {xid: number; stat: number} {
    const xid = reply.uint32()
    assert.equal(reply.uint32(), 1, 'REPLY')
    assert.equal(reply.uint32(), 0, 'MSG_ACCEPTED')
    reply.uint32()
    reply.opaque()
    return {xid, stat: reply.uint32()}
  }

  it('answers success, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS and SYSTEM_ERR', async () => {
    const args = new XdrWriter().string('hi').toBuffer()
    const replies = await exchange([
      callRecord(1, 400000, 1, 1, args),
      callRecord(2, 400001, 1, 0),
      callRecord(3, 400000, 2, 0),
      callRecord(4, 400000, 1, 9),
      callRecord(5, 400000, 1, 1, Buffer.from([0, 0, 1])),
      callRecord(6, 400000, 1, 2),
    ], 6)
    const byXid = new Map(replies.map((reply) => {
      const {xid, stat} = acceptStat(reply)
      return [xid, {stat, reply}]
    }))
    assert.equal(byXid.get(1)!.stat, 0)
    assert.equal(byXid.get(1)!.reply.string().toString(), 'hi')
    assert.equal(byXid.get(2)!.stat, PROG_UNAVAIL)
    assert.equal(byXid.get(3)!.stat, PROG_MISMATCH)
    assert.equal(byXid.get(3)!.reply.uint32(), 1)
    assert.equal(byXid.get(3)!.reply.uint32(), 3)
    assert.equal(byXid.get(4)!.stat, PROC_UNAVAIL)
    assert.equal(byXid.get(5)!.stat, GARBAGE_ARGS)
    assert.equal(byXid.get(6)!.stat, SYSTEM_ERR)
  })

  it('replies out of order by xid', async () => {
    const args = new XdrWriter().string('x').toBuffer()
    const replies = await exchange([callRecord(10, 400000, 1, 3, args), callRecord(11, 400000, 1, 1, args)], 2)
    assert.deepEqual(replies.map((reply) => reply.uint32()), [11, 10])
  })

  it('denies a wrong RPC version and bad credentials, and closes on garbage', async () => {
    const wrongVersion = callRecord(20, 400000, 1, 0)
    wrongVersion.writeUInt32BE(3, 8)
    const badCred = new XdrWriter().uint32(21).uint32(0).uint32(2).uint32(400000).uint32(1).uint32(0)
      .uint32(AUTH_SYS).opaque(Buffer.from([1, 2, 3])).uint32(0).uint32(0).toBuffer()
    const [mismatch, authError] = await exchange([wrongVersion, badCred], 2)
    assert.deepEqual([mismatch.uint32(), mismatch.uint32(), mismatch.uint32(), mismatch.uint32(), mismatch.uint32(), mismatch.uint32()], [20, 1, 1, 0, 2, 2])
    assert.deepEqual([authError.uint32(), authError.uint32(), authError.uint32(), authError.uint32(), authError.uint32()], [21, 1, 1, 1, 1])
    const closed = await exchange([Buffer.from([1, 2])], 1)
    assert.equal(closed.length, 0)
    const healthy = await exchange([callRecord(22, 400000, 1, 0)], 1)
    assert.equal(acceptStat(healthy[0]).stat, 0)
  })
})
