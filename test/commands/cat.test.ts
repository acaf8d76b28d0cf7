import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {assertCliBuilt, runCli, type CliOptions, type CliResult} from '../helpers/cli.js'
import {startS3rver, type S3rverHandle} from '../helpers/s3rver.js'
import {assertFailure, assertSuccess} from './expect.js'
import {BINARY, closedPort, README, seedFileStore, seedS3, TREE, type SeedObject} from './seed.js'

const BUCKET = 'zerofs-test'

/** Large enough that the whole object cannot sit in pipe buffers when the reader goes away. */
const BIG: SeedObject = {key: 'blobs/big.bin', body: Buffer.alloc(24 * 1024 * 1024, 0x5a)}

interface Fixture {
  location(path: string): string
  cat(args: string[], options?: Omit<CliOptions, 'env'>): Promise<CliResult>
}

function describeCat(name: string, fixture: () => Fixture): void {
  describe(`zerofs cat on ${name}`, () => {
    it('streams a whole file', async () => {
      const result = await fixture().cat([fixture().location('/docs/readme.txt')])
      assertSuccess(result)
      assert.equal(result.stdout.toString(), README)
    })

    it('is binary-safe', async () => {
      const result = await fixture().cat([fixture().location('/blobs/binary.bin')])
      assertSuccess(result)
      assert.ok(result.stdout.equals(BINARY), `${result.stdout.length} bytes, identical to the ${BINARY.length} written`)
    })

    it('--offset and --length select a range', async () => {
      const word = await fixture().cat([fixture().location('/docs/readme.txt'), '--offset', '7', '--length', '6'])
      assertSuccess(word)
      assert.equal(word.stdout.toString(), 'zerofs')

      const tail = await fixture().cat([fixture().location('/blobs/binary.bin'), '--offset', String(BINARY.length - 100_000)])
      assertSuccess(tail)
      assert.ok(tail.stdout.equals(BINARY.subarray(BINARY.length - 100_000)))

      const middle = await fixture().cat([fixture().location('/blobs/binary.bin'), '--offset', '1000000', '--length', '1500000'])
      assertSuccess(middle)
      assert.ok(middle.stdout.equals(BINARY.subarray(1_000_000, 2_500_000)))

      const past = await fixture().cat([fixture().location('/docs/readme.txt'), '--offset', '1000'])
      assertSuccess(past)
      assert.equal(past.stdout.length, 0)

      const none = await fixture().cat([fixture().location('/docs/readme.txt'), '--length', '0'])
      assertSuccess(none)
      assert.equal(none.stdout.length, 0)
    })

    it('follows symlinks, relative and absolute (from the store root), to files and through directories', async () => {
      for (const link of ['/docs/link', '/links/to-readme', '/links/absolute', '/links/to-docs/readme.txt']) {
        const result = await fixture().cat([fixture().location(link)])
        assertSuccess(result)
        assert.equal(result.stdout.toString(), README, link)
      }
    })

    it('a symlink loop exits 2 with ELOOP', async () => {
      assertFailure(await fixture().cat([fixture().location('/links/loop-a')]), /loop-[ab]: too many levels of symbolic links$/)
    })

    it('a directory exits 2 with one line "...: is a directory"', async () => {
      const location = fixture().location('/docs')
      assertFailure(await fixture().cat([location]), new RegExp(`^zerofs cat: ${escape(location)}: is a directory$`))
    })

    it('a missing path exits 2 with one line naming it', async () => {
      const location = fixture().location('/docs/nope.txt')
      assertFailure(await fixture().cat([location]), new RegExp(`${escape(location)}: no such file or directory$`))
    })

    it('a reader that goes away (| head -c 10) ends it quietly', async () => {
      const result = await fixture().cat([fixture().location('/blobs/big.bin')], {stdoutLimit: 10})
      assert.equal(result.stdout.toString(), 'ZZZZZZZZZZ')
      assert.equal(result.stderr, '')
      assert.equal(result.code, 0)
    })

    it('needs a location', async () => {
      const result = await fixture().cat([])
      assert.notEqual(result.code, 0)
      assert.match(result.stderr, /location/i)
    })
  })
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

describe('zerofs cat', () => {
  let home: string
  let server: S3rverHandle
  let fileStore: string

  const s3Env = (): NodeJS.ProcessEnv => ({
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_DATA_HOME: join(home, 'data'),
  })
  const s3: Fixture = {
    location: (path) => `s3://${BUCKET}${path}`,
    cat: (args, options) => runCli(['cat', ...args, '--endpoint', server.endpoint], {...options, env: s3Env()}),
  }
  const file: Fixture = {
    location: (path) => `${fileStore}${path}`,
    cat: (args, options) => runCli(['cat', ...args], {...options, env: {XDG_CACHE_HOME: join(home, 'cache'), XDG_DATA_HOME: join(home, 'data')}}),
  }

  before(async () => {
    assertCliBuilt()
    home = await mkdtemp(join(tmpdir(), 'zerofs-cat-'))
    fileStore = join(home, 'store')
    await mkdir(fileStore)
    server = await startS3rver([BUCKET])
    await seedS3(server, BUCKET, [...TREE, BIG])
    await seedFileStore(fileStore, [...TREE, BIG])
  })

  after(async () => {
    await server?.stop()
    if (home) await rm(home, {recursive: true, force: true})
  })

  describeCat('S3 (s3rver)', () => s3)
  describeCat('a local store', () => file)

  describe('S3 failures', () => {
    it('a missing bucket exits 2 with one line naming the bucket', async () => {
      assertFailure(await s3.cat(['s3://no-such-bucket/docs/readme.txt']), /no-such-bucket/)
    })

    it('wrong credentials exit 2 with one line naming the bucket', async () => {
      const result = await runCli(['cat', s3.location('/docs/readme.txt'), '--endpoint', server.endpoint], {
        env: {...s3Env(), AWS_ACCESS_KEY_ID: 'wrong'},
      })
      assertFailure(result, new RegExp(BUCKET))
    })

    it('a dead endpoint exits 2 with one line naming the endpoint', async () => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`
      const result = await runCli(['cat', s3.location('/docs/readme.txt'), '--endpoint', endpoint], {env: s3Env()})
      assertFailure(result, new RegExp(escape(endpoint.replace('http://', ''))))
    })
  })
})
