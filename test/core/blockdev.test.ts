import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readdir} from 'node:fs/promises'
import {createInterface} from 'node:readline'
import {it, type TestContext} from 'node:test'
import {fileURLToPath} from 'node:url'
import {ChunkDevice, type OpenDeviceOptions} from '../../src/core/blockdev/chunk-device.js'
import {chunkFilesDir, deviceCacheDir} from '../../src/core/blockdev/device-cache-dir.js'
import {chunkKey, chunksPrefix, manifestKey} from '../../src/core/blockdev/layout.js'
import {isFsError} from '../../src/core/errors.js'
import {CRASH_DEVICE, crashPattern, type BlockdevCrashConfig} from './blockdev-crash-pattern.js'
import {allKeys, describeOnStores, readObject, type FsWorld} from './fs-stores.js'

const CHUNK = 64 * 1024
const SIZE = 16 * CHUNK

const childScript = fileURLToPath(new URL('blockdev-crash-child.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

function pattern(length: number, seed: number): Buffer {
  const data = Buffer.alloc(length)
  for (let i = 0; i < length; i++) data[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff
  return data
}

async function openDevice(world: FsWorld, options: Partial<OpenDeviceOptions> = {}): Promise<ChunkDevice> {
  return ChunkDevice.open({store: world.store, cacheDir: world.cacheDir, name: 'disk', size: SIZE, chunkSize: CHUNK, cacheSize: 4 * CHUNK, ...options})
}

async function chunkObjects(world: FsWorld, name = 'disk'): Promise<Map<number, Buffer>> {
  const chunks = new Map<number, Buffer>()
  for (const key of await allKeys(world.store, chunksPrefix(name))) {
    chunks.set(Number.parseInt(key.slice(chunksPrefix(name).length), 16), await readObject(world.store, key))
  }
  return chunks
}

/** A device whose first three chunks hold a pattern in the store only: written, closed, opened again. */
async function reopenedWithPattern(world: FsWorld, seed: number): Promise<{device: ChunkDevice; data: Buffer}> {
  const first = await openDevice(world)
  const data = pattern(3 * CHUNK, seed)
  await first.write(0, data)
  await first.close()
  return {device: await openDevice(world), data}
}

/** A reopened device whose stored chunks are read, checked, and found to have left no local copies. */
async function readWithoutLocalCopies(t: TestContext, newWorld: () => Promise<FsWorld>, seed: number): Promise<{world: FsWorld; device: ChunkDevice; data: Buffer}> {
  const world = await newWorld()
  t.after(() => world.dispose())
  const {device, data} = await reopenedWithPattern(world, seed)
  assert.ok((await device.read(100, 3 * CHUNK - 200)).equals(data.subarray(100, 3 * CHUNK - 100)))
  assert.deepEqual(await readdir(chunkFilesDir(deviceCacheDir(world.cacheDir, 'disk'))), [], 'reading costs no local copies')
  return {world, device, data}
}

/** Runs the crash child until it is ready, then kills it with SIGKILL. */
async function runAndKill(world: FsWorld, scenario: BlockdevCrashConfig['scenario']): Promise<void> {
  const config: BlockdevCrashConfig = {store: world.location, cacheDir: world.cacheDir, scenario}
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, JSON.stringify(config)], {cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit']})
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({input: child.stdout}).on('line', (line) => {
        if ((JSON.parse(line) as {ready?: boolean}).ready) resolve()
      })
      child.once('exit', (code) => reject(new Error(`the child exited with ${code} before it was ready`)))
    })
  } finally {
    child.kill('SIGKILL')
    await exited
  }
}

