import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer, request, type IncomingHttpHeaders, type IncomingMessage} from 'node:http'
import {createServer as createTcpServer, type AddressInfo, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {after, before, describe, it} from 'node:test'

import {isStoreError, type StoreErrorCode} from '../../src/core/store/errors.js'
import type {ObjectStore} from '../../src/core/store/object-store.js'
import type {S3StoreOptions} from '../../src/core/store/s3-store.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'
import {describeStoreContract} from './store-contract.js'

const MiB = 1024 * 1024

describeStoreContract('S3Store on s3rver (below a prefix)', async () => {
  const server = await startS3rver(['contract'])
  const store = await S3Store.open('contract', 'scoped/root', {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS})
  return {store, cleanup: () => server.stop()}
}, {uploadPartCopy: false, abortMultipart: false, listMultipartUploads: false, longNames: false, multipartEtagSuffix: false})

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks)
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const item of items) all.push(item)
  return all
}

async function listKeys(store: ObjectStore, prefix = ''): Promise<string[]> {
  return (await collect(store.list({prefix}))).map((entry) => (entry.kind === 'object' ? entry.key : entry.prefix))
}

async function rejectsWith(promise: Promise<unknown>, code: StoreErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isStoreError(error), `expected a StoreError ${code}, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    if (message !== undefined) assert.match(error.message, message)
    assert.doesNotMatch(error.message, /\n/, 'one line')
    return true
  })
}

/** `size` random bytes in 1 MiB chunks; `beforeChunk` runs before each chunk is produced. */
function chunkedBody(size: number, beforeChunk?: (sent: number) => Promise<void> | void): {stream: Readable; sha256: () => string} {
  const hash = createHash('sha256')
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < size; sent += MiB) {
      await beforeChunk?.(sent)
      const chunk = randomBytes(Math.min(MiB, size - sent))
      hash.update(chunk)
      yield chunk
    }
  }
  let hex: string | undefined
  return {stream: Readable.from(chunks()), sha256: () => (hex ??= hash.digest('hex'))}
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createTcpServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

interface RecordedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  /** Base64 MD5 of the request body as it arrived. */
  bodyMd5: string
  /** Hex SHA-256 and length of the request body as it arrived. */
  bodySha256: string
  bodyBytes: number
}

interface ProxiedAnswer {
  headers: IncomingHttpHeaders
  body: string
}

interface Fault {
  status: number
  code: string
}

/**
 * A loopback HTTP proxy in front of s3rver that records every request (and the MD5 of its body),
 * answers chosen requests with an injected S3 error instead of forwarding them, and can rewrite
 * the body of chosen answers.
 */
async function startRecordingProxy(
  target: string,
  fault?: (request: IncomingMessage) => Fault | undefined,
  rewrite?: (request: IncomingMessage) => ((answer: ProxiedAnswer) => ProxiedAnswer) | undefined,
) {
  const requests: RecordedRequest[] = []
  const server = createServer((incoming, outgoing) => {
    const hash = createHash('md5')
    const sha256 = createHash('sha256')
    const recorded: RecordedRequest = {method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers, bodyMd5: '', bodySha256: '', bodyBytes: 0}
    incoming.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      sha256.update(chunk)
      recorded.bodyBytes += chunk.length
    })
    incoming.on('end', () => {
      recorded.bodyMd5 = hash.digest('base64')
      recorded.bodySha256 = sha256.digest('hex')
    })
    requests.push(recorded)
    const injected = fault?.(incoming)
    if (injected !== undefined) {
      incoming.resume()
      incoming.on('end', () => {
        outgoing.writeHead(injected.status, {'content-type': 'application/xml'})
        outgoing.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${injected.code}</Code><Message>injected by the test</Message></Error>`)
      })
      return
    }
    const transform = rewrite?.(incoming)
    const upstream = request(`${target}${incoming.url}`, {method: incoming.method, headers: incoming.headers}, (answer) => {
      if (transform === undefined) {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
        return
      }
      const chunks: Buffer[] = []
      answer.on('data', (chunk: Buffer) => chunks.push(chunk))
      answer.on('end', () => {
        const rewritten = transform({headers: answer.headers, body: Buffer.concat(chunks).toString('utf8')})
        const body = Buffer.from(rewritten.body)
        outgoing.writeHead(answer.statusCode ?? 502, {...rewritten.headers, 'content-length': String(body.length)})
        outgoing.end(body)
      })
    })
    upstream.on('error', () => outgoing.destroy())
    incoming.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** As AWS answers a listing asked for with encoding-type=url (measured): percent-encoded UTF-8, a space as '+', '/' kept. */
