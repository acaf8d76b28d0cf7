import assert from 'node:assert/strict'
import {once} from 'node:events'
import {connect, createServer, type AddressInfo, type Socket} from 'node:net'
import {describe, it} from 'node:test'

import {ReadSlabs} from '../../src/protocols/nbd/read-slabs.js'
import {readAccepted} from '../../src/protocols/nbd/stream-reader.js'

const MiB = 1024 * 1024

function pattern(length: number): Buffer {
  const data = Buffer.alloc(length)
  for (let i = 0; i < length; i++) data[i] = (i * 7 + (i >> 10)) & 0xff
  return data
}

/** A connection to a server whose accepted socket is read through readAccepted; `body` gets both ends. */
async function withAcceptedReader(body: (ends: {reader: ReturnType<typeof readAccepted>['reader']; client: Socket}) => Promise<void>): Promise<void> {
  const readers: Array<ReturnType<typeof readAccepted>> = []
  const server = createServer({pauseOnConnect: true}, (socket) => readers.push(readAccepted(socket)))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const accepted = once(server, 'connection')
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  try {
    await accepted
    await body({reader: readers[0].reader, client})
  } finally {
    client.destroy()
    for (const {socket} of readers) socket.destroy()
    server.close()
  }
}

describe('ReadSlabs: the buffers an accepted socket reads into', () => {
  it('hands out the rest of a slab until little is left, and reuses a slab only once reads moved on and all of it was released', () => {
    const slabs = new ReadSlabs()
    const first = slabs.next()
    assert.equal(first.length, MiB)
    assert.equal(slabs.deliver(MiB - 1000).length, MiB - 1000)
    const second = slabs.next()
    assert.notEqual(second.buffer, first.buffer, 'a new slab: 1000 bytes is too little for a read')
    slabs.deliver(10)
    // Released out of order, as WRITE payloads held by the device are.
    slabs.release(first.buffer, 1000)
    slabs.release(first.buffer, MiB - 2000)
    // The second slab fills up; the third is the first one, reused.
    assert.equal(slabs.next().length, MiB - 10)
    slabs.deliver(MiB - 10)
    assert.equal(slabs.next().buffer, first.buffer)
  })

  it('keeps a slab whose bytes are not all released', () => {
    const slabs = new ReadSlabs()
    const first = slabs.next()
    slabs.deliver(MiB)
    slabs.release(first.buffer, MiB - 1)
    slabs.next()
    slabs.deliver(MiB)
    assert.notEqual(slabs.next().buffer, first.buffer)
  })
})

describe('readAccepted: a reader over an accepted connection', () => {
  it('reads exact pieces, copies and skips of a stream that arrived long before, every byte right', async () => {
    const data = pattern(12 * MiB + 123)
    await withAcceptedReader(async ({reader, client}) => {
      // All of it sent (buffered by the server, in many slabs) before the first read.
      await new Promise<void>((resolve) => client.end(data, resolve))
      const parts: Buffer[] = []
      let offset = 0
      for (let round = 0; offset < data.length; round++) {
        const length = Math.min(data.length - offset, [28, 256 * 1024, 3 * MiB + 5, 1][round % 4])
        if (round % 5 === 4) {
          await reader.skip(length)
          parts.push(data.subarray(offset, offset + length))
        } else {
          parts.push(round % 2 === 0 ? Buffer.from(await reader.read(length)) : await reader.readInto(Buffer.alloc(length)))
        }
        offset += length
      }
      assert.ok(Buffer.concat(parts).equals(data))
      await assert.rejects(reader.read(1), {name: 'ConnectionEnded'})
    })
  })

  it('lends payloads as views that stay intact while they are held, however much is read meanwhile', async () => {
    const data = pattern(12 * MiB)
    await withAcceptedReader(async ({reader, client}) => {
      client.end(data)
      const spare = {take: (length: number) => Buffer.alloc(length), give: () => undefined}
      const payload = 256 * 1024
      const held: Buffer[] = []
      for (let offset = 0; offset < data.length; offset += payload) {
        held.push(await reader.borrow(payload, spare))
        // Give back every other one at once: their slabs' other bytes are still held.
        if (held.length % 2 === 0) reader.giveBack(held[held.length - 1], spare)
      }
      for (const [i, bytes] of held.entries()) assert.ok(bytes.equals(data.subarray(i * payload, (i + 1) * payload)), `payload ${i}`)
      for (const [i, bytes] of held.entries()) if (i % 2 === 0) reader.giveBack(bytes, spare)
    })
  })
})
