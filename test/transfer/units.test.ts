import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {describe, it} from 'node:test'

import {silentLogger} from '../../src/core/logger.js'
import {FileStore} from '../../src/core/store/file-store.js'
import {compareKeys} from '../../src/core/store/key-order.js'
import {ByteBudget} from '../../src/core/transfer/byte-budget.js'
import {parseByteRate, parseByteSize} from '../../src/core/transfer/byte-size.js'
import {contentReference, digestStream, expectedDigest} from '../../src/core/transfer/content.js'
import {compareDescriptions, describeObject, sameMtime} from '../../src/core/transfer/description.js'
import {compileGlob, GlobSyntaxError} from '../../src/core/transfer/glob.js'
import {InflightUploads} from '../../src/core/transfer/inflight-uploads.js'
import {Journal} from '../../src/core/transfer/journal.js'
import {walkLocalTree} from '../../src/core/transfer/local-tree.js'
import type {LocalStats} from '../../src/core/transfer/tree-entry.js'
import {mergeByKey} from '../../src/core/transfer/merge.js'
import {PathFilter} from '../../src/core/transfer/path-filter.js'
import {readAhead} from '../../src/core/transfer/read-ahead.js'
import {RateLimiter, type Clock} from '../../src/core/transfer/rate-limiter.js'
import {TransferDatabase} from '../../src/core/transfer/transfer-db.js'

/** The transfer engines' pure parts: globs and filters, sizes and rates, the rate limiter, key-order walks and merges, digests. */

describe('globs', () => {
  const matches = (pattern: string, path: string, isDirectory = false) => compileGlob(pattern).matches(path, isDirectory)

  it('match whole trailing components unless anchored with a leading slash', () => {
    assert.ok(matches('*.tmp', 'x.tmp'))
    assert.ok(matches('*.tmp', 'a/b/x.tmp'))
    assert.ok(!matches('*.tmp', 'a/x.tmp/b'))
    assert.ok(matches('cache/*.db', 'a/cache/x.db'))
    assert.ok(!matches('cache/*.db', 'a/mycache/x.db'))
    assert.ok(matches('/top.txt', 'top.txt'))
    assert.ok(!matches('/top.txt', 'a/top.txt'))
  })

  it('know *, **, ?, sets, alternatives and escapes', () => {
    assert.ok(!matches('/a/*', 'a/b/c'))
    assert.ok(matches('/a/**', 'a/b/c'))
    assert.ok(matches('/a/**/c', 'a/c'))
    assert.ok(matches('/a/**/c', 'a/x/y/c'))
    assert.ok(matches('file?.txt', 'file1.txt'))
    assert.ok(!matches('file?.txt', 'file/.txt'))
    assert.ok(matches('[a-c]x', 'bx'))
    assert.ok(!matches('[!a-c]x', 'bx'))
    assert.ok(matches('*.{jpg,png}', 'p/q.png'))
    assert.ok(matches('\\*.txt', '*.txt'))
    assert.ok(!matches('\\*.txt', 'a.txt'))
    assert.ok(matches('ünï*', 'ünïcødé'))
  })

  it('match directories only when they end with a slash', () => {
    assert.ok(matches('build/', 'src/build', true))
    assert.ok(!matches('build/', 'src/build', false))
  })

  it('refuse malformed patterns', () => {
    for (const pattern of ['', '[abc', '{a,b', 'a}', '{a,{b}}', 'x\\']) assert.throws(() => compileGlob(pattern), GlobSyntaxError, pattern)
  })
})

describe('path filters', () => {
  it('exclude wins over include; includes never drop directories', () => {
    const filter = new PathFilter({exclude: ['secret*'], include: ['*.txt']})
    assert.ok(!filter.excludes('a/b.txt', false))
    assert.ok(filter.excludes('a/b.bin', false))
    assert.ok(filter.excludes('secret.txt', false))
    assert.ok(!filter.excludes('a', true))
    assert.ok(filter.excludes('secrets', true))
  })
})