function awsUrlEncode(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+')
}

function xmlUnescape(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#x?[0-9a-fA-F]+);/g, (_entity, name: string) => {
    const named: Record<string, string> = {lt: '<', gt: '>', quot: '"', apos: "'", amp: '&'}
    if (name in named) return named[name]
    return String.fromCodePoint(name.startsWith('#x') ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1)))
  })
}

/** Turns s3rver's listing (which ignores encoding-type) into what AWS sends for encoding-type=url. */
function encodeListingAsAws(xml: string): string {
  return xml
    .replace(/<(Key|Prefix)>([^<]*)<\/\1>/g, (_element, tag: string, text: string) => `<${tag}>${awsUrlEncode(xmlUnescape(text))}</${tag}>`)
    .replace(/(<ListBucketResult[^>]*>)/, '$1<EncodingType>url</EncodingType>')
}

describe('S3Store on s3rver', () => {
  let server: S3rverHandle
  const stores: ObjectStore[] = []
  let scratch: string

  async function open(prefix: string, options: S3StoreOptions = {}, bucket = 'zerofs-test'): Promise<S3Store> {
    const store = await S3Store.open(bucket, prefix, {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS, ...options})
    stores.push(store)
    return store
  }

  before(async () => {
    server = await startS3rver(['zerofs-test', 'other'])
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-s3-store-'))
  })

  after(async () => {
    for (const store of stores) await store.close()
    await server?.stop()
    await rm(scratch, {recursive: true, force: true})
  })

  describe('stored bytes are exactly the bytes put (no aws-chunked framing)', () => {
    for (const checksumMode of [undefined, 'when-required', 'when-supported'] as const) {
      it(`with checksum mode ${checksumMode ?? 'default (when-required for a custom endpoint)'}`, async () => {
        const store = await open(`exact-${checksumMode ?? 'default'}`, {checksumMode})
        const small = randomBytes(300_000)
        const large = randomBytes(11 * MiB)
        const smallPath = join(scratch, `small-${checksumMode}`)
        const largePath = join(scratch, `large-${checksumMode}`)
        await writeFile(smallPath, small)
        await writeFile(largePath, large)

        const streamedSmall = await store.put('stream-small', Readable.from([small.subarray(0, 100_000), small.subarray(100_000)]))
        const fromSmallFile = await store.put('file-small', {path: smallPath})
        const fromLargeFile = await store.put('file-large', {path: largePath}, {partSize: 5 * MiB})
        const streamedLarge = await store.put('stream-large', Readable.from([large]), {partSize: 5 * MiB})

        for (const [key, bytes, result] of [
          ['stream-small', small, streamedSmall], ['file-small', small, fromSmallFile],
          ['file-large', large, fromLargeFile], ['stream-large', large, streamedLarge],
        ] as const) {
          const stored = await readAll(await store.get(key))
          assert.equal(stored.length, bytes.length, `${key}: stored size`)
          assert.equal(sha256(stored), sha256(bytes), `${key}: stored bytes`)
          assert.equal(result.sha256, sha256(bytes), `${key}: reported sha256`)
          const head = await store.head(key)
          assert.equal(head?.metadata.sha256, sha256(bytes), `${key}: sha256 metadata`)
          assert.equal(head?.size, bytes.length)
        }
        assert.equal(fromLargeFile.partSize, 5 * MiB)
        assert.equal((await store.head('file-large'))?.metadata['part-size'], String(5 * MiB))
        assert.equal(streamedLarge.partSize, 5 * MiB)
        assert.equal((await store.head('stream-large'))?.metadata['part-size'], String(5 * MiB))
        assert.equal(fromSmallFile.partSize, undefined)
      })
    }
  })

  describe('prefix scoping', () => {
    it('keeps stores on different prefixes of one bucket apart', async () => {
      const one = await open('scope/one')
      const two = await open('scope/one-more/')
      const root = await open('')
      assert.equal(one.url, 's3://zerofs-test/scope/one')
      assert.equal(two.url, 's3://zerofs-test/scope/one-more')
      assert.equal(root.url, 's3://zerofs-test')
      await one.put('same', Buffer.from('one'))
      await two.put('same', Buffer.from('two'))
      await one.put('dir/', Buffer.alloc(0))

      assert.deepEqual(await listKeys(one), ['dir/', 'same'])
      assert.deepEqual(await listKeys(two), ['same'])
      assert.equal((await readAll(await one.get('same'))).toString(), 'one')
      assert.equal((await readAll(await two.get('same'))).toString(), 'two')
      assert.deepEqual(await listKeys(root, 'scope/'), ['scope/one-more/same', 'scope/one/dir/', 'scope/one/same'])

      await one.copy('same', 'copied', {metadata: {}})
      assert.equal((await root.head('scope/one/copied'))?.size, 3)
      await one.delete(['same', 'copied'])
      assert.equal(await one.head('same'), undefined)
      assert.equal((await readAll(await two.get('same'))).toString(), 'two')
    })

    it('refuses keys that would climb out of the store, and the empty key', async () => {
      const store = await open('scope/inner')
      for (const key of ['../escape', 'a/../../escape', '..', './../x']) {
        await rejectsWith(store.put(key, Buffer.from('x')), 'InvalidKey')
        await rejectsWith(store.head(key), 'InvalidKey')
        await rejectsWith(store.get(key), 'InvalidKey')
        await rejectsWith(store.copy('a', key, {metadata: {}}), 'InvalidKey')
        await rejectsWith(store.copy(key, 'a', {metadata: {}}), 'InvalidKey')
        await rejectsWith(store.delete([key]), 'InvalidKey')
        await rejectsWith(collect(store.list({prefix: key})), 'InvalidKey')
      }
      await rejectsWith(store.put('', Buffer.from('x')), 'InvalidKey')
      const root = await open('')
      assert.deepEqual(await listKeys(root, 'escape'), [])
    })

    it('skips the marker object of the store root in listings', async () => {
      const root = await open('')
      await root.put('marked/', Buffer.alloc(0), {contentType: 'application/x-directory'})
      await root.put('marked/child', Buffer.from('x'))
      const store = await open('marked')
      assert.deepEqual(await listKeys(store), ['child'])
      assert.equal((await collect(store.list({delimiter: '/'}))).length, 1)
    })
  })

  describe('copy', () => {
    it('copies keys with unicode, spaces and URL-special characters', async () => {
      const store = await open('copy-names')
      // '+' is left out: s3rver decodes the copy source with decodeURI, which keeps %2B (AWS decodes it).
      const source = 'dir/ü é & = : @ , ; $ % ! (x) 日本.txt'
      const target = 'other dir/ä ß ? # [1].txt'
      await store.put(source, Buffer.from('special'), {metadata: {mode: '33188'}})
      await store.copy(source, target, {metadata: {mode: '33261'}})
      const head = await store.head(target)
      assert.equal(head?.metadata.mode, '33261')
      assert.equal((await readAll(await store.get(target))).toString(), 'special')
    })
  })

  describe('HEAD beside the SDK (after the first HeadObject)', () => {
    it('answers as the SDK does, for keys with unicode, spaces and URL-special characters', async () => {
      const keys = ['plain', 'dir/ü é & = : @ , ; $ % ! (x) 日本.txt', 'a+b c/~tilde*star\'quote']
      const writer = await open('direct-head')
      for (const [index, key] of keys.entries()) {
        await writer.put(key, Buffer.from(key), {metadata: {mode: '33188', mtime: `170000000${index}.5`}, contentType: 'text/plain'})
      }
      for (const key of keys) {
        // A fresh store's first HEAD goes through the SDK; the second, of the same key, beside it.
        const store = await open('direct-head')
        const viaSdk = await store.head(key)
        const direct = await store.head(key)
        assert.ok(viaSdk, key)
        assert.deepEqual(direct, viaSdk, key)
        assert.equal(direct!.metadata.mtime.endsWith('.5'), true)
      }
      const store = await open('direct-head')
      await store.head('plain')
      assert.equal(await store.head('missing'), undefined)
      assert.equal((await store.head(keys[1]))?.size, Buffer.byteLength(keys[1]))
    })

    it('fails as the SDK does: refused credentials, a dead endpoint', {timeout: 30_000}, async () => {
      const refused = await open('', {credentials: {accessKeyId: 'WRONG', secretAccessKey: 'WRONG'}})
      await rejectsWith(refused.head('x'), 'AccessDenied')
      await rejectsWith(refused.head('x'), 'AccessDenied', /bucket "zerofs-test".*credentials/)
      const endpoint = `http://127.0.0.1:${await closedPort()}`
      const dead = await open('', {endpoint})
      await rejectsWith(dead.head('x'), 'Unreachable')
      await rejectsWith(dead.head('x'), 'Unreachable', /ECONNREFUSED/)
    })
  })

  describe('GET beside the SDK (after the first HeadObject)', () => {
    it('reads what the SDK reads: whole objects, ranges, ranges past the end, keys with special characters', async () => {
      const keys = ['plain', 'dir/ü é & = : @ , ; $ % ! (x) 日本.txt']
      const bytes = randomBytes(300_000)
      const writer = await open('direct-get')
      for (const key of keys) await writer.put(key, bytes)
      const ranges = [undefined, {offset: 0, length: 1}, {offset: 1, length: 1}, {offset: 70_000, length: 100_000}, {offset: 299_999}, {offset: 300_000}, {offset: 400_000, length: 5}]
      for (const key of keys) {
        // A fresh store's first GET goes through the SDK; after a HEAD, a ranged one goes beside it.
        const viaSdk = await open('direct-get')
        const direct = await open('direct-get')
        await direct.head(key)
        for (const range of ranges) {
          const expected = range === undefined ? bytes : bytes.subarray(range.offset, range.length === undefined ? undefined : range.offset + range.length)
          assert.deepEqual(await readAll(await direct.get(key, range)), expected, `${key} ${JSON.stringify(range)}`)
          assert.deepEqual(await readAll(await viaSdk.get(key, range)), expected, `${key} ${JSON.stringify(range)}`)
        }
      }
    })

    it('fails as the SDK does: a missing key, another version than asked for, refused credentials', async () => {
      const store = await open('direct-get-errors')
      await store.put('present', Buffer.from('v1'))
      const {etag} = (await store.head('present'))!
      // Only ranged GETs go beside the SDK (see S3Store.get).
      await rejectsWith(store.get('nothing/here', {offset: 1}), 'NotFound', /"nothing\/here" does not exist in s3:\/\/zerofs-test\/direct-get-errors/)
      assert.equal((await readAll(await store.get('present', {offset: 0, length: 2}, {ifMatch: etag}))).toString(), 'v1')
      await rejectsWith(store.get('present', {offset: 0, length: 2}, {ifMatch: 'not-its-etag'}), 'PreconditionFailed')
      const refused = await open('direct-get-errors', {credentials: {accessKeyId: 'WRONG', secretAccessKey: 'WRONG'}})
      await rejectsWith(refused.head('present'), 'AccessDenied')
      await rejectsWith(refused.get('present', {offset: 1}), 'AccessDenied', /bucket "zerofs-test".*credentials/)
    })
  })

  describe('errors name their cause', () => {
    it('a missing bucket: NoSuchBucket naming the bucket and the endpoint', async () => {
      const store = await open('', {}, 'no-such-bucket')
      const message = new RegExp(`bucket "no-such-bucket" does not exist at ${server.endpoint.replace(/[.]/g, '\\.')}`)
      await rejectsWith(store.check(), 'NoSuchBucket', message)
      await rejectsWith(collect(store.list()), 'NoSuchBucket', message)
      await rejectsWith(store.put('x', Buffer.from('x')), 'NoSuchBucket', message)
    })

    it('wrong credentials: AccessDenied naming the bucket and hinting at the credentials', async () => {
      const store = await open('', {credentials: {accessKeyId: 'WRONG', secretAccessKey: 'WRONG'}})
      await rejectsWith(store.check(), 'AccessDenied', /bucket "zerofs-test".*credentials/)
      await rejectsWith(collect(store.list()), 'AccessDenied', /InvalidAccessKeyId/)
    })

    it('a missing key: NotFound naming the key', async () => {
      const store = await open('errors')
      await rejectsWith(store.get('nothing/here'), 'NotFound', /"nothing\/here" does not exist in s3:\/\/zerofs-test\/errors/)
      await rejectsWith(store.get('nothing/here', {offset: 0, length: 0}), 'NotFound')
      await rejectsWith(store.copy('nothing/here', 'target', {metadata: {}}), 'NotFound', /"nothing\/here"/)
    })

    it('calls s3rver lacks: NotSupported naming the call', async () => {
      const store = await open('unsupported')
      await store.put('source', Buffer.from('x'))
      const uploadId = await store.createMultipartUpload('target')
      await rejectsWith(store.uploadPartCopy('target', uploadId, 1, 'source', {offset: 0}), 'NotSupported', /^UploadPartCopy is not supported/)
      await rejectsWith(store.abortMultipartUpload('target', uploadId), 'NotSupported', /^AbortMultipartUpload is not supported/)
      await rejectsWith(collect(store.listMultipartUploads()), 'NotSupported', /^ListMultipartUploads is not supported/)
    })

    it('a dead endpoint (a closed port): Unreachable naming the endpoint, well within 30 s', {timeout: 30_000}, async () => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`
      const store = await open('', {endpoint})
      await rejectsWith(store.check(), 'Unreachable', new RegExp(`cannot reach the S3 endpoint ${endpoint.replace(/[.]/g, '\\.')} \\(ECONNREFUSED\\)`))
      await rejectsWith(store.put('x', Buffer.from('x')), 'Unreachable')
      await rejectsWith(collect(store.list()), 'Unreachable')
    })

    it('an endpoint that accepts connections and never answers: Unreachable within 30 s', {timeout: 30_000}, async () => {
      const sockets = new Set<Socket>()
      const silent = createTcpServer((socket) => {
        sockets.add(socket)
        socket.on('error', () => {})
      })
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
      try {
        const store = await open('', {endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`})
        await rejectsWith(store.check(), 'Unreachable', /ETIMEDOUT/)
      } finally {
        for (const socket of sockets) socket.destroy()
        await new Promise((resolve) => silent.close(resolve))
      }
    })

    it('the default credential chain and AWS_ENDPOINT_URL are honoured', async () => {
      const saved = {...process.env}
      try {
        Object.assign(process.env, {
          AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL: server.endpoint,
          AWS_CONFIG_FILE: join(scratch, 'no-config'),
          AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-credentials'),
        })
        for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_ENDPOINT_URL_S3', 'AWS_SESSION_TOKEN']) delete process.env[name]
        // No endpoint, region, path style or credentials given: all come from the environment's defaults.
        const store = await S3Store.open('zerofs-test', 'from-env')
        stores.push(store)
        await store.check()
        await store.put('k', Buffer.from('env'))
        assert.equal((await readAll(await store.get('k'))).toString(), 'env')
      } finally {
        for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
        Object.assign(process.env, saved)
      }
    })
  })

  describe('multipart failures', () => {
    it('a failed part aborts the upload, rethrows its own error and leaves no object', async () => {
      let failPart = true
      const proxy = await startRecordingProxy(server.endpoint, (incoming) =>
        failPart && incoming.method === 'PUT' && /[?&]partNumber=2(&|$)/.test(incoming.url ?? '') ? {status: 500, code: 'InternalError'} : undefined)
      try {
        const store = await open('failed-part', {endpoint: proxy.endpoint})
        const body = chunkedBody(12 * MiB)
        await rejectsWith(store.put('big', body.stream, {partSize: 5 * MiB, queueSize: 1}), 'Failed', /InternalError/)
        const aborts = proxy.requests.filter((recorded) => recorded.method === 'DELETE' && recorded.url.includes('uploadId='))
        assert.equal(aborts.length, 1, 'AbortMultipartUpload sent once')
        const completes = proxy.requests.filter((recorded) => recorded.method === 'POST' && recorded.url.includes('uploadId='))
        assert.deepEqual(completes, [], 'CompleteMultipartUpload never sent')
        failPart = false
        assert.equal(await store.head('big'), undefined)
      } finally {
        await proxy.close()
      }
    })

    it('a body stream that fails mid-upload rejects the put with its error and leaves no object', async () => {
      const store = await open('failing-body')
      const body = chunkedBody(20 * MiB, (sent) => {
        if (sent === 12 * MiB) throw new Error('the disk went away')
      })
      await rejectsWith(store.put('big', body.stream, {partSize: 5 * MiB}), 'Failed', /the disk went away/)
      assert.equal(await store.head('big'), undefined)
    })

    it('an aborted put rejects with Aborted and leaves no object', async () => {
      const store = await open('aborted')
      const controller = new AbortController()
      const body = chunkedBody(20 * MiB, (sent) => {
        if (sent === 11 * MiB) controller.abort()
      })
      await rejectsWith(store.put('big', body.stream, {partSize: 5 * MiB, signal: controller.signal}), 'Aborted')
      assert.equal(await store.head('big'), undefined)
    })

    it('a file whose content differs from its given SHA-256 fails the upload before it completes', async () => {
      const store = await open('changed-file')
      const path = join(scratch, 'mismatched')
      await writeFile(path, randomBytes(11 * MiB))
      await rejectsWith(store.put('big', {path}, {partSize: 5 * MiB, sha256: '0'.repeat(64)}), 'PreconditionFailed', /SHA-256/)
      assert.equal(await store.head('big'), undefined)
    })
  })

  describe('listings with encoding-type=url', () => {
    it('asks for URL-encoded keys and decodes them as AWS encodes them', async () => {
      const answers: string[] = []
      const encode = (answer: ProxiedAnswer): ProxiedAnswer => {
        answers.push(encodeListingAsAws(answer.body))
        return {...answer, body: answers[answers.length - 1]}
      }
      const proxy = await startRecordingProxy(server.endpoint, undefined, (incoming) =>
        incoming.method === 'GET' && /[?&]list-type=2(&|$)/.test(incoming.url ?? '') ? encode : undefined)
      try {
        const plain = await open('encoded')
        const store = await open('encoded', {endpoint: proxy.endpoint})
        const keys = ['100%.csv', 'a b.txt', 'a+b.txt', 'run books/x.txt', 'x&y<z>.txt', '한글/x.txt']
        for (const key of keys) await plain.put(key, Buffer.from(key))
        assert.deepEqual(await listKeys(store), keys)
        const grouped = (await collect(store.list({delimiter: '/'}))).map((entry) => (entry.kind === 'object' ? entry.key : `${entry.prefix} (prefix)`))
        assert.deepEqual(grouped, ['100%.csv', 'a b.txt', 'a+b.txt', 'run books/ (prefix)', 'x&y<z>.txt', '한글/ (prefix)'])
        assert.match(answers[0], /<Key>encoded\/a\+b\.txt<\/Key><.*<Key>encoded\/a%2Bb\.txt<\/Key>/s, 'the listing really was encoded')
        const listings = proxy.requests.filter((recorded) => recorded.url.includes('list-type=2'))
        assert.ok(listings.length > 0 && listings.every((recorded) => recorded.url.includes('encoding-type=url')))
        for (const key of keys) assert.equal((await readAll(await store.get(key))).toString(), key)
      } finally {
        await proxy.close()
      }
    })
  })

  describe('answers that report failures', () => {
    it('a delete that fails for some keys rejects naming them, after deleting the rest', async () => {
      const refused = ['keep-1', 'keep-2', 'keep-3', 'keep-4']
      const proxy = await startRecordingProxy(server.endpoint, undefined, (incoming) => {
        if (incoming.method !== 'POST' || !/[?&]delete(=|&|$)/.test(incoming.url ?? '')) return undefined
        const errors = refused.map((key) => `<Error><Key>partial/${key}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`).join('')
        return (answer) => ({...answer, body: answer.body.replace(/<\/DeleteResult>|<DeleteResult([^>]*)\/>/, (end, attributes?: string) =>
          end.endsWith('/>') ? `<DeleteResult${attributes ?? ''}>${errors}</DeleteResult>` : `${errors}</DeleteResult>`)})
      })
      try {
        const plain = await open('partial')
        const store = await open('partial', {endpoint: proxy.endpoint})
        await plain.put('gone', Buffer.from('x'))
        await rejectsWith(store.delete(['gone', ...refused]), 'AccessDenied',
          /could not delete 4 key\(s\) from s3:\/\/zerofs-test\/partial .*"keep-1" \(AccessDenied\), "keep-2" \(AccessDenied\), "keep-3" \(AccessDenied\) and 1 more/)
        assert.equal(await plain.head('gone'), undefined)
      } finally {
        await proxy.close()
      }
    })

    it('an ETag that is not the MD5 of the bytes sent is an error (corruption in flight)', async () => {
      const proxy = await startRecordingProxy(server.endpoint, undefined, (incoming) =>
        incoming.method === 'PUT' && !('x-amz-copy-source' in incoming.headers)
          ? (answer) => ({...answer, headers: {...answer.headers, etag: '"0123456789abcdef0123456789abcdef"'}})
          : undefined)
      try {
        const store = await open('corrupted', {endpoint: proxy.endpoint})
        await rejectsWith(store.put('single', Buffer.from('bytes')), 'Failed', /ETag 0123456789abcdef0123456789abcdef but the MD5 .* corrupted in flight/)
        const uploadId = await store.createMultipartUpload('parts')
        await rejectsWith(store.uploadPart('parts', uploadId, 1, Buffer.from('bytes')), 'Failed', /corrupted in flight/)
      } finally {
        await proxy.close()
      }
    })
  })

  describe('integrity headers', () => {
    it('sends a correct Content-MD5 with PutObject, UploadPart and DeleteObjects', async () => {
      const proxy = await startRecordingProxy(server.endpoint)
      try {
        const store = await open('md5', {endpoint: proxy.endpoint})
        await store.put('single', randomBytes(1000))
        await store.put('parts', Readable.from([randomBytes(6 * MiB)]), {partSize: 5 * MiB})
        const uploadId = await store.createMultipartUpload('manual')
        await store.uploadPart('manual', uploadId, 1, randomBytes(1000))
        await store.delete(['single', 'parts'])
        const withBodies = proxy.requests.filter((recorded) =>
          (recorded.method === 'PUT' && !('x-amz-copy-source' in recorded.headers)) || (recorded.method === 'POST' && recorded.url.includes('delete')))
        assert.ok(withBodies.length >= 5, `requests seen: ${withBodies.map((recorded) => `${recorded.method} ${recorded.url}`).join(', ')}`)
        for (const recorded of withBodies) {
          assert.equal(recorded.headers['content-md5'], recorded.bodyMd5, `${recorded.method} ${recorded.url}`)
        }
      } finally {
        await proxy.close()
      }
    })
  })

  describe('signed payloads', () => {
    it('signs the SHA-256 of every part and put body (large ones hashed off the main thread, once), which the server accepts', async () => {
      const proxy = await startRecordingProxy(server.endpoint)
      try {
        const store = await open('sha', {endpoint: proxy.endpoint})
        const parts = randomBytes(11 * MiB)
        await store.put('parts', Readable.from([parts]), {partSize: 5 * MiB})
        await store.put('single', randomBytes(2 * MiB))
        await store.put('small', randomBytes(1000))
        const uploadId = await store.createMultipartUpload('manual')
        await store.uploadPart('manual', uploadId, 1, randomBytes(2 * MiB))
        assert.ok((await readAll(await store.get('parts'))).equals(parts))
        const puts = proxy.requests.filter((recorded) => recorded.method === 'PUT' && recorded.bodyBytes > 0)
        assert.equal(puts.filter((recorded) => recorded.bodyBytes >= MiB).length, 5, `requests seen: ${proxy.requests.map((recorded) => `${recorded.method} ${recorded.url}`).join(', ')}`)
        for (const recorded of puts) assert.equal(recorded.headers['x-amz-content-sha256'], recorded.bodySha256, recorded.url)
      } finally {
        await proxy.close()
      }
    })
  })

  describe('a server killed mid-operation', () => {
    for (const via of ['the SDK', 'beside the SDK'] as const) {
      it(`fails a running download (${via}), then every call, with a clean StoreError`, {timeout: 60_000}, async () => {
        const doomed = await startS3rver(['doomed'])
        const store = await S3Store.open('doomed', '', {endpoint: doomed.endpoint, credentials: S3RVER_CREDENTIALS})
        try {
          await store.put('big', randomBytes(32 * MiB))
          if (via === 'beside the SDK') await store.head('big')
          const download = (await store.get('big', {offset: 0, length: 32 * MiB}))[Symbol.asyncIterator]()
          assert.equal((await download.next()).done, false)
          await doomed.stop()
          await assert.rejects(async () => {
            while (!(await download.next()).done) { /* drain what was buffered before the kill */ }
          }, (error: unknown) => isStoreError(error, 'Unreachable'))
          await rejectsWith(store.head('big'), 'Unreachable')
          await rejectsWith(store.put('small', Buffer.from('x')), 'Unreachable')
        } finally {
          await store.close()
          await doomed.stop()
        }
      })
    }

    it('fails a running multipart upload with a clean StoreError', {timeout: 60_000}, async () => {
      const doomed = await startS3rver(['doomed'])
      const store = await S3Store.open('doomed', '', {endpoint: doomed.endpoint, credentials: S3RVER_CREDENTIALS})
      try {
        const body = chunkedBody(20 * MiB, async (sent) => {
          if (sent === 12 * MiB) await doomed.stop()
        })
        await assert.rejects(store.put('big', body.stream, {partSize: 5 * MiB, queueSize: 1}),
          (error: unknown) => isStoreError(error, 'Unreachable'))
      } finally {
        await store.close()
        await doomed.stop()
      }
    })
  })
})
