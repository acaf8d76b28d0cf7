import assert from 'node:assert/strict'
import {mkdir, mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {parseP9Address} from '../../src/cli/serve-9p.js'
import {startServe} from '../helpers/nfs-serve.js'
import {NfsTestClient} from '../helpers/nfs-wire.js'
import {P9TestClient} from '../helpers/p9-client.js'

describe('zerofs serve --9p', {timeout: 3 * 60_000}, () => {
  let scratch: string
  let env: NodeJS.ProcessEnv

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-serve-9p-'))
    env = {XDG_CACHE_HOME: join(scratch, 'cache'), XDG_DATA_HOME: join(scratch, 'data')}
  })
  after(() => rm(scratch, {recursive: true, force: true}))

  it('parses TCP and unix socket addresses', () => {
    assert.deepEqual(parseP9Address('127.0.0.1:564'), {host: '127.0.0.1', port: 564})
    assert.deepEqual(parseP9Address('[::1]:5640'), {host: '::1', port: 5640})
    assert.deepEqual(parseP9Address('unix:/run/zerofs.sock'), {path: '/run/zerofs.sock'})
    for (const bad of ['unix:', 'localhost:564', '127.0.0.1']) assert.throws(() => parseP9Address(bad), bad)
  })

  it('serves NFS and 9P at once on one store, each seeing what the other wrote, and uploads on SIGTERM', async () => {
    const store = join(scratch, 'store')
    await mkdir(store)
    const serve = await startServe([store, '--nfs', '127.0.0.1:0'], {env, protocol: '9p'})
    try {
      const nfsPort = Number(/over NFSv3 on 127\.0\.0\.1:(\d+)/.exec(serve.log())?.[1])
      const p9 = await P9TestClient.attached(serve.port)
      await p9.expect('Rwalk', 'Twalk', {fid: 0, newfid: 1, wnames: []})
      await p9.expect('Rlcreate', 'Tlcreate', {fid: 1, name: 'from-9p.txt', flags: 0o101, mode: 0o644, gid: 0})
      await p9.expect('Rwrite', 'Twrite', {fid: 1, offset: 0n, data: Buffer.from('written over 9P')})
      const nfs = await NfsTestClient.connect(nfsPort)
      const found = await nfs.lookup(await nfs.mountRoot(), 'from-9p.txt')
      assert.equal((await nfs.read(found.handle!, 0n, 100)).data?.toString(), 'written over 9P')
      await nfs.close()
      p9.close()
    } finally {
      const {code} = await serve.stop('SIGTERM')
      assert.equal(code, 0, serve.log())
    }
    // The mount line follows the line startServe waits for: the whole log is there once it exited.
    assert.match(serve.log(), new RegExp(`mount -t 9p -o trans=tcp,port=${serve.port},version=9p2000\\.L 127\\.0\\.0\\.1 MOUNTPOINT`))
    assert.equal(await readFile(join(store, 'from-9p.txt'), 'utf8'), 'written over 9P')
  })
})