describe('sizes and rates', () => {
  it('read binary and decimal units', () => {
    assert.equal(parseByteSize('8M'), 8 * 1024 ** 2)
    assert.equal(parseByteSize('512KiB'), 512 * 1024)
    assert.equal(parseByteSize('1.5G'), 1.5 * 1024 ** 3)
    assert.equal(parseByteSize('10MB'), 10_000_000)
    assert.equal(parseByteSize('123'), 123)
    assert.equal(parseByteRate('10M/s'), 10 * 1024 ** 2)
    assert.equal(parseByteRate('500k'), 500 * 1024)
  })

  it('refuse what is not a size', () => {
    for (const text of ['fast', '-1M', '10 X', '']) assert.throws(() => parseByteSize(text), RangeError, text)
    assert.throws(() => parseByteRate('0'), RangeError)
  })
})

describe('the rate limiter', () => {
  /** A clock that only moves when the limiter sleeps. */
  const manualClock = (): Clock & {slept: number[]} => {
    let now = 0
    const slept: number[] = []
    return {
      slept,
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms)
        now += ms
      },
    }
  }

  it('lets a burst through, then makes takers wait for their bytes at the rate', async () => {
    const clock = manualClock()
    const limiter = new RateLimiter(1000, clock, 500)
    await limiter.take(500)
    assert.deepEqual(clock.slept, [])
    await limiter.take(1000)
    assert.deepEqual(clock.slept, [1000])
    assert.equal(limiter.reserve(250), 250)
  })

  it('holds the average over every taker together', () => {
    const clock = manualClock()
    const limiter = new RateLimiter(1_000_000, clock, 0)
    const waits = Array.from({length: 10}, () => limiter.reserve(100_000))
    assert.equal(waits.at(-1), 1000)
  })

  it('passes every byte of a stream through unchanged', async () => {
    const limiter = new RateLimiter(1e12)
    const chunks: Buffer[] = []
    for await (const chunk of Readable.from([Buffer.from('ab'), Buffer.from('cd')]).pipe(limiter.throttle())) chunks.push(chunk as Buffer)
    assert.equal(Buffer.concat(chunks).toString(), 'abcd')
  })
})

describe('walks in key order', () => {
  it('a local tree comes out in the order a store lists its keys', async () => {
    const root = await mkdtemp(join(tmpdir(), 'zerofs-walk-'))
    try {
      for (const dir of ['a', 'a/b', 'a-b', 'é', '🎉']) await mkdir(join(root, dir), {recursive: true})
      for (const file of ['a.txt', 'a0', 'a/b/c', 'a/z', 'a-b/x', 'é/x', '\uffff', '🎉/x', 'A']) await writeFile(join(root, file), file)
      await symlink('a', join(root, 'link'))
      const keys: string[] = []
      const stats: string[] = []
      // Compared with the same walk, its lstat calls in parallel batches from the start (as on a slow
      // NAS), without atimes: each walk's readdir calls move the directories' atimes.
      const withoutAtime = ({atime: _atime, ...rest}: LocalStats) => JSON.stringify(rest)
      for await (const entry of walkLocalTree(root)) {
        keys.push(entry.key)
        stats.push(withoutAtime(entry.stats))
      }
      assert.deepEqual(keys, [...keys].sort(compareKeys))
      assert.deepEqual(keys, ['A', 'a-b/', 'a-b/x', 'a.txt', 'a/', 'a/b/', 'a/b/c', 'a/z', 'a0', 'link', 'é/', 'é/x', '\uffff', '🎉/', '🎉/x'])
      const parallel: string[] = []
      for await (const entry of walkLocalTree(root, {slowLstatMs: 0})) parallel.push(withoutAtime(entry.stats))
      assert.deepEqual(parallel, stats)
    } finally {
      await rm(root, {recursive: true, force: true})
    }
  })

  it('a merge pairs equal keys and refuses a side that goes backwards', async () => {
    const walk = async function* (keys: string[]) {
      for (const key of keys) yield {key}
    }
    const pairs: string[] = []
    for await (const pair of mergeByKey(walk(['a', 'b/', 'c']), walk(['b/', 'b/x', 'd']))) {
      pairs.push(`${pair.left ? 'L' : '-'}${pair.right ? 'R' : '-'} ${pair.key}`)
    }
    assert.deepEqual(pairs, ['L- a', 'LR b/', '-R b/x', 'L- c', '-R d'])
    await assert.rejects(async () => {
      for await (const _pair of mergeByKey(walk(['b', 'a']), walk([]))) void _pair
    }, /out of key order/)
  })
})

