import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {MAX_MSIZE, NOFID} from '../../src/protocols/p9/constants.js'
import {P9Framer} from '../../src/protocols/p9/framer.js'
import {decodeMessage, encodeMessage, type Body, type RequestName} from '../../src/protocols/p9/messages.js'
import {DecodeError} from '../../src/protocols/p9/wire.js'
import {P9TestClient} from '../helpers/p9-client.js'
import {startInProcessP9, type InProcessP9} from '../helpers/p9-server.js'
import {seededRandom} from '../helpers/seeded-random.js'

const seeds: Array<[RequestName, Body<RequestName>]> = [
  ['Twalk', {fid: 0, newfid: 1, wnames: ['a', 'b']}],
  ['Tlopen', {fid: 1, flags: 2}],
  ['Tlcreate', {fid: 0, name: 'fuzz', flags: 0o102, mode: 0o644, gid: 0}],
  ['Tread', {fid: 1, offset: 0n, count: 4096}],
  ['Twrite', {fid: 1, offset: 3n, data: Buffer.from('data')}],
  ['Tgetattr', {fid: 0, requestMask: 0x7ffn}],
  ['Tsetattr', {fid: 1, valid: 0x1, mode: 0o600, uid: 0, gid: 0, size: 0n, atimeSec: 0n, atimeNsec: 0n, mtimeSec: 0n, mtimeNsec: 0n}],
  ['Treaddir', {fid: 0, offset: 0n, count: 8192}],
  ['Tlock', {fid: 1, type: 1, flags: 0, start: 0n, length: 0n, procId: 1, clientId: 'fuzz'}],
  ['Tmkdir', {dfid: 0, name: 'dir', mode: 0o755, gid: 0}],
  ['Tunlinkat', {dirfid: 0, name: 'fuzz', flags: 0}],
  ['Tclunk', {fid: 1}],
  ['Tflush', {oldtag: 3}],
  ['Tattach', {fid: 5, afid: NOFID, uname: 'root', aname: '', nUname: 0}],
] as Array<[RequestName, Body<RequestName>]>

/** A seed message with some of its bytes after size[4] replaced, or random bytes of a random type. */
function mutatedFrame(next: () => number, tag: number): Buffer {
  let frame: Buffer
  if (next() < 0.2) {
    frame = Buffer.alloc(7 + Math.floor(next() * 64))
    for (let i = 4; i < frame.length; i++) frame[i] = Math.floor(next() * 256)
  } else {
    const [name, body] = seeds[Math.floor(next() * seeds.length)]
    frame = Buffer.from(encodeMessage(name, tag, body))
    const flips = 1 + Math.floor(next() * 4)
    for (let i = 0; i < flips; i++) frame[4 + Math.floor(next() * (frame.length - 4))] = Math.floor(next() * 256)
    if (next() < 0.3) frame = frame.subarray(0, 7 + Math.floor(next() * (frame.length - 7)))
  }
  frame.writeUInt32LE(frame.length, 0)
  frame.writeUInt16LE(tag, 5)
  return frame
}

describe('9P fuzzing', () => {
  let served: InProcessP9

  before(async () => {
    served = await startInProcessP9()
  })

  after(async () => {
    await served.dispose()
  })

  it('the decoder only throws DecodeError, and still decodes afterwards', () => {
    const next = seededRandom(1)
    for (let i = 0; i < 20_000; i++) {
      const frame = mutatedFrame(next, i & 0xffff)
      try {
        decodeMessage(frame)
      } catch (error) {
        assert.ok(error instanceof DecodeError, `frame ${frame.toString('hex')}: ${String(error)}`)
      }
    }
    const framer = new P9Framer(MAX_MSIZE)
    for (let i = 0; i < 1000; i++) {
      const bytes = Buffer.from(Array.from({length: 1 + Math.floor(next() * 16)}, () => Math.floor(next() * 256)))
      try {
        new P9Framer(MAX_MSIZE).push(bytes)
      } catch (error) {
        assert.ok(error instanceof DecodeError, String(error))
      }
    }
    assert.deepEqual(framer.push(encodeMessage('Tclunk', 9, {fid: 2})).map(decodeMessage), [{name: 'Tclunk', tag: 9, body: {fid: 2}}])
  })

  it('answers every mutated frame on one connection while serving another', async () => {
    const victim = await P9TestClient.attached(served.port)
    const bystander = await P9TestClient.attached(served.port)
    const next = seededRandom(2)
    for (let i = 0; i < 1500; i++) {
      const tag = 1000 + (i % 1000)
      await Promise.race([victim.sendRaw(mutatedFrame(next, tag), tag), victim.closed])
      if (i % 100 === 0) assert.equal((await bystander.call('Tgetattr', {fid: 0, requestMask: 0x7ffn})).name, 'Rgetattr')
    }
    assert.equal(victim.socket.destroyed, false, 'frames with a trustworthy size never close the connection')
    victim.close()
    bystander.close()
  })

  it('closes a connection whose frame size cannot be trusted, and keeps serving others', async () => {
    const victim = await P9TestClient.attached(served.port)
    const bystander = await P9TestClient.attached(served.port)
    const huge = Buffer.alloc(7)
    huge.writeUInt32LE(0xfffffff0, 0)
    victim.writeRaw(huge)
    await victim.closed
    const tiny = await P9TestClient.connect(served.port)
    tiny.writeRaw(Buffer.from([3, 0, 0, 0]))
    await tiny.closed
    assert.equal((await bystander.call('Tgetattr', {fid: 0, requestMask: 0x7ffn})).name, 'Rgetattr')
    bystander.close()
  })
})
