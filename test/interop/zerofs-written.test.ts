import assert from 'node:assert/strict'
import {lstat, mkdtemp, readFile, readlink, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {Fs} from '../../src/core/fs/fs.js'
import {ROOT_INO, type Ino} from '../../src/core/fs/types.js'
import {openStore} from '../../src/core/store/open-store.js'
import {rcloneLsl, rclonePath, type RcloneLslEntry} from '../helpers/rclone.js'
import {mountS3fs, type S3fsMount} from '../helpers/s3fs.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'

/**
 * What zerofs writes (through the POSIX core, as `serve` will) reads back with the intended
 * attributes in other tools: mtimes in `rclone lsl`, and mode, owner, mtime, symlink targets and
 * directory modes through an s3fs mount.
 */

const BUCKET = 'zerofs-written'
const OWNER = {uid: 1234, gid: 5678}
const FILE_TEXT = 'written by zerofs\n'

let server: S3rverHandle
let scratch: string

before(async () => {
  server = await startS3rver([BUCKET])
  scratch = await mkdtemp(join(tmpdir(), 'zerofs-written-'))
  // The store takes credentials from the SDK's default chain, as the CLI does.
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey
  process.env.AWS_REGION = 'us-east-1'
  const store = await openStore(`s3://${BUCKET}`, {endpoint: server.endpoint})
  try {
    const fs = await Fs.open({store, cacheDir: join(scratch, 'cache')})
    try {
      await writeTree(fs)
      await fs.flushAll()
    } finally {
      await fs.close()
    }
  } finally {
    await store.close()
  }
})

after(async () => {
  await server?.stop()
  if (scratch) await rm(scratch, {recursive: true, force: true})
})

/**
 * /zw            dir 0750 1234:5678
 * /zw/notes.txt  file 0640 1234:5678, mtime 1600000000 (set after the data was uploaded)
 * /zw/run.sh     file 0755, mtime 1500000000.25
 * /zw/empty      file 0600, never written
 * /zw/sub        dir 0700, mtime 1400000000
 * /zw/link       symlink -> ../elsewhere/target.txt
 * /zw/pipe       fifo 0644
 */
async function writeTree(fs: Fs): Promise<void> {
  const top = (await fs.mkdir(ROOT_INO, 'zw', {mode: 0o750, ...OWNER})).ino
  const writeFile = async (name: string, mode: number, data: string): Promise<Ino> => {
    const {ino} = await fs.create(top, name, {mode, ...OWNER, exclusive: true})
    await fs.write(ino, 0, Buffer.from(data))
    await fs.fsync(ino)
    return ino
  }
  const notes = await writeFile('notes.txt', 0o640, FILE_TEXT)
  await fs.setattr(notes, {mtime: {sec: 1600000000, nsec: 0}})
  const runSh = await writeFile('run.sh', 0o755, '#!/bin/sh\n')
  await fs.setattr(runSh, {mtime: {sec: 1500000000, nsec: 250_000_000}})
  await fs.create(top, 'empty', {mode: 0o600, ...OWNER, exclusive: true})
  const sub = (await fs.mkdir(top, 'sub', {mode: 0o700, ...OWNER})).ino
  await fs.setattr(sub, {mtime: {sec: 1400000000, nsec: 0}})
  await fs.symlink(top, 'link', '../elsewhere/target.txt', OWNER)
  await fs.mknod(top, 'pipe', {mode: 0o010644, ...OWNER})
}

describe('zerofs-written objects in rclone lsl', () => {
  let listed: Map<string, RcloneLslEntry>

  before(async () => {
    listed = new Map((await rcloneLsl(server, rclonePath(BUCKET, 'zw'))).map((entry) => [entry.path, entry]))
  })

  function file(path: string): RcloneLslEntry {
    const found = listed.get(path)
    assert.ok(found, `${path} not in rclone lsl: ${[...listed.keys()].join(', ')}`)
    return found
  }

  it('shows the mtime set by setattr after the upload', () => {
    assert.deepEqual(file('notes.txt'), {path: 'notes.txt', size: FILE_TEXT.length, mtimeSec: 1600000000, mtimeNsec: 0})
  })

  it('keeps sub-second mtimes', () => {
    assert.deepEqual(file('run.sh'), {path: 'run.sh', size: 10, mtimeSec: 1500000000, mtimeNsec: 250_000_000})
  })

  it('lists a never-written file as empty, and the symlink as its target text', () => {
    assert.equal(file('empty').size, 0)
    assert.equal(file('link').size, '../elsewhere/target.txt'.length)
  })
})

describe('zerofs-written objects through an s3fs mount', () => {
  let mount: S3fsMount

  before(async () => {
    mount = await mountS3fs(server, BUCKET, {options: ['ro']})
  })

  after(async () => {
    await mount?.unmount()
  })

  const path = (name: string): string => join(mount.dir, 'zw', name)

  it('shows a file with its mode, owner, mtime and bytes', async () => {
    const stats = await lstat(path('notes.txt'))
    assert.deepEqual(
      {mode: stats.mode, uid: stats.uid, gid: stats.gid, size: stats.size, mtime: Math.floor(stats.mtimeMs / 1000)},
      {mode: 0o100640, uid: OWNER.uid, gid: OWNER.gid, size: FILE_TEXT.length, mtime: 1600000000},
    )
    assert.equal(await readFile(path('notes.txt'), 'utf8'), FILE_TEXT)
  })

  it('shows an executable as executable, with its mtime to the second', async () => {
    const stats = await lstat(path('run.sh'))
    assert.equal(stats.mode, 0o100755)
    assert.equal(Math.floor(stats.mtimeMs / 1000), 1500000000)
  })

  it('shows an empty file', async () => {
    const stats = await lstat(path('empty'))
    assert.equal(stats.mode, 0o100600)
    assert.equal(stats.size, 0)
  })

  it('shows directories with their modes, owners and mtimes', async () => {
    const top = await lstat(join(mount.dir, 'zw'))
    assert.deepEqual({mode: top.mode, uid: top.uid, gid: top.gid}, {mode: 0o040750, ...OWNER})
    const sub = await lstat(path('sub'))
    assert.deepEqual({mode: sub.mode, uid: sub.uid, mtime: Math.floor(sub.mtimeMs / 1000)}, {mode: 0o040700, uid: OWNER.uid, mtime: 1400000000})
  })

  it('shows the symlink with its target', async () => {
    const stats = await lstat(path('link'))
    assert.ok(stats.isSymbolicLink())
    assert.equal(stats.uid, OWNER.uid)
    assert.equal(await readlink(path('link')), '../elsewhere/target.txt')
  })

  it('shows the FIFO', async () => {
    const stats = await lstat(path('pipe'))
    assert.ok(stats.isFIFO())
    assert.equal(stats.mode, 0o010644)
  })
})
