import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import fc from 'fast-check'

import {NbdDecodeError} from '../../src/protocols/nbd/decode-error.js'
import {decodeInfoRequest, decodeOptionHeader} from '../../src/protocols/nbd/options.js'
import {decodeRequest} from '../../src/protocols/nbd/request.js'
import {runTool} from '../helpers/run-tool.js'
import {NbdWireClient, startInProcessNbd, type InProcessNbd} from '../helpers/nbd-wire.js'

/**
 * Arbitrary bytes against the NBD decoders (they may only throw NbdDecodeError) and against a live
 * server, in the handshake and in transmission: a bad connection is closed, and the server keeps
 * serving the next one (checked with nbdinfo after every round).
 */

const SIZE = 1024 * 1024
const SEED = 7

function onlyDecodeErrors(decode: (bytes: Buffer) => unknown): (bytes: Uint8Array) => void {
  return (bytes) => {
    try {
      decode(Buffer.from(bytes))
    } catch (error) {
      if (!(error instanceof NbdDecodeError)) throw error
    }
  }
}

describe('NBD decoders on arbitrary bytes', () => {
  it('throw nothing but NbdDecodeError', () => {
    for (const decode of [decodeOptionHeader, decodeInfoRequest, decodeRequest]) {
      fc.assert(fc.property(fc.uint8Array({maxLength: 64}), onlyDecodeErrors(decode)), {seed: SEED, numRuns: 2000})
    }
    // Near-valid inputs: right magics, everything else random.
    const request = fc.tuple(fc.integer({min: 0, max: 0xffff}), fc.integer({min: 0, max: 0xffff}), fc.bigInt({min: 0n, max: 2n ** 64n - 1n}), fc.nat())
    fc.assert(fc.property(request, ([flags, type, offset, length]) => {
      const bytes = Buffer.alloc(28)
      bytes.writeUInt32BE(0x25609513, 0)
      bytes.writeUInt16BE(flags, 4)
      bytes.writeUInt16BE(type, 6)
      bytes.writeBigUInt64BE(offset, 16)
      bytes.writeUInt32BE(length, 24)
      const decoded = decodeRequest(bytes)
      assert.deepEqual([decoded.flags, decoded.type, decoded.offset, decoded.length], [flags, type, offset, length])
    }), {seed: SEED, numRuns: 500})
    fc.assert(fc.property(fc.uint8Array({maxLength: 40}), (tail) => {
      const bytes = Buffer.concat([Buffer.from([0, 0, 0, 4]), Buffer.from('disk'), Buffer.from(tail)])
      onlyDecodeErrors(decodeInfoRequest)(bytes)
    }), {seed: SEED, numRuns: 500})
  })
})

describe('NBD server on arbitrary streams', {timeout: 5 * 60_000}, () => {
  let nbd: InProcessNbd

  before(async () => {
    nbd = await startInProcessNbd(SIZE)
  })

  after(async () => {
    await nbd?.dispose()
  })

  /** Sends the bytes, half-closes, and waits for the server to close its side. */
  async function send(prefix: (client: NbdWireClient) => Promise<void>, bytes: Uint8Array): Promise<void> {
    const client = await NbdWireClient.connect(nbd.port)
    await prefix(client)
    client.socket.end(Buffer.from(bytes))
    await client.closed
  }

  async function stillServes(): Promise<void> {
    assert.equal((await runTool('nbdinfo', ['--size', `nbd://127.0.0.1:${nbd.port}/disk`])).stdout.trim(), String(SIZE))
  }

  it('survives garbage in the handshake, before and after the client flags', async () => {
    const streams = fc.sample(fc.uint8Array({minLength: 1, maxLength: 200}), {seed: SEED, numRuns: 40})
    for (const [i, bytes] of streams.entries()) {
      await send(async (client) => {
        if (i % 2 === 1) await client.greet()
      }, bytes)
    }
    await stillServes()
  })

  it('survives garbage and mutated requests in transmission', async () => {
    const request = fc.tuple(fc.integer({min: 0, max: 0xffff}), fc.integer({min: 0, max: 10}), fc.bigInt({min: 0n, max: 2n ** 64n - 1n}), fc.integer({min: 0, max: 2 * SIZE}))
    const streams = fc.sample(fc.tuple(fc.array(request, {maxLength: 6}), fc.uint8Array({maxLength: 100})), {seed: SEED, numRuns: 40})
    for (const [requests, garbage] of streams) {
      await send(async (client) => {
        await client.greet()
        await client.go('disk')
        for (const [flags, type, offset, length] of requests) {
          if (type === 2) continue // DISC would end the stream before the garbage
          client.request(type, 1n, offset, length, {flags, payload: type === 1 ? Buffer.alloc(Math.min(length, 4096)) : undefined})
        }
      }, garbage)
    }
    await stillServes()
    const client = await NbdWireClient.connect(nbd.port)
    await client.greet()
    await client.go('disk')
    client.request(0, 42n, 0n, 16)
    assert.deepEqual(await client.reply(), {error: 0, handle: 42n})
    await client.reader.read(16)
    client.close()
  })
})
