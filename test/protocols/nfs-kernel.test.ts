import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {assertSuiteLeftovers} from '../helpers/posix-suite-leftovers.js'
import {runSuiteInGuest, ServedStores, type Served} from '../helpers/served-stores.js'

/**
 * The Linux kernel's NFSv3 client (in the kclient guest) against `zerofs serve` on a file store and
 * on s3rver: one guest boot runs the POSIX behaviour suite (nfs-kernel/posix-suite.sh) on both
 * mounts; afterwards each store is checked from outside zerofs.
 */

const suite = fileURLToPath(new URL('nfs-kernel/posix-suite.sh', import.meta.url))

describe('the Linux kernel NFSv3 client', {timeout: 60 * 60_000}, () => {
  let stores: ServedStores
  let served: Served[]

  before(async () => {
    stores = await ServedStores.start('nfs-kernel')
    served = stores.served
  })

  after(async () => {
    await stores?.stop()
  })

  it('passes the POSIX behaviour suite on both stores (255-byte names on the file store only)', async () => {
    await runSuiteInGuest(suite, served)
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
