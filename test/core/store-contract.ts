import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {after, before, describe, it} from 'node:test'

import {isStoreError, type StoreErrorCode} from '../../src/core/store/errors.js'
import type {ListEntry, ListOptions, ObjectStore} from '../../src/core/store/object-store.js'

/**
 * The ObjectStore contract, as one node:test suite that every store runs (the FileStore in a temp
 * directory, the S3Store against s3rver). It asserts only what S3 itself promises, so that a store
 * passing it behaves like a bucket; where a server lacks a call, `capabilities` says so and the suite
 * asserts the typed NotSupported error instead.
 *
 * Deliberately not covered here because s3rver (measured) gets them wrong, while real S3 does not:
 * the order of a directory against file names that continue with a byte below '/' (`a b`, `a-b`,
 * `a.b` sort before `a/`), common prefixes that hold only sub-prefixes, and paging across keys above
 * U+FFFF (s3rver compares continuation positions as UTF-16 strings). The FileStore tests cover them.
 */
export interface StoreCapabilities {
  uploadPartCopy: boolean
  abortMultipart: boolean
  listMultipartUploads: boolean
  /** Key components of 255 bytes (s3rver dies on components over ~240 bytes). */
  longNames: boolean
  /** Multipart ETags in S3's `md5-of-part-md5s-N` form. */
  multipartEtagSuffix: boolean
}

export interface OpenedStore {
  store: ObjectStore
  /** Removes what `open` made (temp directory, server). Called after the suite has closed the store. */
  cleanup(): Promise<void>
}

const MiB = 1024 * 1024
/** S3's smallest part, except the last. */
const MIN_PART = 5 * MiB

export function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex')
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function multipartEtag(parts: Buffer[]): string {
  const digests = parts.map((part) => createHash('md5').update(part).digest())
  return `${md5(Buffer.concat(digests))}-${parts.length}`
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks)
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const item of items) all.push(item)
  return all
}

/** S3's order: UTF-8 bytes, not UTF-16 code units. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** A listing as compact strings: `key` for an object, `key/ (prefix)` for a common prefix. */
function names(entries: ListEntry[], base: string): string[] {
  return entries.map((entry) =>
    entry.kind === 'object' ? entry.key.slice(base.length) : `${entry.prefix.slice(base.length)} (prefix)`)
}

async function listNames(store: ObjectStore, base: string, options: ListOptions = {}): Promise<string[]> {
  return names(await collect(store.list({prefix: base, ...options})), base)
}

