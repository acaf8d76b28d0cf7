import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {ChunkDevice} from '../../src/core/blockdev/chunk-device.js'
import {manifestKey} from '../../src/core/blockdev/layout.js'
import {FileStore} from '../../src/core/store/file-store.js'
import {assertCliBuilt, lines, runCli} from '../helpers/cli.js'
import {assertSuccess} from './expect.js'

const CHUNK = 64 * 1024

describe('zerofs ls --devices', () => {
  let scratch: string
  let storeDir: string

  before(async () => {
    assertCliBuilt()
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-ls-devices-'))
    storeDir = join(scratch, 'store')
    await mkdir(storeDir)
    const store = new FileStore(storeDir)
    for (const [name, size] of [['disk', 16 * CHUNK], ['empty', 4 * CHUNK]] as const) {
      const device = await ChunkDevice.open({store, cacheDir: join(scratch, 'cache'), name, size, chunkSize: CHUNK})
      if (name === 'disk') await device.write(CHUNK - 1, Buffer.alloc(2, 1))
      await device.close()
    }
    await store.put(manifestKey('broken'), Buffer.from('not json'))
    await store.close()
  })

  after(async () => {
    await rm(scratch, {recursive: true, force: true})
  })

  it('prints NAME SIZE CHUNK-SIZE CHUNKS STORED per device, and why a manifest cannot be read', async () => {
    const result = await runCli(['ls', '--devices', storeDir])
    assertSuccess(result)
    const [header, ...rows] = lines(result.stdout).map((line) => line.trim().split(/\s+/))
    assert.deepEqual(header, ['NAME', 'SIZE', 'CHUNK-SIZE', 'CHUNKS', 'STORED'])
    assert.deepEqual(rows[0].slice(0, 3), ['broken', '?', '?'])
    assert.deepEqual(rows.slice(1), [['disk', String(16 * CHUNK), String(CHUNK), '2', String(2 * CHUNK)], ['empty', String(4 * CHUNK), String(CHUNK), '0', '0']])
  })

  it('returns the same as JSON, and hides .zerofs from a plain ls', async () => {
    const result = await runCli(['ls', '--devices', '--json', storeDir])
    assertSuccess(result)
    const {devices} = JSON.parse(result.stdout.toString()) as {devices: Array<Record<string, unknown>>}
    assert.deepEqual(devices.map((device) => device.name), ['broken', 'disk', 'empty'])
    assert.match(String(devices[0].error), /not JSON/)
    assert.deepEqual(devices[1], {name: 'disk', size: 16 * CHUNK, chunkSize: CHUNK, chunks: 2, storedBytes: 2 * CHUNK})
    const plain = await runCli(['ls', storeDir])
    assertSuccess(plain)
    assert.deepEqual(lines(plain.stdout), [])
  })
})
