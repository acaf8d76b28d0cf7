import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import type {Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {handshakeServer} from '../helpers/guest-handshake.js'
import {runInGuest} from '../helpers/kclient.js'
import {startServe, type ServeProcess} from '../helpers/nfs-serve.js'

/**
 * The Linux kernel's NBD client (one kclient guest boot, nbd-kernel/lifecycle.sh) on an ext4 made on
 * a zerofs device, across a kill -9 and restart of serve. It runs on a file store: s3rver writes the
 * partial body of a PUT cut off by a kill over what the restarted server uploads later (see
 * nfs-kernel-lifecycle.test.ts); S3 itself never stores a PUT shorter than its Content-Length.
 */

const script = fileURLToPath(new URL('nbd-kernel/lifecycle.sh', import.meta.url))
const STEPS = ['connect', 'mkfs', 'write', 'umount-disconnect', 'kill-restart', 'reconnect', 'fsck-clean', 'data-intact', 'write-after-restart']

describe('the Linux kernel NBD client with ext4 across a kill -9 of serve', {timeout: 20 * 60_000}, () => {
  let scratch: string
  let serve: ServeProcess
  let handshake: Server
  let handshakePort: number
  const events: string[] = []

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-nbd-kernel-'))
    await mkdir(join(scratch, 'store'))
    const args = [join(scratch, 'store'), '--cache-dir', join(scratch, 'cache'), '--nbd-device', 'disk=64M', '--nbd-chunk-size', '1M']
    serve = await startServe([...args, '--nbd', '127.0.0.1:0'])
    const port = serve.port
    ;({server: handshake, port: handshakePort} = await handshakeServer(async () => {
      events.push('kill')
      await serve.stop('SIGKILL')
      serve = await startServe([...args, '--nbd', `127.0.0.1:${port}`])
      events.push('restarted')
    }))
  })

  after(async () => {
    await new Promise((resolve) => handshake?.close(resolve))
    await serve?.stop('SIGKILL')
    await rm(scratch, {recursive: true, force: true})
  })

  it('makes, fills, checks and remounts an ext4 through nbd-client -N, the server killed and restarted between', async () => {
    const result = await runInGuest(script, [String(serve.port), String(handshakePort), 'disk'], {
      timeoutSeconds: 900,
      onLine: (line) => process.stdout.write(`# guest: ${line}\n`),
    })
    assert.equal(result.code, 0, result.output)
    for (const step of STEPS) assert.match(result.output, new RegExp(`^ok ${step}$`, 'm'))
    assert.doesNotMatch(result.output, /^not ok/m)
    assert.deepEqual(events, ['kill', 'restarted'])
  })

  it('stops the restarted serve cleanly on SIGTERM', async () => {
    const {code} = await serve.stop('SIGTERM')
    assert.equal(code, 0, serve.log())
    assert.match(serve.log(), /uploading dirty chunks/)
  })
})