describe('the memory budget', () => {
  it('holds takers back until enough is given back, in order, and lets an oversized taker in alone', async () => {
    const budget = new ByteBudget(100)
    const order: string[] = []
    const first = await budget.reserve(60)
    const waiting = [
      budget.reserve(50).then((release) => {
        order.push('50')
        return release
      }),
      budget.reserve(500).then((release) => {
        order.push('500')
        return release
      }),
    ]
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(order, [])
    first()
    const releaseFifty = await waiting[0]
    assert.deepEqual(order, ['50'])
    releaseFifty()
    ;(await waiting[1])()
    assert.deepEqual(order, ['50', '500'])
    ;(await budget.reserve(100))()
  })
})

describe('multipart uploads of an interrupted run', () => {
  it('are aborted by the next run where the store can list them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zerofs-inflight-'))
    await mkdir(join(dir, 'store'))
    const store = new FileStore(join(dir, 'store'))
    const db = TransferDatabase.open(join(dir, 'cache'))
    try {
      const pair = db.claim('upload test')
      // The killed run: its upload started and never settled.
      void new InflightUploads(db.db, pair).around('big.bin', () => new Promise(() => undefined))
      const uploadId = await store.createMultipartUpload('big.bin')
      await store.uploadPart('big.bin', uploadId, 1, Buffer.alloc(1024))
      const next = await new InflightUploads(db.db, pair).abortInterrupted(store, silentLogger)
      assert.deepEqual(next, {aborted: 1, warning: undefined})
      const left: string[] = []
      for await (const upload of store.listMultipartUploads()) left.push(upload.uploadId)
      assert.deepEqual(left, [])
      assert.deepEqual(await new InflightUploads(db.db, pair).abortInterrupted(store, silentLogger), {aborted: 0, warning: undefined})
    } finally {
      db.close()
      await store.close()
      await rm(dir, {recursive: true, force: true})
    }
  })
})

describe('reading ahead', () => {
  it('keeps order, stops the source when the consumer stops, and passes a failure on', async () => {
    let produced = 0
    let closed = false
    const source = async function* () {
      try {
        for (let item = 0; item < 100; item++) {
          produced++
          yield item
        }
      } finally {
        closed = true
      }
    }
    const taken: number[] = []
    for await (const item of readAhead(source(), 10)) {
      taken.push(item)
      if (item === 4) break
    }
    assert.deepEqual(taken, [0, 1, 2, 3, 4])
    assert.ok(produced <= 16, `read ${produced} items ahead of a consumer that took 5`)
    assert.ok(closed)

    const failing = async function* () {
      yield 1
      throw new Error('listing failed')
    }
    const seen: number[] = []
    await assert.rejects(async () => {
      for await (const item of readAhead(failing(), 10)) seen.push(item)
    }, /listing failed/)
    assert.deepEqual(seen, [1])
  })
})