export async function rejectsWith(promise: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isStoreError(error), `expected a StoreError ${code}, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    return true
  })
}

/** Bytes in chunks from a generator, with their digest known without holding them all. */
function streamedBody(size: number, chunkSize = MiB): {stream: Readable; sha256: () => string; md5: () => string} {
  const shaHash = createHash('sha256')
  const md5Hash = createHash('md5')
  function* chunks(): Generator<Buffer> {
    for (let sent = 0; sent < size; sent += chunkSize) {
      const chunk = randomBytes(Math.min(chunkSize, size - sent))
      shaHash.update(chunk)
      md5Hash.update(chunk)
      yield chunk
    }
  }
  let shaHex: string | undefined
  let md5Hex: string | undefined
  return {
    stream: Readable.from(chunks()),
    sha256: () => (shaHex ??= shaHash.digest('hex')),
    md5: () => (md5Hex ??= md5Hash.digest('hex')),
  }
}

async function putMany(store: ObjectStore, keys: string[], concurrency = 16): Promise<void> {
  let next = 0
  async function worker(): Promise<void> {
    while (next < keys.length) {
      const key = keys[next++]
      // A key's own bytes make a body whose MD5 a listing can be checked against; a marker stays empty.
      await store.put(key, key.endsWith('/') ? Buffer.alloc(0) : Buffer.from(key))
    }
  }
  await Promise.all(Array.from({length: concurrency}, worker))
}

export function describeStoreContract(
  name: string,
  open: () => Promise<OpenedStore>,
  capabilities: StoreCapabilities,
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore
    let opened: OpenedStore
    // Every test works below its own prefix, so tests stay independent on a shared store.
    const run = `contract-${randomBytes(4).toString('hex')}/`
    let scopes = 0
    const scope = (): string => `${run}t${++scopes}/`

    before(async () => {
      opened = await open()
      store = opened.store
      await store.check()
    })

    after(async () => {
      await store?.close()
      await opened?.cleanup()
    })

    describe('put, get and head', () => {
      it('round-trips a Buffer with sha256 metadata and an MD5 ETag', async () => {
        const key = `${scope()}buffer.bin`
        const bytes = randomBytes(70_000)
        const result = await store.put(key, bytes)
        assert.equal(result.size, bytes.length)
        assert.equal(result.sha256, sha256(bytes))
        assert.equal(result.etag, md5(bytes))
        assert.equal(result.partSize, undefined)
        const head = await store.head(key)
        assert.ok(head)
        assert.equal(head.key, key)
        assert.equal(head.size, bytes.length)
        assert.equal(head.etag, md5(bytes))
        assert.equal(head.metadata.sha256, sha256(bytes))
        assert.ok(head.lastModified instanceof Date && !Number.isNaN(head.lastModified.getTime()))
        assert.deepEqual(await readAll(await store.get(key)), bytes)
      })

      it('round-trips a Buffer put with md5: false, keeping its sha256 and giving a stable ETag', async () => {
        const key = `${scope()}no-md5.bin`
        const bytes = randomBytes(70_000)
        const result = await store.put(key, bytes, {md5: false})
        assert.equal(result.sha256, sha256(bytes))
        assert.equal(result.size, bytes.length)
        const head = await store.head(key)
        assert.equal(head?.etag, result.etag)
        assert.equal(head?.metadata.sha256, sha256(bytes))
        assert.deepEqual(await readAll(await store.get(key)), bytes)
        const other = await store.put(`${scope()}no-md5-other.bin`, randomBytes(70_000), {md5: false})
        assert.notEqual(other.etag, result.etag)
      })

      it('round-trips zero bytes from a Buffer and from a stream', async () => {
        const base = scope()
        const empty = Buffer.alloc(0)
        for (const [key, body] of [[`${base}from-buffer`, empty], [`${base}from-stream`, Readable.from([])]] as const) {
          const result = await store.put(key, body)
          assert.equal(result.size, 0)
          assert.equal(result.sha256, sha256(empty))
          assert.equal(result.etag, md5(empty))
          const head = await store.head(key)
          assert.equal(head?.size, 0)
          assert.equal(head?.metadata.sha256, sha256(empty))
          assert.equal((await readAll(await store.get(key))).length, 0)
        }
      })

      it('round-trips a local file given as {path}, final or not (a FileStore may link a final one in), which the caller can remove afterwards', async () => {
        const dir = await mkdtemp(join(tmpdir(), 'zerofs-contract-'))
        try {
          for (const variant of ['copied', 'final', 'final-with-digest'] as const) {
            const path = join(dir, `body-${variant}`)
            const bytes = randomBytes(300_000)
            await writeFile(path, bytes)
            const key = `${scope()}from-path-${variant}`
            const options = variant === 'final-with-digest' ? {md5: false, sha256: sha256(bytes)} : {contentType: 'application/octet-stream'}
            const result = await store.put(key, {path, final: variant !== 'copied'}, options)
            await rm(path)
            assert.equal(result.size, bytes.length)
            assert.equal(result.sha256, sha256(bytes))
            assert.equal((await store.head(key))?.metadata.sha256, sha256(bytes))
            assert.deepEqual(await readAll(await store.get(key)), bytes)
          }
        } finally {
          await rm(dir, {recursive: true, force: true})
        }
      })

      it('round-trips a Readable of unknown length', async () => {
        const key = `${scope()}from-stream`
        const body = streamedBody(1_500_000, 100_000)
        const result = await store.put(key, body.stream)
        assert.equal(result.size, 1_500_000)
        assert.equal(result.sha256, body.sha256())
        assert.equal(result.etag, body.md5())
        const head = await store.head(key)
        assert.equal(head?.size, 1_500_000)
        assert.equal(head?.metadata.sha256, body.sha256())
        assert.equal(sha256(await readAll(await store.get(key))), body.sha256())
      })

      it('round-trips a multi-part-sized stream (12 MiB, partSize 5 MiB)', async () => {
        const key = `${scope()}large`
        const size = 12 * MiB
        const body = streamedBody(size)
        let lastProgress = 0
        const result = await store.put(key, body.stream, {
          partSize: MIN_PART,
          queueSize: 2,
          onProgress: (sent) => {
            assert.ok(sent <= size, `progress ${sent} beyond size ${size}`)
            lastProgress = sent
          },
        })
        assert.ok(lastProgress <= size)
        assert.equal(result.size, size)
        assert.equal(result.sha256, body.sha256())
        const head = await store.head(key)
        assert.ok(head)
        assert.equal(head.size, size)
        assert.equal(head.etag, result.etag)
        assert.equal(head.metadata.sha256, body.sha256())
        if (result.partSize === undefined) {
          // Written in one piece: a plain MD5 ETag and no part-size.
          assert.equal(result.etag, body.md5())
          assert.equal(head.metadata['part-size'], undefined)
        } else {
          assert.equal(head.metadata['part-size'], String(result.partSize))
          if (capabilities.multipartEtagSuffix) assert.match(result.etag, new RegExp(`-${Math.ceil(size / result.partSize)}$`))
        }
        assert.equal(sha256(await readAll(await store.get(key))), body.sha256())
      })

      it('stores a multi-part-sized stream under the SHA-256 it is given, and refuses one that does not match it', async () => {
        const key = `${scope()}known-hash`
        const bytes = Buffer.alloc(12 * MiB, 7)
        const result = await store.put(key, Readable.from([bytes.subarray(0, 7 * MiB), bytes.subarray(7 * MiB)]), {partSize: MIN_PART, sha256: sha256(bytes)})
        assert.equal(result.sha256, sha256(bytes))
        assert.equal((await store.head(key))?.metadata.sha256, sha256(bytes))
        assert.equal(sha256(await readAll(await store.get(key))), sha256(bytes))

        const wrong = `${scope()}wrong-hash`
        await rejectsWith(store.put(wrong, Readable.from([bytes.subarray(0, 7 * MiB), bytes.subarray(7 * MiB)]), {partSize: MIN_PART, sha256: sha256(Buffer.from('other'))}), 'PreconditionFailed')
        assert.equal(await store.head(wrong), undefined, 'nothing is left under the key')
      })

      it('overwrites an object whole: new bytes, new metadata, nothing of the old left', async () => {
        const key = `${scope()}again`
        await store.put(key, Buffer.from('first version, longer'), {metadata: {mode: '33188', old: 'yes'}, contentType: 'text/plain'})
        await store.put(key, Buffer.from('second'), {metadata: {mode: '33261'}})
        const head = await store.head(key)
        assert.equal(head?.size, 6)
        assert.equal(head?.metadata.mode, '33261')
        assert.equal(head?.metadata.old, undefined)
        assert.equal((await readAll(await store.get(key))).toString(), 'second')
      })

      it('answers a missing key with undefined from head and NotFound from get', async () => {
        const base = scope()
        assert.equal(await store.head(`${base}missing`), undefined)
        await rejectsWith(store.get(`${base}missing`), 'NotFound')
        await store.put(`${base}present`, Buffer.from('x'))
        assert.equal(await store.head(`${base}present/below`), undefined)
        assert.equal(await store.head(`${base}pres`), undefined)
      })
    })

    describe('ranged get', () => {
      const bytes = randomBytes(10_000)
      let key: string
      before(async () => {
        key = `${scope()}ranged`
        await store.put(key, bytes)
      })

      it('reads the start, the middle and the end', async () => {
        assert.deepEqual(await readAll(await store.get(key, {offset: 0, length: 100})), bytes.subarray(0, 100))
        assert.deepEqual(await readAll(await store.get(key, {offset: 4_321, length: 1_234})), bytes.subarray(4_321, 5_555))
        assert.deepEqual(await readAll(await store.get(key, {offset: 9_000})), bytes.subarray(9_000))
        assert.deepEqual(await readAll(await store.get(key, {offset: 9_990, length: 100})), bytes.subarray(9_990))
        assert.deepEqual(await readAll(await store.get(key, {offset: 0})), bytes)
      })

      it('reads nothing at or past the end (S3 answers 416; the store gives an empty stream)', async () => {
        assert.equal((await readAll(await store.get(key, {offset: 10_000}))).length, 0)
        assert.equal((await readAll(await store.get(key, {offset: 20_000, length: 5}))).length, 0)
      })

      it('never returns more than the range (s3rver answers bytes=0-0 with the whole object)', async () => {
        assert.deepEqual(await readAll(await store.get(key, {offset: 0, length: 1})), bytes.subarray(0, 1))
        assert.deepEqual(await readAll(await store.get(key, {offset: 1, length: 1})), bytes.subarray(1, 2))
        assert.deepEqual(await readAll(await store.get(key, {offset: 0, length: 0})), Buffer.alloc(0))
      })

      it('reads one version with ifMatch and fails with PreconditionFailed for another', async () => {
        const etag = (await store.head(key))!.etag
        assert.deepEqual(await readAll(await store.get(key, {offset: 10, length: 20}, {ifMatch: etag})), bytes.subarray(10, 30))
        const versioned = `${scope()}versioned`
        await store.put(versioned, Buffer.from('first version'))
        const first = (await store.head(versioned))!.etag
        await store.put(versioned, Buffer.from('second version'))
        await rejectsWith(store.get(versioned, {offset: 0, length: 5}, {ifMatch: first}), 'PreconditionFailed')
        await rejectsWith(store.get(versioned, {offset: 0, length: 0}, {ifMatch: first}), 'PreconditionFailed')
        await rejectsWith(store.get(versioned, undefined, {ifMatch: first}), 'PreconditionFailed')
      })

      it('reads a range across a part boundary of a multipart object', async () => {
        const big = `${scope()}big`
        const all = randomBytes(11 * MiB)
        const chunks = Array.from({length: 11}, (_, i) => all.subarray(i * MiB, (i + 1) * MiB))
        await store.put(big, Readable.from(chunks), {partSize: MIN_PART})
        const range = await readAll(await store.get(big, {offset: MIN_PART - 100, length: 300}))
        assert.deepEqual(range, all.subarray(MIN_PART - 100, MIN_PART + 200))
      })
    })

    describe('metadata and content type', () => {
      it('round-trips ASCII user metadata and the content type', async () => {
        const key = `${scope()}with-meta`
        const metadata = {mode: '33188', uid: '1000', gid: '100', mtime: '1700000000.25', note: 'plain ascii, spaces ok'}
        await store.put(key, Buffer.from('hello'), {metadata, contentType: 'text/plain; charset=utf-8'})
        const head = await store.head(key)
        assert.ok(head)
        assert.equal(head.contentType, 'text/plain; charset=utf-8')
        for (const [name, value] of Object.entries(metadata)) assert.equal(head.metadata[name], value, name)
        assert.equal(head.metadata.sha256, sha256(Buffer.from('hello')))
      })

      it('keeps a directory marker: zero bytes with application/x-directory', async () => {
        const key = `${scope()}dir/`
        await store.put(key, Buffer.alloc(0), {contentType: 'application/x-directory', metadata: {mode: '16877'}})
        const head = await store.head(key)
        assert.ok(head)
        assert.equal(head.size, 0)
        assert.equal(head.contentType, 'application/x-directory')
        assert.equal(head.metadata.mode, '16877')
      })
    })

    describe('listing', () => {
      // No file here shares a stem with a directory followed by a byte below '/' (see the note above).
      const keys = ['Z', 'a', 'b b', 'b-b', 'b.b', 'bb', 'c/', 'c/x', 'c/y z', 'd', 'e/f', 'é', '日本語']
      let base: string
      before(async () => {
        base = scope()
        await putMany(store, keys.map((key) => base + key))
      })

      it('lists every key in UTF-8 byte order', async () => {
        assert.deepEqual(await listNames(store, base), [...keys].sort(byteOrder))
      })

      it('orders characters above U+FFFF after U+FFFD, as UTF-8 does and UTF-16 does not', async () => {
        // Not paged: s3rver compares continuation positions as JS strings (UTF-16), which S3 does not.
        const unicode = scope()
        const names = ['\uFFFD', '😀 smile', '\uE000', 'z']
        await putMany(store, names.map((name) => unicode + name))
        assert.deepEqual(await listNames(store, unicode), ['z', '\uE000', '\uFFFD', '😀 smile'])
      })

      it('returns size, ETag and last-modified for each object', async () => {
        const entries = await collect(store.list({prefix: `${base}b`}))
        assert.equal(entries.length, 4)
        for (const entry of entries) {
          assert.equal(entry.kind, 'object')
          if (entry.kind !== 'object') continue
          const expected = Buffer.from(entry.key)
          assert.equal(entry.size, expected.length)
          assert.equal(entry.etag, md5(expected))
          assert.ok(entry.lastModified instanceof Date)
        }
      })

      it('groups by delimiter into common prefixes, in order with the objects', async () => {
        assert.deepEqual(await listNames(store, base, {delimiter: '/'}),
          ['Z', 'a', 'b b', 'b-b', 'b.b', 'bb', 'c/ (prefix)', 'd', 'e/ (prefix)', 'é', '日本語'])
      })

      it('filters by a prefix that ends in the middle of a name', async () => {
        assert.deepEqual(await listNames(store, `${base}b`), ['b b', 'b-b', 'b.b', 'bb'].map((key) => key.slice(1)))
        assert.deepEqual(await listNames(store, `${base}c/y`), [' z'])
        assert.deepEqual(await listNames(store, `${base}nothing`), [])
        assert.deepEqual(await listNames(store, `${base}e`, {delimiter: '/'}), ['/ (prefix)'])
      })

      it('lists a directory marker as an object, and inside its prefix with a delimiter', async () => {
        assert.deepEqual(await listNames(store, `${base}c/`), ['', 'x', 'y z'])
        assert.deepEqual(await listNames(store, `${base}c/`, {delimiter: '/'}), ['', 'x', 'y z'])
        assert.deepEqual(await listNames(store, `${base}c`, {delimiter: '/'}), ['/ (prefix)'])
      })

      it('starts after a key', async () => {
        const expected = [...keys].sort(byteOrder)
        const after = expected.indexOf('b-b')
        assert.deepEqual(await listNames(store, base, {startAfter: `${base}b-b`}), expected.slice(after + 1))
        assert.deepEqual(await listNames(store, base, {startAfter: `${base}c/x`}), expected.slice(expected.indexOf('c/y z')))
        assert.deepEqual(await listNames(store, base, {startAfter: `${base}zzz`}), ['é', '日本語'])
      })

      it('pages with a small page size without losing or repeating entries', async () => {
        assert.deepEqual(await listNames(store, base, {pageSize: 2}), [...keys].sort(byteOrder))
        assert.deepEqual(await listNames(store, base, {pageSize: 3, delimiter: '/'}),
          ['Z', 'a', 'b b', 'b-b', 'b.b', 'bb', 'c/ (prefix)', 'd', 'e/ (prefix)', 'é', '日本語'])
      })

      it('pages through many common prefixes and objects interleaved', async () => {
        const grouped = scope()
        const layout: string[] = []
        for (let i = 0; i < 20; i++) {
          const stem = `k${String(i).padStart(2, '0')}`
          layout.push(`${stem}/inner`, `${stem}x`)
        }
        await putMany(store, layout.map((key) => grouped + key))
        const expected = layout.map((key) => (key.endsWith('/inner') ? `${key.slice(0, -'inner'.length)} (prefix)` : key))
        assert.deepEqual(await listNames(store, grouped, {delimiter: '/', pageSize: 7}), expected)
      })

      it('lists nothing under an unknown prefix', async () => {
        assert.deepEqual(await collect(store.list({prefix: `${run}no-such-scope/`})), [])
        assert.deepEqual(await collect(store.list({prefix: `${run}no-such-scope/`, delimiter: '/'})), [])
      })
    })

    describe('more than 1000 keys', () => {
      const count = 1_050
      let base: string
      let keys: string[]
      before(async () => {
        base = scope()
        keys = Array.from({length: count}, (_, i) => `${base}k${String(i).padStart(4, '0')}`)
        await putMany(store, keys)
      })

      it('lists them all with the default page size and with a small one', async () => {
        const all = await collect(store.list({prefix: base}))
        assert.deepEqual(all.map((entry) => (entry.kind === 'object' ? entry.key : entry.prefix)), keys)
        const paged = await collect(store.list({prefix: base, pageSize: 100}))
        assert.equal(paged.length, count)
        assert.deepEqual(paged.map((entry) => (entry.kind === 'object' ? entry.key : entry.prefix)), keys)
      })

      it('deletes them all in one call, missing keys included', async () => {
        async function* keysToDelete(): AsyncGenerator<string> {
          for (const key of keys) yield key
          yield `${base}never-existed`
        }
        await store.delete(keysToDelete())
        assert.deepEqual(await collect(store.list({prefix: base})), [])
        assert.equal(await store.head(keys[0]), undefined)
      })
    })

    describe('delete', () => {
      it('deletes some keys and leaves the others', async () => {
        const base = scope()
        await putMany(store, ['a', 'b', 'c/d', 'c/e'].map((key) => base + key))
        await store.delete([`${base}a`, `${base}c/d`])
        assert.deepEqual(await listNames(store, base), ['b', 'c/e'])
        await store.delete(new Set([`${base}c/e`]))
        assert.deepEqual(await listNames(store, base, {delimiter: '/'}), ['b'])
      })

      it('accepts keys that do not exist', async () => {
        const base = scope()
        await store.delete([`${base}missing`, `${base}also/missing`])
        await store.delete([])
      })
    })

    describe('copy', () => {
      it('copies bytes and replaces metadata and content type', async () => {
        const base = scope()
        const bytes = randomBytes(100_000)
        await store.put(`${base}source`, bytes, {metadata: {mode: '33188', keep: 'no'}, contentType: 'text/plain'})
        await store.copy(`${base}source`, `${base}target`, {metadata: {mode: '33261', fresh: 'yes'}, contentType: 'application/x-test'})
        const head = await store.head(`${base}target`)
        assert.ok(head)
        assert.equal(head.size, bytes.length)
        assert.equal(head.etag, md5(bytes))
        assert.deepEqual({mode: head.metadata.mode, fresh: head.metadata.fresh, keep: head.metadata.keep},
          {mode: '33261', fresh: 'yes', keep: undefined})
        assert.equal(head.contentType, 'application/x-test')
        assert.deepEqual(await readAll(await store.get(`${base}target`)), bytes)
        const source = await store.head(`${base}source`)
        assert.equal(source?.metadata.keep, 'no')
        assert.equal(source?.contentType, 'text/plain')
      })

      it('rewrites metadata in place when copying onto itself', async () => {
        const key = `${scope()}self`
        const bytes = randomBytes(50_000)
        await store.put(key, bytes, {metadata: {mode: '33188', old: 'yes'}})
        await store.copy(key, key, {metadata: {mode: '33152', sha256: sha256(bytes)}, contentType: 'application/x-self'})
        const head = await store.head(key)
        assert.ok(head)
        assert.equal(head.metadata.mode, '33152')
        assert.equal(head.metadata.old, undefined)
        assert.equal(head.metadata.sha256, sha256(bytes))
        assert.equal(head.contentType, 'application/x-self')
        assert.equal(head.size, bytes.length)
        assert.deepEqual(await readAll(await store.get(key)), bytes)
      })

      it('fails with NotFound for a missing source', async () => {
        const base = scope()
        await rejectsWith(store.copy(`${base}missing`, `${base}target`, {metadata: {}}), 'NotFound')
        assert.equal(await store.head(`${base}target`), undefined)
      })
    })

    describe('multipart primitives', () => {
      it('creates, uploads parts, completes, with metadata remembered from creation', async () => {
        const key = `${scope()}assembled`
        const parts = [randomBytes(MIN_PART), randomBytes(123_456)]
        const uploadId = await store.createMultipartUpload(key, {metadata: {mode: '33188', origin: 'parts'}, contentType: 'application/x-parts'})
        assert.ok(uploadId.length > 0)
        const etags = [await store.uploadPart(key, uploadId, 1, parts[0]), await store.uploadPart(key, uploadId, 2, parts[1])]
        assert.deepEqual(etags, parts.map(md5))
        if (capabilities.listMultipartUploads) {
          const listed = (await collect(store.listMultipartUploads(key))).filter((upload) => upload.uploadId === uploadId)
          assert.equal(listed.length, 1)
          assert.equal(listed[0].key, key)
          assert.ok(listed[0].initiated instanceof Date && !Number.isNaN(listed[0].initiated.getTime()))
        }
        const etag = await store.completeMultipartUpload(key, uploadId, etags.map((partEtag, i) => ({partNumber: i + 1, etag: partEtag})))
        if (capabilities.multipartEtagSuffix) assert.equal(etag, multipartEtag(parts))
        const head = await store.head(key)
        assert.ok(head)
        assert.equal(head.etag, etag)
        assert.equal(head.size, MIN_PART + 123_456)
        assert.equal(head.metadata.origin, 'parts')
        assert.equal(head.contentType, 'application/x-parts')
        assert.deepEqual(await readAll(await store.get(key)), Buffer.concat(parts))
        if (capabilities.listMultipartUploads) {
          const left = (await collect(store.listMultipartUploads(key))).filter((upload) => upload.uploadId === uploadId)
          assert.deepEqual(left, [])
        }
      })

      it(capabilities.uploadPartCopy ? 'copies ranges of an existing object into parts' : 'reports UploadPartCopy as NotSupported', async () => {
        const base = scope()
        const source = randomBytes(MIN_PART + 1_000)
        await store.put(`${base}source`, source)
        const key = `${base}copied`
        const uploadId = await store.createMultipartUpload(key)
        if (!capabilities.uploadPartCopy) {
          await rejectsWith(store.uploadPartCopy(key, uploadId, 1, `${base}source`, {offset: 0, length: MIN_PART}), 'NotSupported')
          return
        }
        const middle = source.subarray(1_000, 1_000 + MIN_PART)
        const tail = source.subarray(MIN_PART)
        const first = await store.uploadPartCopy(key, uploadId, 1, `${base}source`, {offset: 1_000, length: MIN_PART})
        const second = await store.uploadPartCopy(key, uploadId, 2, `${base}source`, {offset: MIN_PART})
        assert.deepEqual([first, second], [md5(middle), md5(tail)])
        const etag = await store.completeMultipartUpload(key, uploadId, [{partNumber: 1, etag: first}, {partNumber: 2, etag: second}])
        if (capabilities.multipartEtagSuffix) assert.equal(etag, multipartEtag([middle, tail]))
        const expected = Buffer.concat([middle, tail])
        assert.deepEqual(await readAll(await store.get(key)), expected)
      })

      it(capabilities.abortMultipart ? 'aborts an upload' : 'reports AbortMultipartUpload as NotSupported', async () => {
        const key = `${scope()}aborted`
        const uploadId = await store.createMultipartUpload(key)
        await store.uploadPart(key, uploadId, 1, Buffer.from('never completed'))
        if (!capabilities.abortMultipart) {
          await rejectsWith(store.abortMultipartUpload(key, uploadId), 'NotSupported')
          return
        }
        await store.abortMultipartUpload(key, uploadId)
        if (capabilities.listMultipartUploads) {
          assert.deepEqual((await collect(store.listMultipartUploads(key))).filter((upload) => upload.uploadId === uploadId), [])
        }
        await assert.rejects(store.completeMultipartUpload(key, uploadId, [{partNumber: 1, etag: md5(Buffer.from('never completed'))}]),
          (error: unknown) => isStoreError(error))
        assert.equal(await store.head(key), undefined)
      })

      it(capabilities.listMultipartUploads ? 'lists uploads in progress by prefix' : 'reports ListMultipartUploads as NotSupported', async () => {
        const base = scope()
        if (!capabilities.listMultipartUploads) {
          await rejectsWith(collect(store.listMultipartUploads(base)), 'NotSupported')
          return
        }
        const first = await store.createMultipartUpload(`${base}b`)
        const second = await store.createMultipartUpload(`${base}a`)
        const listed = await collect(store.listMultipartUploads(base))
        assert.deepEqual(listed.map((upload) => [upload.key, upload.uploadId]), [[`${base}a`, second], [`${base}b`, first]])
        assert.deepEqual(await collect(store.listMultipartUploads(`${base}zzz`)), [])
        if (capabilities.abortMultipart) {
          await store.abortMultipartUpload(`${base}a`, second)
          await store.abortMultipartUpload(`${base}b`, first)
        }
      })
    })

    describe('long names', {skip: !capabilities.longNames && 'the server cannot hold 255-byte components'}, () => {
      it('stores, lists and reads 255-byte components, ASCII and multi-byte', async () => {
        const base = scope()
        const ascii = 'x'.repeat(255)
        const multiByte = `${'é'.repeat(127)}x`
        const fourByte = `${'😀'.repeat(63)}abc`
        for (const component of [ascii, multiByte, fourByte]) assert.equal(Buffer.byteLength(component), 255)
        const keys = [ascii, `${multiByte}/${fourByte}`, `${fourByte}/`]
        for (const key of keys) await store.put(base + key, key.endsWith('/') ? Buffer.alloc(0) : Buffer.from(key))
        assert.deepEqual(await listNames(store, base), [...keys].sort(byteOrder))
        assert.deepEqual(await listNames(store, base, {delimiter: '/'}), [ascii, `${multiByte}/ (prefix)`, `${fourByte}/ (prefix)`].sort(byteOrder))
        assert.equal((await readAll(await store.get(`${base}${multiByte}/${fourByte}`))).toString(), `${multiByte}/${fourByte}`)
        assert.equal((await store.head(base + ascii))?.size, 255)
      })
    })
  })
}
