import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdir, mkdtemp, readdir, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {fileStoreView, s3BucketView, type BucketView} from '../helpers/nfs-bucket-view.js'
import {startServe, type ServeProcess} from '../helpers/nfs-serve.js'
import {runInGuest} from '../helpers/kclient.js'
import {startS3rver, type S3rverHandle} from '../helpers/s3rver.js'

/**
 * The Linux kernel's NFSv3 client (in the kclient guest) against `zerofs serve` on a file store and
 * on s3rver: one guest boot runs the POSIX behaviour suite (nfs-kernel/posix-suite.sh) on both
 * mounts; afterwards each store is checked from outside zerofs.
 */

const suite = fileURLToPath(new URL('nfs-kernel/posix-suite.sh', import.meta.url))
/** The tree the suite copies into keep/tree (the same path exists, read-only, in the guest). */
const TREE = '/usr/lib/python3.11/email'
const S_IFMT = 0o170000

interface Served {
  label: string
  serve: ServeProcess
  view: BucketView
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* filesUnder(path)
    else yield path
  }
}

async function* directoriesUnder(dir: string): AsyncGenerator<string> {
  yield dir
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    if (entry.isDirectory()) yield* directoriesUnder(join(dir, entry.name))
  }
}

describe('the Linux kernel NFSv3 client', {timeout: 60 * 60_000}, () => {
  let scratch: string
  let s3: S3rverHandle
  const served: Served[] = []

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-nfs-kernel-'))
    s3 = await startS3rver(['zerofs-test'])
    const env = {XDG_CACHE_HOME: join(scratch, 'xdg-cache'), XDG_DATA_HOME: join(scratch, 'xdg-data')}
    const fileStore = join(scratch, 'store')
    await mkdir(fileStore)
    served.push({
      label: 'file',
      serve: await startServe([fileStore, '--cache-dir', join(scratch, 'cache-file')], {env}),
      view: fileStoreView(fileStore),
    })
    served.push({
      label: 's3',
      serve: await startServe(['s3://zerofs-test', '--cache-dir', join(scratch, 'cache-s3')], {env: {...env, ...s3.env}}),
      view: s3BucketView(s3.endpoint, 'zerofs-test'),
    })
  })

  after(async () => {
    for (const {serve, view} of served) {
      await serve.stop('SIGKILL')
      await view.close()
    }
    await s3?.stop()
    await rm(scratch, {recursive: true, force: true})
  })

  it('passes the POSIX behaviour suite on both stores (255-byte names on the file store only)', async () => {
    const [file, s3served] = served
    const result = await runInGuest(suite, [`file:${file.serve.port}:1`, `s3:${s3served.serve.port}:0`], {
      timeoutSeconds: 3000,
      onLine: (line) => process.stdout.write(`# guest: ${line}\n`),
    })
    const failed = result.output.split('\n').filter((line) => line.startsWith('not ok'))
    assert.deepEqual(failed, [], result.output)
    assert.equal(result.code, 0, result.output)
    for (const label of ['file', 's3']) assert.match(result.output, new RegExp(`^ok ${label} umount`, 'm'))
  })

  it('stops cleanly on SIGTERM: exit 0 after flushing', async () => {
    for (const {label, serve} of served) {
      const {code} = await serve.stop('SIGTERM')
      assert.equal(code, 0, `${label}:\n${serve.log()}`)
      assert.match(serve.log(), /stopped cleanly/)
    }
  })

  it('leaves plain objects with s3fs metadata in the bucket, and nothing else', async () => {
    const expectedBig = Buffer.alloc(5 * 1024 * 1024)
    const pattern = Buffer.from('zerofs\n')
    for (let at = 0; at < expectedBig.length; at += pattern.length) pattern.copy(expectedBig, at)

    for (const {label, view} of served) {
      const keys = (await view.keys()).filter((key) => !key.startsWith('.zerofs/'))
      assert.deepEqual(keys.filter((key) => !key.startsWith('keep/')), [], `${label}: only keep/ survives the suite`)
      assert.deepEqual(keys.filter((key) => /(^|\/)\.nfs/.test(key)), [], `${label}: no silly-rename leftovers`)

      assert.equal((await view.body('keep/hello.txt')).toString(), 'hello bucket\n')
      const hello = (await view.head('keep/hello.txt'))!
      assert.deepEqual([hello.metadata.mode, hello.metadata.uid, hello.metadata.gid], [String(0o100640), '1234', '5678'], label)
      assert.equal(Number(hello.metadata.mtime), 1_600_000_000)

      const link = (await view.head('keep/link'))!
      assert.equal(Number(link.metadata.mode) & S_IFMT, 0o120000, `${label}: symlink mode`)
      assert.equal((await view.body('keep/link')).toString(), 'hello.txt')

      const dir = (await view.head('keep/dir/'))!
      assert.equal(dir.size, 0)
      assert.equal(Number(dir.metadata.mode) & S_IFMT, 0o040000, `${label}: directory marker mode`)

      const fifo = (await view.head('keep/fifo'))!
      assert.equal(fifo.size, 0)
      assert.equal(Number(fifo.metadata.mode) & S_IFMT, 0o010000, `${label}: FIFO mode`)

      const big = await view.body('keep/big.bin')
      assert.equal(big.length, expectedBig.length)
      const bigSha = sha256(big)
      assert.equal(bigSha, sha256(expectedBig), `${label}: big.bin content`)
      assert.equal((await view.head('keep/big.bin'))!.metadata.sha256, bigSha, `${label}: x-amz-meta-sha256`)

      for await (const path of filesUnder(TREE)) {
        const key = `keep/tree/${relative(TREE, path)}`
        const object = await view.head(key)
        assert.ok(object, `${label}: ${key} is in the bucket`)
        assert.equal(sha256(await view.body(key)), sha256(await readFile(path)), `${label}: ${key} content`)
        assert.equal(Number(object.metadata.mode) & 0o7777, (await stat(path)).mode & 0o7777, `${label}: ${key} mode`)
        assert.equal(Math.floor(Number(object.metadata.mtime)), Math.floor((await stat(path)).mtimeMs / 1000), `${label}: ${key} mtime`)
      }
      // cp -a set each directory's mtime after filling it: the markers carry those times.
      for await (const path of directoriesUnder(TREE)) {
        const key = `keep/tree/${relative(TREE, path)}/`.replace(/\/\/$/, '/')
        const marker = await view.head(key)
        assert.ok(marker, `${label}: ${key} has a marker`)
        assert.equal(Math.floor(Number(marker.metadata.mtime)), Math.floor((await stat(path)).mtimeMs / 1000), `${label}: ${key} mtime`)
      }
    }
  })
})
