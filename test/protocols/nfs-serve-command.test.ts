import assert from 'node:assert/strict'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {fsidOf, parseListenAddress} from '../../src/commands/serve.js'
import {startServe} from '../helpers/nfs-serve.js'
import {NfsTestClient} from '../helpers/nfs-wire.js'

describe('zerofs serve', {timeout: 3 * 60_000}, () => {
  let scratch: string
  let env: NodeJS.ProcessEnv

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-serve-command-'))
    env = {XDG_CACHE_HOME: join(scratch, 'cache'), XDG_DATA_HOME: join(scratch, 'data')}
  })
  after(() => rm(scratch, {recursive: true, force: true}))

  it('parses listen addresses and derives a stable fsid from the store URL', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:2049'), {host: '127.0.0.1', port: 2049})
    assert.deepEqual(parseListenAddress('[::1]:12049'), {host: '::1', port: 12049})
    for (const bad of ['127.0.0.1', 'localhost:2049', '127.0.0.1:70000', ':2049', '::1:2049']) {
      assert.throws(() => parseListenAddress(bad), /ADDRESS:PORT/, bad)
    }
    assert.equal(fsidOf('s3://bucket'), fsidOf('s3://bucket'))
    assert.notEqual(fsidOf('s3://bucket'), fsidOf('s3://other'))
  })

  it('without STORE serves the embedded default store, logs connections, and exits 0 on SIGINT after flushing', async () => {
    const serve = await startServe([], {env})
    const client = await NfsTestClient.connect(serve.port)
    const root = await client.mountRoot()
    const created = await client.create(root, 'unstable.txt', {mode: 0, attributes: {mode: 0o644}})
    assert.equal((await client.write(created.handle!, 0n, Buffer.from('flushed on shutdown'), 0)).committed, 0)
    await client.close()
    const {code} = await serve.stop('SIGINT')
    assert.equal(code, 0, serve.log())
    const defaultStore = join(scratch, 'data', 'zerofs', 'default')
    assert.match(serve.log(), new RegExp(`serving ${defaultStore} over NFSv3`))
    assert.match(serve.log(), /connection from 127\.0\.0\.1:\d+\n/)
    assert.match(serve.log(), /stopped cleanly/)
    assert.equal(await readFile(join(defaultStore, 'unstable.txt'), 'utf8'), 'flushed on shutdown')
  })

  it('--read-only refuses changes with NFS3ERR_ROFS and still serves reads', async () => {
    const serve = await startServe(['--read-only'], {env})
    try {
      const client = await NfsTestClient.connect(serve.port)
      const root = await client.mountRoot()
      assert.equal((await client.create(root, 'new.txt', {mode: 0, attributes: {}})).status, 30)
      const existing = await client.lookup(root, 'unstable.txt')
      assert.equal((await client.read(existing.handle!, 0n, 100)).data?.toString(), 'flushed on shutdown')
      await client.close()
    } finally {
      await serve.stop()
    }
  })

  it('fails with exit 1 and one line on a malformed --allow or --nfs', async () => {
    await assert.rejects(startServe(['--allow', '10.0.0.0/99'], {env}), /exited \(1\)[\s\S]*not an address or CIDR: 10\.0\.0\.0\/99/)
    await assert.rejects(startServe(['--nfs', 'nowhere'], {env}), /exited \(1\)[\s\S]*ADDRESS:PORT/)
  })
})
