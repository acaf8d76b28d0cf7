import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {after, before, describe, it} from 'node:test'

import {P9TestClient} from '../helpers/p9-client.js'
import {runTool} from '../helpers/run-tool.js'
import {ServedStores, type Served} from '../helpers/served-stores.js'

/**
 * diod's userspace 9P2000.L client tools (diodls, diodcat: libnpclient, another implementation
 * than the kernel's) against `zerofs serve --9p`, on a file store and on s3rver, listing and
 * reading objects put into the store beside zerofs; plus the wire behaviours no client tool shows
 * (fid checks, Tflush ordering, unknown versions and messages).
 */

const DIODLS = '/usr/sbin/diodls'
const DIODCAT = '/usr/sbin/diodcat'

const big = Buffer.alloc(300_000)
for (let at = 0; at < big.length; at += 4) big.writeUInt32LE(at, at)

describe('diod\'s 9P client tools against zerofs serve --9p', {timeout: 10 * 60_000}, () => {
  let stores: ServedStores
  let served: Served[]

  before(async () => {
    stores = await ServedStores.start('p9-diod', {
      protocol: '9p',
      seed: async (view) => {
        await view.put('hello.txt', Buffer.from('hello from the bucket\n'), {mode: String(0o100640), uid: '1234', gid: '5678', mtime: '1600000000'})
        await view.put('docs/readme.md', Buffer.from('# docs\n'))
        await view.put('docs/deeper/big.bin', big)
      },
    })
    served = stores.served
  })

  after(async () => {
    await stores?.stop()
  })

  it('diodls lists the store root and a sub-directory attached by aname, with attributes', async () => {
    for (const {label, serve} of served) {
      const server = ['-s', `127.0.0.1:${serve.port}`]
      const root = await runTool(DIODLS, [...server, '-a', '/', '/'])
      assert.deepEqual(root.stdout.split('\n').filter(Boolean).sort(), ['docs', 'hello.txt'], label)
      const long = await runTool(DIODLS, [...server, '-a', '/', '-l', '/'])
      const hello = long.stdout.split('\n').find((line) => line.endsWith(' hello.txt'))
      assert.match(hello ?? '', /^-rw-r-----\.?\s+1 1234\s+5678\s+22 /, `${label}: ${long.stdout}`)
      const docs = await runTool(DIODLS, [...server, '-a', '/docs', '/'])
      assert.deepEqual(docs.stdout.split('\n').filter(Boolean).sort(), ['deeper', 'readme.md'], label)
    }
  })

  it('diodcat reads small and multi-message files, through any aname', async () => {
    for (const {label, serve} of served) {
      const server = ['-s', `127.0.0.1:${serve.port}`]
      assert.equal((await runTool(DIODCAT, [...server, '-a', '/', 'hello.txt', 'docs/readme.md'])).stdout, 'hello from the bucket\n# docs\n', label)
      // Binary output goes through sha256sum: runTool collects text.
      const catBig = await runTool('bash', ['-c', `set -o pipefail; ${DIODCAT} -s 127.0.0.1:${serve.port} -a /docs -m 8192 deeper/big.bin | sha256sum`])
      assert.equal(catBig.stdout.split(' ')[0], createHash('sha256').update(big).digest('hex'), `${label}: 300 kB in 8 kB messages`)
      const missing = await runTool(DIODCAT, [...server, '-a', '/', 'nothing'], {allowFailure: true})
      assert.notEqual(missing.code, 0, label)
      const badAname = await runTool(DIODLS, [...server, '-a', '/hello.txt', '/'], {allowFailure: true})
      assert.notEqual(badAname.code, 0, `${label}: an aname that is not a directory cannot be attached`)
    }
  })

  it('checks fids, answers unknown versions and messages, and sends Rflush after the flushed reply', async () => {
    const {serve} = served[0]
    const client = await P9TestClient.connect(serve.port)
    const unknown = await client.call('Tversion', {msize: 8192, version: '9P2000.u'})
    assert.deepEqual(unknown.body, {msize: 8192, version: 'unknown'})
    const version = await client.call('Tversion', {msize: 1 << 30, version: '9P2000.L'})
    assert.equal(version.name, 'Rversion')
    assert.ok((version.body as {msize: number}).msize <= (1 << 20) + 24, 'msize is capped by the server')
    await client.expect('Rattach', 'Tattach', {fid: 0, afid: 0xffffffff, uname: 'root', aname: '', nUname: 0})
    const EBADF = 9
    assert.equal(await client.errno('Tgetattr', {fid: 77, requestMask: 0x7ffn}), EBADF, 'unknown fid')
    await client.expect('Rwalk', 'Twalk', {fid: 0, newfid: 0, wnames: []})
    await client.expect('Rwalk', 'Twalk', {fid: 0, newfid: 1, wnames: []})
    assert.equal(await client.errno('Twalk', {fid: 0, newfid: 1, wnames: []}), EBADF, 'newfid in use')
    const partial = await client.call('Twalk', {fid: 0, newfid: 2, wnames: ['docs', 'nothing', 'x']})
    assert.deepEqual([partial.name, (partial.body as {wqids: unknown[]}).wqids.length], ['Rwalk', 1], 'a partial walk returns the qids it got')
    assert.equal(await client.errno('Tgetattr', {fid: 2, requestMask: 0x7ffn}), EBADF, 'a partial walk makes no newfid')
    assert.equal(await client.errno('Tlink', {dfid: 0, fid: 1, name: 'x'}), 95, 'Tlink: EOPNOTSUPP')
    assert.equal(await client.errno('Txattrwalk', {fid: 0, newfid: 3, name: 'user.x'}), 95, 'xattrs: EOPNOTSUPP')
    const raw = Buffer.from([7, 0, 0, 0, 3, 0x44, 0x00]) // type 3 does not exist
    assert.deepEqual(await client.sendRaw(raw, 0x44), {name: 'Rlerror', tag: 0x44, body: {ecode: 95}})

    client.arrivals.length = 0
    const read = client.call('Tgetattr', {fid: 1, requestMask: 0x7ffn}, 500)
    const flushed = client.call('Tflush', {oldtag: 500}, 501)
    await Promise.all([read, flushed])
    assert.deepEqual(client.arrivals.map((arrival) => arrival.tag), [500, 501], 'Rflush follows the reply of the request it flushes')
    assert.equal((await client.call('Tflush', {oldtag: 4321})).name, 'Rflush', 'an unknown oldtag is answered at once')
    client.close()
  })
})