describe('content references and descriptions', () => {
  const head = (etag: string, metadata: Record<string, string> = {}, size = 0) => ({key: 'k', size, etag, lastModified: new Date(0), metadata})

  it('prefer SHA-256, then a plain MD5 ETag, then a multipart ETag with its part size, then rclone md5chksum', () => {
    assert.equal(contentReference(head('d41d8cd98f00b204e9800998ecf8427e', {sha256: 'a'.repeat(64)}))?.kind, 'sha256')
    assert.equal(contentReference(head('d41d8cd98f00b204e9800998ecf8427e'))?.kind, 'md5')
    assert.equal(contentReference(head('0123456789abcdef0123456789abcdef-3', {'part-size': '5242880'}))?.kind, 'multipart')
    assert.equal(contentReference(head('0123456789abcdef0123456789abcdef-3', {md5chksum: Buffer.alloc(16, 1).toString('base64')}))?.kind, 'md5')
    assert.equal(contentReference(head('0123456789abcdef0123456789abcdef-3')), undefined)
  })

  it('recompute a multipart ETag from the content and the part size', async () => {
    const parts = [Buffer.alloc(5, 1), Buffer.alloc(5, 2), Buffer.from('xy')]
    const partDigests = parts.map((part) => createHash('md5').update(part).digest())
    const etag = `${createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-3`
    const reference = contentReference(head(etag, {'part-size': '5'}))!
    assert.equal(await digestStream(Readable.from([Buffer.concat(parts)]), reference), expectedDigest(reference))
  })

  it('compare whole seconds where the writer kept only those, and report what was never recorded', () => {
    assert.ok(sameMtime({sec: 10, nsec: 999_000_000}, {sec: 10, nsec: 0}, true))
    assert.ok(!sameMtime({sec: 10, nsec: 999_000_000}, {sec: 10, nsec: 0}, false))
    assert.ok(sameMtime({sec: 10, nsec: 1000}, {sec: 10, nsec: 0}, false))
    const s3fs = describeObject(head('e', {mode: String(0o100600), uid: '1', gid: '2', mtime: '10'}, 3), 'object')
    const rclone = describeObject(head('e', {mtime: '10.999000000'}, 3), 'object')
    const local = {type: 'file' as const, size: 3, permissions: 0o600, uid: 1, gid: 2, mtime: {sec: 10, nsec: 999_000_000}, mtimePrecision: 'exact' as const}
    assert.deepEqual(compareDescriptions(local, s3fs), {differences: [], differing: [], notRecorded: []})
    assert.deepEqual(compareDescriptions(local, rclone), {differences: [], differing: [], notRecorded: ['mode', 'uid', 'gid']})
  })
})

describe('compareKeys', () => {
  it('orders keys as their UTF-8 bytes, as S3 lists them', () => {
    const keys = ['', 'a', 'a/', 'a/b', 'a0', 'A', 'é', 'éa', '\u{e000}', '\uffff', '\u{10000}', '🎉', '🎉a', '\u{10ffff}', 'a\uffffb', 'a🎉', 'z'.repeat(300)]
    const byBytes = (x: string, y: string): number => Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8'))
    for (const x of keys) {
      for (const y of keys) assert.equal(Math.sign(compareKeys(x, y)), Math.sign(byBytes(x, y)), `${JSON.stringify(x)} against ${JSON.stringify(y)}`)
    }
  })
})

describe('the journal read in key order', () => {
  it('answers as lookups do, across pages, for keys asked in order and out of it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zerofs-journal-'))
    const db = TransferDatabase.open(join(dir, 'cache'))
    try {
      const journal = new Journal(db.db, db.claim('ordered scan test'))
      // Every third key of 3000 recorded (several scan pages), with names whose UTF-16 and UTF-8 orders differ.
      const keys = Array.from({length: 3000}, (_, index) => `d${Math.floor(index / 100)}/${index % 2 === 0 ? '\uffff' : '🎉'}${String(index).padStart(5, '0')}`).sort(compareKeys)
      for (const [index, key] of keys.entries()) {
        if (index % 3 === 0) journal.record(key, {size: index, mtime: '1700000000', mode: 0o100644, uid: 1, gid: 2, etag: `e${index}`})
      }
      journal.flush()
      const asked = [...keys, 'a', keys[10], 'zzz']
      for (const key of asked) assert.deepEqual(journal.getInOrder(key), journal.get(key), key)
      assert.equal(keys.filter((key) => journal.get(key) !== undefined).length, 1000)
    } finally {
      db.close()
      await rm(dir, {recursive: true, force: true})
    }
  })
})
