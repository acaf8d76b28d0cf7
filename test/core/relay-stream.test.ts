import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {PassThrough, Readable} from 'node:stream'
import {finished} from 'node:stream/promises'

import {relayStream} from '../../src/core/relay-stream.js'

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function chunks(...parts: string[]): Readable {
  return Readable.from(parts.map((part) => Buffer.from(part)))
}

describe('relayStream', () => {
  it('hands on every chunk of a source, given now or once opened', async () => {
    assert.equal((await readAll(relayStream(chunks('ab', 'cd', 'e')))).toString(), 'abcde')
    assert.equal((await readAll(relayStream(Promise.resolve(chunks('x', 'yz'))))).toString(), 'xyz')
    assert.equal((await readAll(relayStream(chunks()))).length, 0)
  })

  it('stops at the limit, cutting a source that sends more, and lets one that sends exactly that end by itself', async () => {
    const long = chunks('abc', 'def', 'ghi')
    assert.equal((await readAll(relayStream(long, {limit: 5}))).toString(), 'abcde')
    assert.equal(long.destroyed, true)
    const exact = chunks('abc', 'def')
    let ended = false
    exact.on('end', () => (ended = true))
    assert.equal((await readAll(relayStream(exact, {limit: 6}))).toString(), 'abcdef')
    assert.equal(ended, true)
    assert.equal((await readAll(relayStream(chunks('abc'), {limit: 0}))).length, 0)
  })

  it('maps a failure of the source, and of opening it', async () => {
    const mapError = (error: unknown): Error => new Error(`mapped: ${(error as Error).message}`)
    const failing = new PassThrough()
    const relayed = relayStream(failing, {mapError})
    failing.write('some')
    failing.destroy(new Error('reset'))
    await assert.rejects(readAll(relayed), /mapped: reset/)
    await assert.rejects(readAll(relayStream(Promise.reject(new Error('no such key')), {mapError})), /mapped: no such key/)
  })

  it('a source that closes before its end is a failure', async () => {
    const source = new PassThrough()
    const relayed = relayStream(source)
    source.write('part')
    source.destroy()
    await assert.rejects(readAll(relayed), {code: 'ERR_STREAM_PREMATURE_CLOSE'})
  })

  it('destroying it destroys the source, also one opened later', async () => {
    const source = new PassThrough()
    const relayed = relayStream(source)
    relayed.destroy()
    await finished(source).catch(() => undefined)
    assert.equal(source.destroyed, true)

    let open!: (stream: Readable) => void
    const late = new PassThrough()
    const early = relayStream(new Promise<Readable>((resolve) => (open = resolve)))
    early.destroy()
    open(late)
    await finished(late).catch(() => undefined)
    assert.equal(late.destroyed, true)
  })

  it('pauses the source while the reader holds back (bounded buffering)', async () => {
    const source = new PassThrough({highWaterMark: 16})
    const relayed = relayStream(source, {highWaterMark: 64})
    relayed.on('data', () => undefined).pause()
    let written = 0
    while (source.write(Buffer.alloc(16))) {
      written += 16
      if (written > 1024) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    assert.ok(written <= 128, `wrote ${written} bytes before the source pushed back`)
    relayed.destroy()
  })
})
