import assert from 'node:assert/strict'
import {lstat, mkdtemp, readlink, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {S3Store} from '../../src/core/store/s3-store.js'
import {runInGuest} from '../helpers/kclient.js'
import {startServe, type ServeProcess} from '../helpers/nfs-serve.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'
import {FIFO, makeFixtureTree} from './fixture-tree.js'
import {runMigration} from './worlds.js'

/**
 * A tree migrated into a bucket, then served by `zerofs serve --nfs`, shows through the Linux
 * kernel's NFSv3 client (in the kclient guest) with the attributes it had at the source: modes,
 * owners, sizes, mtimes, directories (0700 and empty ones included) and symlink targets.
 */

const BUCKET = 'zerofs-nfs-transfer'
const script = fileURLToPath(new URL('nfs-attributes.sh', import.meta.url))

interface Seen {
  mode: number
  uid: number
  gid: number
  size: number
  mtime: number
  target: string
}

describe('a migrated tree through zerofs serve and the kernel NFS client', {timeout: 20 * 60_000}, () => {
  let scratch: string
  let server: S3rverHandle
  let serve: ServeProcess | undefined
  let source: string

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-nfs-transfer-'))
    server = await startS3rver([BUCKET])
    source = join(scratch, 'source')
    await makeFixtureTree(source)
    // Into the bucket's root: serve exports a bucket from its root, and s3rver's listings hide a
    // prefix holding only sub-prefixes, such as one without a marker of its own.
    const store = await S3Store.open(BUCKET, '', {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS})
    try {
      const {report} = await runMigration({source: {kind: 'local', dir: source}, destination: {kind: 'store', store}, cacheDir: join(scratch, 'cache')})
      assert.equal(report.failed, 0)
    } finally {
      await store.close()
    }
    serve = await startServe([`s3://${BUCKET}`, '--cache-dir', join(scratch, 'serve-cache')], {
      env: {...server.env, XDG_CACHE_HOME: join(scratch, 'xdg-cache'), XDG_DATA_HOME: join(scratch, 'xdg-data')},
    })
  })

  after(async () => {
    await serve?.stop('SIGKILL')
    await server?.stop()
    if (scratch) await rm(scratch, {recursive: true, force: true})
  })

  it('shows every entry with its source attributes', async () => {
    const result = await runInGuest(script, [String(serve!.port)], {timeoutSeconds: 900})
    assert.equal(result.code, 0, result.output)
    const seen = new Map<string, Seen>()
    for (const line of result.output.split('\n')) {
      const fields = line.replace(/\r$/, '').split('|')
      if (fields.length !== 7 || !fields[0].startsWith('./')) continue
      const [path, mode, uid, gid, size, mtime, target] = fields
      seen.set(path.slice(2), {mode: Number.parseInt(mode, 16), uid: Number(uid), gid: Number(gid), size: Number(size), mtime: Number(mtime), target})
    }
    for (const path of ['docs', 'docs/readme.txt', 'private', 'private/secret.txt', 'readonly', 'empty-dir', 'deep/a', 'links/relative',
      'links/dangling', 'links/to-dir', 'hard/second.bin', 'ünïcødé/日本語.txt', 'media/large.bin']) {
      const stats = await lstat(join(source, path))
      const entry = seen.get(path)
      assert.ok(entry, `${path} is not in the mount:\n${result.output}`)
      const expected = {
        mode: stats.mode,
        uid: stats.uid,
        gid: stats.gid,
        size: stats.isDirectory() ? entry.size : stats.size,
        mtime: Math.floor(stats.mtimeMs / 1000),
        target: stats.isSymbolicLink() ? await readlink(join(source, path)) : '',
      }
      assert.deepEqual(entry, expected, path)
    }
    assert.ok(!seen.has(FIFO), 'the FIFO was not migrated')
  })
})
