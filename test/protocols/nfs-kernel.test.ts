import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {fileStoreView, s3BucketView, type BucketView} from '../helpers/nfs-bucket-view.js'
import {startServe, type ServeProcess} from '../helpers/nfs-serve.js'
import {assertSuiteLeftovers} from '../helpers/posix-suite-leftovers.js'
import {runInGuest} from '../helpers/kclient.js'
import {startS3rver, type S3rverHandle} from '../helpers/s3rver.js'

/**
 * The Linux kernel's NFSv3 client (in the kclient guest) against `zerofs serve` on a file store and
 * on s3rver: one guest boot runs the POSIX behaviour suite (nfs-kernel/posix-suite.sh) on both
 * mounts; afterwards each store is checked from outside zerofs.
 */

const suite = fileURLToPath(new URL('nfs-kernel/posix-suite.sh', import.meta.url))

interface Served {
  label: string
  serve: ServeProcess
  view: BucketView
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
    for (const {label, view} of served) await assertSuiteLeftovers(label, view)
  })
})
