import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {MAX_MSIZE, Tattach, Twalk} from '../../src/protocols/p9/constants.js'
import {P9Framer} from '../../src/protocols/p9/framer.js'
import {decodeMessage, encodeMessage, messageName, type Body, type MessageName} from '../../src/protocols/p9/messages.js'
import {DecodeError} from '../../src/protocols/p9/wire.js'

const samples: {[N in MessageName]?: Body<N>} = {
  Tversion: {msize: 65560, version: '9P2000.L'},
  Rversion: {msize: 8192, version: 'unknown'},
  Tattach: {fid: 1, afid: 0xffffffff, uname: 'root', aname: '/sub dir', nUname: 0},
  Rattach: {qid: {type: 0x80, version: 0, path: 1n}},
  Twalk: {fid: 1, newfid: 2, wnames: ['a', 'héllo ☃', '..']},
  Rwalk: {wqids: [{type: 0x80, version: 1, path: 2n}, {type: 0, version: 0, path: 2n ** 64n - 1n}]},
  Tread: {fid: 7, offset: 2n ** 40n, count: 8192},
  Rread: {data: Buffer.from('some bytes')},
  Twrite: {fid: 7, offset: 0n, data: Buffer.alloc(0)},
  Tgetattr: {fid: 3, requestMask: 0x3fffn},
  Tsetattr: {fid: 3, valid: 0x1ff, mode: 0o644, uid: 1, gid: 2, size: 10n, atimeSec: 1n, atimeNsec: 2n, mtimeSec: 3n, mtimeNsec: 4n},
  Tlock: {fid: 4, type: 1, flags: 1, start: 10n, length: 0n, procId: 1234, clientId: 'guest'},
  Rgetlock: {type: 2, start: 0n, length: 5n, procId: 9, clientId: ''},
  Rlerror: {ecode: 95},
  Rclunk: {},
  Tflush: {oldtag: 0xfffe},
}

describe('9P wire format', () => {
  it('round-trips messages of every field kind', () => {
    for (const [name, body] of Object.entries(samples)) {
      const frame = encodeMessage(name as MessageName, 42, body as never)
      assert.equal(frame.readUInt32LE(0), frame.length, name)
      assert.deepEqual(decodeMessage(frame), {name, tag: 42, body}, name)
    }
  })

  it('lays out a Twalk byte for byte (little-endian, u16-prefixed strings)', () => {
    const frame = encodeMessage('Twalk', 0x0102, {fid: 5, newfid: 6, wnames: ['ab']})
    assert.equal(frame.toString('hex'), [
      '15000000', Twalk.toString(16), '0201', '05000000', '06000000', '0100', '0200', '6162',
    ].join(''))
  })

  it('throws DecodeError on every truncation of a message', () => {
    const frame = encodeMessage('Tattach', 1, samples.Tattach!)
    for (let cut = 0; cut < frame.length; cut++) {
      const truncated = Buffer.from(frame.subarray(0, cut))
      if (truncated.length >= 4) truncated.writeUInt32LE(cut, 0)
      assert.throws(() => decodeMessage(truncated), DecodeError, `cut at ${cut}`)
    }
    assert.equal(messageName(Tattach), 'Tattach')
    assert.equal(messageName(3), undefined)
  })

  it('throws DecodeError on counts larger than the message', () => {
    const frame = encodeMessage('Rread', 1, {data: Buffer.from('abc')})
    frame.writeUInt32LE(1000, 7)
    assert.throws(() => decodeMessage(frame), DecodeError)
  })

  it('frames a stream split at every offset, and refuses sizes out of bounds', () => {
    const frames = [encodeMessage('Tclunk', 1, {fid: 1}), encodeMessage('Twrite', 2, {fid: 1, offset: 0n, data: Buffer.alloc(100, 7)})]
    const stream = Buffer.concat(frames)
    for (let split = 0; split <= stream.length; split++) {
      const framer = new P9Framer(MAX_MSIZE)
      const out = [...framer.push(stream.subarray(0, split)), ...framer.push(stream.subarray(split))]
      assert.deepEqual(out, frames, `split at ${split}`)
    }
    const small = Buffer.alloc(7)
    small.writeUInt32LE(6, 0)
    assert.throws(() => new P9Framer(MAX_MSIZE).push(small), DecodeError)
    const framer = new P9Framer(8192)
    const big = Buffer.alloc(4)
    big.writeUInt32LE(8193, 0)
    assert.throws(() => framer.push(big), DecodeError)
  })
})