describeOnStores('blockdev: a device of chunk objects', (newWorld) => {
  it('reads zeros where nothing was written, and a new device costs only its manifest', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const device = await openDevice(world)
    assert.equal(device.size, SIZE)
    assert.ok((await device.read(0, SIZE)).equals(Buffer.alloc(SIZE)))
    await device.close()
    assert.deepEqual(await allKeys(world.store), [manifestKey('disk')])
    assert.deepEqual(JSON.parse((await readObject(world.store, manifestKey('disk'))).toString()), {format: 1, size: SIZE, chunkSize: CHUNK})
  })

  it('keeps partial writes across chunk boundaries and uploads whole chunks on flush', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const device = await openDevice(world)
    const data = pattern(CHUNK + 5000, 1)
    await device.write(CHUNK - 2000, data)
    await device.write(10, Buffer.from('hello'))
    await device.flush()
    const expected = Buffer.alloc(SIZE)
    data.copy(expected, CHUNK - 2000)
    expected.write('hello', 10)
    assert.ok((await device.read(0, SIZE)).equals(expected))
    const chunks = await chunkObjects(world)
    assert.deepEqual([...chunks.keys()], [0, 1, 2])
    for (const [index, body] of chunks) assert.ok(body.equals(expected.subarray(index * CHUNK, (index + 1) * CHUNK)), `chunk ${index}`)
    await device.close()
  })

  it('reads the base of a partly written chunk from the store once it is no longer cached', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const reopened = await reopenedWithPattern(world, 2)
    let {device} = reopened
    const base = reopened.data
    await device.write(CHUNK + 100, Buffer.from('patched'))
    await device.close()
    base.write('patched', CHUNK + 100)
    assert.ok((await chunkObjects(world)).get(1)!.equals(base.subarray(CHUNK, 2 * CHUNK)))
    device = await openDevice(world)
    assert.ok((await device.read(0, 3 * CHUNK)).equals(base))
    await device.close()
  })

  it('trims whole chunks by deleting them and zeroes partial ranges; NO_HOLE writes zeros', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const device = await openDevice(world)
    await device.write(0, pattern(4 * CHUNK, 3))
    await device.flush()
    await device.trim(CHUNK / 2, 2 * CHUNK) // half of 0, all of 1, half of 2
    await device.zero(3 * CHUNK, CHUNK, {noHole: true})
    await device.flush()
    const expected = pattern(4 * CHUNK, 3)
    expected.fill(0, CHUNK / 2, 5 * CHUNK / 2)
    expected.fill(0, 3 * CHUNK, 4 * CHUNK)
    assert.ok((await device.read(0, 4 * CHUNK)).equals(expected))
    const chunks = await chunkObjects(world)
    assert.deepEqual([...chunks.keys()], [0, 2, 3], 'the wholly trimmed chunk is deleted, the NO_HOLE one kept')
    assert.ok(chunks.get(3)!.equals(Buffer.alloc(CHUNK)))
    await device.zero(3 * CHUNK, CHUNK)
    await device.flush()
    assert.deepEqual([...(await chunkObjects(world)).keys()], [0, 2])
    await device.close()
  })

  it('answers reads of a fetched chunk from memory until a write, zero or trim changes it', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const reopened = await reopenedWithPattern(world, 6)
    let {device} = reopened
    const {data} = reopened
    assert.ok((await device.read(CHUNK, CHUNK)).equals(data.subarray(CHUNK, 2 * CHUNK)), 'fetched')
    await device.write(CHUNK + 10, Buffer.from('changed'))
    data.write('changed', CHUNK + 10)
    assert.ok((await device.read(0, 3 * CHUNK)).equals(data), 'a write after the fetch is read back')
    await device.zero(2 * CHUNK + 5, 20)
    data.fill(0, 2 * CHUNK + 5, 2 * CHUNK + 25)
    await device.trim(0, CHUNK)
    data.fill(0, 0, CHUNK)
    assert.ok((await device.read(0, 3 * CHUNK)).equals(data), 'zeros and trims after the fetch are read back')
    await device.close()
    device = await openDevice(world)
    assert.ok((await device.read(0, 3 * CHUNK)).equals(data), 'and stored')
    await device.close()
  })

  it('allocates never-written chunks for a NO_HOLE zero, whole and partial, and leaves them absent without it', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const device = await openDevice(world)
    await device.zero(CHUNK, CHUNK)
    await device.zero(4 * CHUNK + 10, 100)
    await device.flush()
    assert.deepEqual([...(await chunkObjects(world)).keys()], [], 'plain zeros of never-written chunks cost nothing')
    await device.zero(CHUNK, CHUNK, {noHole: true})
    await device.zero(4 * CHUNK + 10, 100, {noHole: true})
    await device.flush()
    const chunks = await chunkObjects(world)
    assert.deepEqual([...chunks.keys()], [1, 4])
    for (const chunk of chunks.values()) assert.ok(chunk.equals(Buffer.alloc(CHUNK)))
    assert.ok((await device.read(0, SIZE)).equals(Buffer.alloc(SIZE)))
    await device.close()
  })

  it('grows when opened with a larger size and refuses to shrink unless allowed', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    let device = await openDevice(world)
    const data = pattern(SIZE, 4)
    await device.write(0, data)
    await device.close()
    device = await openDevice(world, {size: 2 * SIZE})
    assert.equal(device.size, 2 * SIZE)
    assert.ok((await device.read(0, SIZE)).equals(data))
    assert.ok((await device.read(SIZE, SIZE)).equals(Buffer.alloc(SIZE)))
    await device.close()
    await assert.rejects(openDevice(world, {size: SIZE / 2}), (error) => isFsError(error, 'EINVAL') && /shrink/.test(error.message))
    const newSize = 4 * CHUNK + 100
    device = await openDevice(world, {size: newSize, allowShrink: true})
    assert.equal(device.size, newSize)
    await device.close()
    assert.deepEqual([...(await chunkObjects(world)).keys()], [0, 1, 2, 3, 4])
    device = await openDevice(world, {size: SIZE})
    const expected = Buffer.alloc(SIZE)
    data.copy(expected, 0, 0, newSize)
    assert.ok((await device.read(0, SIZE)).equals(expected), 'nothing past the shrunk end comes back when the device grows again')
    await device.close()
  })

  it('refuses requests beyond the end, a missing device without a size, and a second open', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await assert.rejects(openDevice(world, {size: undefined}), (error) => isFsError(error, 'ENOENT'))
    const device = await openDevice(world)
    await assert.rejects(device.read(SIZE - 10, 11), (error) => isFsError(error, 'EINVAL'))
    await assert.rejects(device.write(SIZE, Buffer.from('x')), (error) => isFsError(error, 'EINVAL'))
    await assert.rejects(device.zero(-1, 2), (error) => isFsError(error, 'EINVAL'))
    await assert.rejects(openDevice(world), /already served/)
    await device.close()
    const again = await openDevice(world)
    await again.close()
  })

  it('keeps the local cache within its size while more chunks than it holds are written and read', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const device = await openDevice(world)
    const data = pattern(SIZE, 5)
    await Promise.all(Array.from({length: SIZE / 8192}, (_, i) => device.write(i * 8192, data.subarray(i * 8192, (i + 1) * 8192))))
    const files = await readdir(chunkFilesDir(deviceCacheDir(world.cacheDir, 'disk')))
    assert.ok(files.length <= 4, `${files.length} local chunks`)
    assert.ok((await device.read(0, SIZE)).equals(data))
    await device.flush()
    assert.equal((await chunkObjects(world)).size, 16)
    await device.close()
  })

  it('has every flushed write in the store after a kill -9', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await runAndKill(world, 'flushed')
    const chunks = await chunkObjects(world, CRASH_DEVICE.name)
    const expected = Buffer.alloc(CRASH_DEVICE.size)
    for (const {offset, data} of crashPattern(1)) data.copy(expected, offset)
    for (const chunk of [0, 1, 3, 4, 7, 8]) {
      assert.ok(chunks.get(chunk)?.equals(expected.subarray(chunk * CRASH_DEVICE.chunkSize, (chunk + 1) * CRASH_DEVICE.chunkSize)), `chunk ${chunk}`)
    }
  })

  it('uploads the chunks a killed process left dirty at the next open, and only whole chunks', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await runAndKill(world, 'unflushed')
    for (const body of (await chunkObjects(world, CRASH_DEVICE.name)).values()) assert.equal(body.length, CRASH_DEVICE.chunkSize)
    const device = await ChunkDevice.open({store: world.store, cacheDir: world.cacheDir, name: CRASH_DEVICE.name})
    await device.close()
    const expected = Buffer.alloc(CRASH_DEVICE.size)
    for (const {offset, data} of crashPattern(1)) data.copy(expected, offset)
    const chunks = await chunkObjects(world, CRASH_DEVICE.name)
    assert.deepEqual([...chunks.keys()], [0, 1, 3, 4, 7, 8])
    for (const [chunk, body] of chunks) assert.ok(body.equals(expected.subarray(chunk * CRASH_DEVICE.chunkSize, (chunk + 1) * CRASH_DEVICE.chunkSize)), `chunk ${chunk}`)
    assert.equal(chunkKey(CRASH_DEVICE.name, 8).endsWith('0000000000000008'), true)
  })
})

