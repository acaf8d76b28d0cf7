import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {assertSuiteLeftovers} from '../helpers/posix-suite-leftovers.js'
import {runSuiteInGuest, ServedStores, type Served} from '../helpers/served-stores.js'

/**
 * The Linux kernel's 9P2000.L client (in the kclient guest) against `zerofs serve --9p` on a file
 * store and on s3rver: one guest boot runs the NFS suite's POSIX behaviour checks over 9P on both
 * mounts, then fcntl and flock locks between processes and between two mounts (p9-kernel/guest.sh);
 * afterwards each store is checked from outside zerofs.
 */

const guest = fileURLToPath(new URL('p9-kernel/guest.sh', import.meta.url))

describe('the Linux kernel 9P2000.L client', {timeout: 60 * 60_000}, () => {
  let stores: ServedStores
  let served: Served[]

  before(async () => {
    stores = await ServedStores.start('p9-kernel', {protocol: '9p'})
    served = stores.served
  })

  after(async () => {
    await stores?.stop()
  })

  it('passes the POSIX behaviour suite on both stores, and keeps fcntl and flock locks between processes and mounts', async () => {
    const output = await runSuiteInGuest(guest, served)
    assert.match(output, /^ok locks$/m)
  })

  it('serves 9P only when --9p is the only protocol flag, and stops cleanly on SIGTERM: exit 0 after flushing', async () => {
    for (const {label, serve} of served) {
      assert.doesNotMatch(serve.log(), /over NFSv3/, label)
      const {code} = await serve.stop('SIGTERM')
      assert.equal(code, 0, `${label}:\n${serve.log()}`)
      assert.match(serve.log(), /stopped cleanly/)
    }
  })

  it('leaves plain objects with s3fs metadata in the bucket, and nothing else', async () => {
    for (const {label, view} of served) await assertSuiteLeftovers(label, view)
  })
})
