import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {chunksPrefix} from '../../src/core/blockdev/layout.js'
import type {ObjectStore} from '../../src/core/store/object-store.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {allKeys, readObject} from '../core/fs-stores.js'
import {startServe, type ServeProcess} from '../helpers/nfs-serve.js'
import {runTool} from '../helpers/run-tool.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'

/**
 * libnbd's nbdinfo and nbdcopy and qemu-img against `zerofs serve --nbd` on s3rver: the exports,
 * round trips with checksums, and the chunk objects a clean shutdown leaves in the bucket.
 */

const MiB = 1024 * 1024
const DISK_SIZE = 12 * MiB
const CHUNK = MiB

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

describe('zerofs serve --nbd with libnbd and qemu-img (s3rver)', {timeout: 5 * 60_000}, () => {
  let s3: S3rverHandle
  let scratch: string
  let serve: ServeProcess
  let store: ObjectStore
  let serveArgs: string[]
  let url: (name: string) => string
  /** What the disk export should hold: a random head, zeros, a random tail. */
  const image = Buffer.alloc(DISK_SIZE)

  before(async () => {
    s3 = await startS3rver(['nbd-test'])
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-nbd-libnbd-'))
    serveArgs = ['s3://nbd-test', '--endpoint', s3.endpoint, '--cache-dir', join(scratch, 'cache'), '--nbd-chunk-size', '1M', '--nbd-cache-size', '4M']
    serve = await startServe([...serveArgs, '--nbd', '127.0.0.1:0', '--nbd-device', 'disk=12M', '--nbd-device', 'small=1M'], {env: s3.env})
    url = (name) => `nbd://127.0.0.1:${serve.port}/${name}`
    store = await S3Store.open('nbd-test', '', {endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS})
    randomBytes(3 * MiB + 12345).copy(image, 0)
    randomBytes(2 * MiB).copy(image, 8 * MiB + 100)
    await writeFile(join(scratch, 'image.raw'), image)
  })

  after(async () => {
    await serve?.stop('SIGKILL')
    await store?.close()
    await s3?.stop()
    await rm(scratch, {recursive: true, force: true})
  })

  it('lists both exports with nbdinfo --list and tells their sizes', async () => {
    const {stdout} = await runTool('nbdinfo', ['--list', `nbd://127.0.0.1:${serve.port}`])
    assert.match(stdout, /export="disk"/)
    assert.match(stdout, /export="small"/)
    assert.match(stdout, /can_multi_conn: true/)
    assert.equal((await runTool('nbdinfo', ['--size', url('disk')])).stdout.trim(), String(DISK_SIZE))
    assert.equal((await runTool('nbdinfo', ['--size', url('small')])).stdout.trim(), String(MiB))
    assert.match(serve.log(), /nbd-client -N disk 127\.0\.0\.1 \d+ \/dev\/nbd0/)
  })

  it('round-trips an image through nbdcopy in and out with the same sha256', async () => {
    await runTool('nbdcopy', [join(scratch, 'image.raw'), url('disk')])
    await runTool('nbdcopy', [url('disk'), join(scratch, 'out.raw')])
    assert.equal(sha256(await readFile(join(scratch, 'out.raw'))), sha256(image))
  })

  it('agrees with qemu-img convert and compare, and takes writes from qemu-img', async () => {
    await runTool('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', join(scratch, 'image.raw'), url('disk')])
    await runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', url('disk'), join(scratch, 'converted.raw')])
    assert.equal(sha256(await readFile(join(scratch, 'converted.raw'))), sha256(image))
    const small = randomBytes(MiB)
    await writeFile(join(scratch, 'small.raw'), small)
    await runTool('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', join(scratch, 'small.raw'), url('small')])
    await runTool('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', join(scratch, 'small.raw'), url('small')])
  })

  it('refuses to export a device a running serve exports', async () => {
    await assert.rejects(
      startServe([...serveArgs, '--nbd', '127.0.0.1:0', '--nbd-device', 'small=1M'], {env: s3.env}),
      /the device small is already served \(.*process \d+/,
    )
  })

  it('refuses --nbd without a device, a device given twice, a bad size and a read-only new device, before listening', async () => {
    const refused: Array<[string[], RegExp]> = [
      [[], /--nbd needs at least one --nbd-device/],
      [['--nbd-device', 'x=1M', '--nbd-device', 'x=2M'], /the device x is given twice/],
      [['--nbd-device', 'x=lots'], /invalid size of device x/],
      [['--nbd-device', 'x=1M', '--read-only'], /no such device; a read-only open does not create one/],
    ]
    for (const [args, message] of refused) {
      await assert.rejects(startServe([...serveArgs, '--nbd', '127.0.0.1:0', ...args], {env: s3.env}), message)
    }
  })

  it('serves NFS beside NBD when both are given, and stops both on SIGTERM', async () => {
    const both = await startServe(['s3://nbd-test', '--endpoint', s3.endpoint, '--cache-dir', join(scratch, 'cache-both'), '--nfs', '127.0.0.1:0', '--nbd', '127.0.0.1:0', '--nbd-device', 'both=1M'], {env: s3.env})
    try {
      const nbdPort = /over NBD on 127\.0\.0\.1:(\d+)/.exec(both.log())?.[1]
      assert.ok(nbdPort, both.log())
      assert.equal((await runTool('nbdinfo', ['--size', `nbd://127.0.0.1:${nbdPort}/both`])).stdout.trim(), String(MiB))
    } finally {
      assert.equal((await both.stop('SIGTERM')).code, 0, both.log())
    }
  })

  it('stops on SIGTERM with every chunk in the bucket, whole, and nothing stored for zeros', async () => {
    const {code} = await serve.stop('SIGTERM')
    assert.equal(code, 0, serve.log())
    const keys = await allKeys(store, chunksPrefix('disk'))
    const rebuilt = Buffer.alloc(DISK_SIZE)
    for (const key of keys) {
      const body = await readObject(store, key)
      assert.equal(body.length, CHUNK, key)
      body.copy(rebuilt, Number.parseInt(key.slice(chunksPrefix('disk').length), 16) * CHUNK)
    }
    assert.equal(sha256(rebuilt), sha256(image))
    assert.ok(keys.length <= 7, `${keys.length} chunk objects: the zero chunks between the random parts cost nothing`)
  })

  it('exports a device read-only with --read-only: nbdinfo says so, nbdcopy into it fails, reads work', async () => {
    const readOnly = await startServe([...serveArgs, '--read-only', '--nbd', '127.0.0.1:0', '--nbd-device', 'disk=12M'], {env: s3.env})
    try {
      const at = `nbd://127.0.0.1:${readOnly.port}/disk`
      assert.match((await runTool('nbdinfo', [at])).stdout, /is_read_only: true/)
      await assert.rejects(runTool('nbdcopy', [join(scratch, 'small.raw'), at]))
      await runTool('nbdcopy', [at, join(scratch, 'read-only.raw')])
      assert.equal(sha256(await readFile(join(scratch, 'read-only.raw'))), sha256(image))
      assert.match(readOnly.log(), /disk \(12582912 bytes, read-only\)/)
    } finally {
      assert.equal((await readOnly.stop('SIGTERM')).code, 0, readOnly.log())
    }
    await assert.rejects(startServe([...serveArgs, '--read-only', '--nbd', '127.0.0.1:0', '--nbd-device', 'disk=13M'], {env: s3.env}),
      /a read-only open does not resize it/)
    const keys = await allKeys(store, chunksPrefix('disk'))
    const rebuilt = Buffer.alloc(DISK_SIZE)
    for (const key of keys) (await readObject(store, key)).copy(rebuilt, Number.parseInt(key.slice(chunksPrefix('disk').length), 16) * CHUNK)
    assert.equal(sha256(rebuilt), sha256(image), 'the refused writes changed nothing in the bucket')
  })
})