describeOnStores('blockdev: a device on a local store', (newWorld) => {
  it('reads chunks the cache does not hold straight from their objects, without local copies', async (t) => {
    const {device, data} = await readWithoutLocalCopies(t, newWorld, 7)
    await device.trim(CHUNK, CHUNK)
    await device.write(2 * CHUNK + 10, Buffer.from('after'))
    data.fill(0, CHUNK, 2 * CHUNK)
    data.write('after', 2 * CHUNK + 10)
    assert.ok((await device.read(0, 3 * CHUNK)).equals(data), 'a trim and a write after the reads are read back')
    await device.flush()
    assert.ok((await device.read(0, 3 * CHUNK)).equals(data), 'and once stored, from their new objects (not the files opened before)')
    await device.close()
  })
}, ['file'])

describeOnStores('blockdev: a device on an S3 store', (newWorld) => {
  it('reads chunks the cache does not hold into memory, without local copies; a chunk rewritten while a read of it was in flight reads as rewritten', async (t) => {
    const {world, device, data} = await readWithoutLocalCopies(t, newWorld, 8)
    // A partial write takes the bytes read as its base.
    await device.write(CHUNK + 10, Buffer.from('partial'))
    data.write('partial', CHUNK + 10)
    assert.ok((await device.read(0, 3 * CHUNK)).equals(data))

    // A chunk read while it is rewritten whole, stored, and pushed out of the cache by others:
    // whenever the read's fetch answers, the rewritten chunk is what is read afterwards.
    await device.close()
    const again = await openDevice(world)
    const racing = again.read(2 * CHUNK, CHUNK)
    const rewritten = pattern(CHUNK, 9)
    await again.write(2 * CHUNK, rewritten)
    await again.flush()
    await again.write(4 * CHUNK, pattern(6 * CHUNK, 10))
    await again.flush()
    await racing
    assert.ok((await again.read(2 * CHUNK, CHUNK)).equals(rewritten), 'the rewritten chunk, not the bytes fetched before')
    await again.close()
  })

  it('answers two sequential readers, each many requests ahead, from chunks fetched ahead a few at a time', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const first = await openDevice(world)
    const data = pattern(SIZE, 11)
    await first.write(0, data)
    await first.close()
    const device = await openDevice(world)
    const request = CHUNK / 4
    // Two regions read at once, every request of each sent before the first is answered (as a
    // copying client does): waited-for chunks overtake those queued ahead, and every byte is right.
    const readers = [0, SIZE / 2].map(async (start) => {
      const reads = []
      for (let offset = start; offset < start + SIZE / 2; offset += request) reads.push(device.read(offset, request))
      return Buffer.concat(await Promise.all(reads))
    })
    const [low, high] = await Promise.all(readers)
    assert.ok(Buffer.concat([low, high]).equals(data))
    assert.deepEqual(await readdir(chunkFilesDir(deviceCacheDir(world.cacheDir, 'disk'))), [], 'reading costs no local copies')
    await device.close()
  })
}, ['s3'])
