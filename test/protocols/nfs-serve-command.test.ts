import assert from 'node:assert/strict'
import {mkdir, mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {parseListenAddress} from '../../src/cli/listen-address.js'
import {fsidOf} from '../../src/cli/serve-nfs.js'
import {s3BucketView} from '../helpers/nfs-bucket-view.js'
import {startServe} from '../helpers/nfs-serve.js'
import {NfsTestClient, writeSattr3} from '../helpers/nfs-wire.js'
import {startS3rver} from '../helpers/s3rver.js'

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

  it('--squash root --anon-uid/--anon-gid: root acts as the anonymous ids', async () => {
    const store = join(scratch, 'squash-store')
    await mkdir(store)
    const storeArgs = [store, '--cache-dir', join(scratch, 'squash-cache')]
    // The store root is the serving user's, 0755: open it up first, unsquashed, as that user.
    const plain = await startServe(storeArgs, {env})
    const owner = await NfsTestClient.connect(plain.port, {uid: process.getuid!(), gid: process.getgid!()})
    const top = await owner.mountRoot()
    assert.equal((await owner.call(2, (w) => {
      w.opaque(top)
      writeSattr3(w, {mode: 0o777})
      w.bool(false)
    })).status, 0)
    await owner.close()
    assert.equal((await plain.stop()).code, 0)

    const serve = await startServe([...storeArgs, '--squash', 'root', '--anon-uid', '4000', '--anon-gid', '4001'], {env})
    try {
      assert.match(serve.log(), /\(root squashed to 4000:4001\)/)
      const client = await NfsTestClient.connect(serve.port, {uid: 0, gid: 0})
      const root = await client.mountRoot()
      const created = await client.create(root, 'by-root.txt', {mode: 0, attributes: {mode: 0o644}})
      assert.equal(created.status, 0)
      assert.deepEqual([created.attr?.uid, created.attr?.gid], [4000, 4001])
      await client.close()
    } finally {
      await serve.stop()
    }
  })

  it('serves s3://BUCKET/PREFIX as a store whose root is the prefix; refuses a directory inside a local store', async () => {
    const s3 = await startS3rver(['scoped'])
    const view = s3BucketView(s3.endpoint, 'scoped')
    try {
      await view.put('nas1/inside.txt', Buffer.from('inside'))
      await view.put('outside.txt', Buffer.from('outside'))
      const serve = await startServe(['s3://scoped/nas1/', '--cache-dir', join(scratch, 'scoped-cache')], {env: {...env, ...s3.env}})
      const client = await NfsTestClient.connect(serve.port)
      const root = await client.mountRoot()
      const inside = await client.lookup(root, 'inside.txt')
      assert.equal((await client.read(inside.handle!, 0n, 100)).data?.toString(), 'inside')
      assert.equal((await client.lookup(root, 'outside.txt')).status, 2, 'NFS3ERR_NOENT: the bucket root is not served')
      assert.equal((await client.lookup(root, 'nas1')).status, 2)
      const created = await client.create(root, 'new.txt', {mode: 0, attributes: {mode: 0o644}})
      await client.write(created.handle!, 0n, Buffer.from('new'), 2)
      await client.close()
      const {code} = await serve.stop('SIGINT')
      assert.equal(code, 0, serve.log())
      assert.match(serve.log(), /serving s3:\/\/scoped\/nas1 over NFSv3/)
      assert.equal((await view.body('nas1/new.txt')).toString(), 'new')
      assert.deepEqual((await view.keys()).sort(), ['nas1/inside.txt', 'nas1/new.txt', 'outside.txt'])
    } finally {
      await view.close()
      await s3.stop()
    }
    const store = join(scratch, 'data', 'zerofs', 'default')
    await mkdir(join(store, 'sub'), {recursive: true})
    await assert.rejects(startServe([join(store, 'sub')], {env}), /exited \(1\)[\s\S]*serve exports a whole store: give .*default, not a directory inside it \(\/sub\)/)
  })

  it('fails with exit 1 and one line on a malformed --allow, --nfs, --portmap or --squash, or a --portmap port in use', async () => {
    await assert.rejects(startServe(['--allow', '10.0.0.0/99'], {env}), /exited \(1\)[\s\S]*not an address or CIDR: 10\.0\.0\.0\/99/)
    await assert.rejects(startServe(['--nfs', 'nowhere'], {env}), /exited \(1\)[\s\S]*ADDRESS:PORT/)
    await assert.rejects(startServe(['--portmap', '111'], {env}), /exited \(1\)[\s\S]*ADDRESS:PORT/)
    await assert.rejects(startServe(['--squash', 'some'], {env}), /exited \(1\)[\s\S]*Expected --squash=some to be one of: none, root, all/)
    await assert.rejects(startServe(['--anon-uid', '-1'], {env}), /exited \(1\)/)
    const first = await startServe([], {env})
    try {
      // The first server's NFS port is taken, so a portmapper cannot have it.
      const second = startServe(['--cache-dir', join(scratch, 'second-cache'), '--portmap', `127.0.0.1:${first.port}`], {env})
      await assert.rejects(second, new RegExp(`exited \\(1\\)[\\s\\S]*cannot listen on 127\\.0\\.0\\.1:${first.port} for --portmap: the port is in use`))
    } finally {
      await first.stop()
    }
  })
})
