import assert from 'node:assert/strict'
import {chmod, chown, mkdir, mkdtemp, rm, symlink, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {awsHeadObject, awsPutObject} from '../helpers/aws.js'
import {assertCliBuilt, lines, runCli} from '../helpers/cli.js'
import {rclone, rclonePath} from '../helpers/rclone.js'
import {mountS3fs} from '../helpers/s3fs.js'
import {startS3rver, type S3rverHandle} from '../helpers/s3rver.js'
import {runTool} from '../helpers/run-tool.js'

/**
 * Objects written by the AWS CLI (with s3fs-style metadata), by rclone and through an s3fs mount
 * show the attributes those tools meant in `zerofs ls --json` and `zerofs ls -l`.
 */

const BUCKET = 'zerofs-interop'

interface JsonEntry {
  name: string
  path: string
  type: string
  size: number
  mode: number
  uid: number
  gid: number
  mtime: string
  target?: string
}

let server: S3rverHandle
let scratch: string

before(async () => {
  assertCliBuilt()
  server = await startS3rver([BUCKET])
  scratch = await mkdtemp(join(tmpdir(), 'zerofs-foreign-'))
})

after(async () => {
  await server?.stop()
  if (scratch) await rm(scratch, {recursive: true, force: true})
})

/** `zerofs ls ARGS… s3://BUCKET/PATH`, each run with a fresh metadata cache, so it sees the bucket as it is now. */
async function zerofsLs(path: string, args: string[]): Promise<string> {
  const cacheDir = await mkdtemp(join(scratch, 'cache-'))
  const result = await runCli(['ls', ...args, `s3://${BUCKET}/${path}`, '--endpoint', server.endpoint, '--cache-dir', cacheDir], {env: server.env})
  assert.equal(result.code, 0, `zerofs ls ${args.join(' ')} ${path} failed: ${result.stderr}`)
  return result.stdout.toString('utf8')
}

async function listJson(path: string): Promise<Map<string, JsonEntry>> {
  const {entries} = JSON.parse(await zerofsLs(path, ['--json'])) as {entries: JsonEntry[]}
  return new Map(entries.map((entry) => [entry.name, entry]))
}

function entry(entries: Map<string, JsonEntry>, name: string): JsonEntry {
  const found = entries.get(name)
  assert.ok(found, `${name} is not listed; listed: ${[...entries.keys()].join(', ')}`)
  return found
}

function mtimeSeconds(listed: JsonEntry): number {
  return Math.floor(Date.parse(listed.mtime) / 1000)
}

/** The `ls -l` line for `name`: `MODE UID GID SIZE YYYY-MM-DD HH:MM NAME[ -> TARGET]`, split into fields. */
function longLine(output: string, name: string): string[] {
  const line = lines(output).find((candidate) => candidate.endsWith(` ${name}`) || candidate.includes(` ${name} -> `))
  assert.ok(line, `no ls -l line for ${name} in:\n${output}`)
  return line.trim().split(/\s+/)
}

describe('objects written by the AWS CLI with s3fs metadata', () => {
  before(async () => {
    const put = (key: string, body: string, metadata?: Record<string, string>, contentType?: string) =>
      awsPutObject(server, {bucket: BUCKET, key, body, metadata, contentType})
    await put('aws/run.sh', '#!/bin/sh\necho hi\n', {mode: String(0o100755), uid: '1234', gid: '5678', mtime: '1600000000'})
    await put('aws/fraction.txt', 'x', {mode: String(0o100600), uid: '0', gid: '0', mtime: '1600000000.75'})
    await put('aws/plain.txt', 'no metadata at all')
    await put('aws/private/', '', {mode: String(0o040700), uid: '1234', gid: '5678', mtime: '1500000000'}, 'application/x-directory')
    // s3fs 1.90's mkdir stores the permission bits alone, without S_IFDIR.
    await put('aws/typeless/', '', {mode: '493', uid: '0', gid: '0', mtime: '1500000000'}, 'application/x-directory')
    await put('aws/link', '../elsewhere/target.txt', {mode: String(0o120777), uid: '1234', gid: '5678', mtime: '1400000000'})
    await put('aws/pipe', '', {mode: String(0o010640), uid: '1234', gid: '5678', mtime: '1400000000'})
  })

  it('shows mode, uid, gid and mtime of a file', async () => {
    const runSh = entry(await listJson('aws'), 'run.sh')
    assert.deepEqual(
      {type: runSh.type, mode: runSh.mode, uid: runSh.uid, gid: runSh.gid, size: runSh.size, mtime: runSh.mtime},
      {type: 'file', mode: 0o100755, uid: 1234, gid: 5678, size: 18, mtime: '2020-09-13T12:26:40.000Z'},
    )
  })

  it('keeps a fractional mtime', async () => {
    assert.equal(entry(await listJson('aws'), 'fraction.txt').mtime, '2020-09-13T12:26:40.750Z')
  })

  it('gives an object without metadata the defaults: 0644, our uid/gid, LastModified', async () => {
    const plain = entry(await listJson('aws'), 'plain.txt')
    const head = await awsHeadObject(server, BUCKET, 'aws/plain.txt')
    assert.equal(plain.type, 'file')
    assert.equal(plain.mode, 0o100644)
    assert.equal(plain.uid, process.getuid?.())
    assert.equal(plain.gid, process.getgid?.())
    assert.equal(mtimeSeconds(plain), Date.parse(head.LastModified) / 1000)
  })

  it('shows a directory marker with its mode, also when the mode lacks the type bits', async () => {
    const entries = await listJson('aws')
    const privateDir = entry(entries, 'private')
    assert.deepEqual(
      {type: privateDir.type, mode: privateDir.mode, uid: privateDir.uid, gid: privateDir.gid, mtime: mtimeSeconds(privateDir)},
      {type: 'dir', mode: 0o040700, uid: 1234, gid: 5678, mtime: 1500000000},
    )
    const typeless = entry(entries, 'typeless')
    assert.equal(typeless.type, 'dir')
    assert.equal(typeless.mode, 0o040755)
  })

  it('shows a symlink with its target, and a FIFO', async () => {
    const entries = await listJson('aws')
    const link = entry(entries, 'link')
    assert.deepEqual(
      {type: link.type, mode: link.mode, target: link.target, uid: link.uid, mtime: mtimeSeconds(link)},
      {type: 'symlink', mode: 0o120777, target: '../elsewhere/target.txt', uid: 1234, mtime: 1400000000},
    )
    const pipe = entry(entries, 'pipe')
    assert.equal(pipe.type, 'fifo')
    assert.equal(pipe.mode, 0o010640)
  })

  it('prints the same in ls -l', async () => {
    const output = await zerofsLs('aws', ['-l'])
    assert.deepEqual(longLine(output, 'run.sh'), ['-rwxr-xr-x', '1234', '5678', '18', '2020-09-13', '12:26', 'run.sh'])
    const privateDir = longLine(output, 'private')
    assert.deepEqual([...privateDir.slice(0, 3), ...privateDir.slice(-3)], ['drwx------', '1234', '5678', '2017-07-14', '02:40', 'private'])
    assert.deepEqual(longLine(output, 'link').slice(0, 3), ['lrwxrwxrwx', '1234', '5678'])
    assert.deepEqual(longLine(output, 'link').slice(-3), ['link', '->', '../elsewhere/target.txt'])
    assert.equal(longLine(output, 'pipe')[0], 'prw-r-----')
  })
})

describe('objects written by rclone', () => {
  before(async () => {
    const local = join(scratch, 'rclone-source')
    await mkdir(join(local, 'tree', 'sub'), {recursive: true})
    await writeFile(join(local, 'single.txt'), 'copied with copyto\n')
    await writeFile(join(local, 'tree', 'a.txt'), 'a\n')
    await writeFile(join(local, 'tree', 'sub', 'b.txt'), 'bb\n')
    await utimes(join(local, 'single.txt'), 1500000000.25, 1500000000.25)
    await utimes(join(local, 'tree', 'a.txt'), 1400000000, 1400000000)
    await utimes(join(local, 'tree', 'sub', 'b.txt'), 1300000000.5, 1300000000.5)
    await rclone(server, ['copyto', join(local, 'single.txt'), rclonePath(BUCKET, 'rclone/single.txt')])
    await rclone(server, ['copy', join(local, 'tree'), rclonePath(BUCKET, 'rclone/tree')])
  })

  it('shows the mtime rclone stored (its `mtime` metadata), to the second and below', async () => {
    const single = entry(await listJson('rclone'), 'single.txt')
    assert.equal(single.type, 'file')
    assert.equal(single.size, 19)
    assert.equal(single.mtime, '2017-07-14T02:40:00.250Z')
    // rclone stores no mode: zerofs's default.
    assert.equal(single.mode, 0o100644)
  })

  it('shows a tree copied by rclone, whose directories are implicit (rclone writes no markers)', async () => {
    const top = await listJson('rclone/tree')
    assert.equal(entry(top, 'sub').type, 'dir')
    assert.equal(entry(top, 'sub').mode, 0o040755)
    assert.equal(mtimeSeconds(entry(top, 'a.txt')), 1400000000)
    const sub = await listJson('rclone/tree/sub')
    assert.equal(entry(sub, 'b.txt').mtime, '2011-03-13T07:06:40.500Z')
    assert.equal(entry(sub, 'b.txt').size, 3)
  })
})

describe('files, directories and symlinks made through an s3fs mount', () => {
  before(async () => {
    const mount = await mountS3fs(server, BUCKET)
    try {
      const root = join(mount.dir, 's3fs')
      await mkdir(root)
      await mkdir(join(root, 'shared'))
      await chmod(join(root, 'shared'), 0o750)
      await chown(join(root, 'shared'), 1234, 5678)
      await mkdir(join(root, 'plain'), {mode: 0o755})
      await writeFile(join(root, 'notes.txt'), 'written through s3fs\n')
      await chmod(join(root, 'notes.txt'), 0o640)
      await chown(join(root, 'notes.txt'), 1234, 5678)
      // s3fs 1.90 ignores a utimens that leaves atime alone (touch -m), so set both.
      await utimes(join(root, 'notes.txt'), 1400000000, 1400000000)
      await symlink('../aws/run.sh', join(root, 'link'))
      await runTool('mkfifo', ['-m', '0600', join(root, 'pipe')])
    } finally {
      // Unmounting flushes everything s3fs still holds.
      await mount.unmount()
    }
  })

  it('shows a file with the mode, owner and mtime set through the mount', async () => {
    const notes = entry(await listJson('s3fs'), 'notes.txt')
    assert.deepEqual(
      {type: notes.type, mode: notes.mode, uid: notes.uid, gid: notes.gid, size: notes.size, mtime: mtimeSeconds(notes)},
      {type: 'file', mode: 0o100640, uid: 1234, gid: 5678, size: 21, mtime: 1400000000},
    )
  })

  it('shows directories made by mkdir, with the mode and owner set by chmod and chown', async () => {
    const entries = await listJson('s3fs')
    const shared = entry(entries, 'shared')
    assert.deepEqual({type: shared.type, mode: shared.mode, uid: shared.uid, gid: shared.gid}, {type: 'dir', mode: 0o040750, uid: 1234, gid: 5678})
    const plain = entry(entries, 'plain')
    assert.equal(plain.type, 'dir')
    assert.equal(plain.mode & 0o7777, 0o755 & ~process.umask())
  })

  it('shows a symlink made by ln -s with its target, and a FIFO made by mkfifo', async () => {
    const entries = await listJson('s3fs')
    const link = entry(entries, 'link')
    assert.equal(link.type, 'symlink')
    assert.equal(link.target, '../aws/run.sh')
    assert.equal(link.mode, 0o120777)
    const pipe = entry(entries, 'pipe')
    assert.equal(pipe.type, 'fifo')
    assert.equal(pipe.mode, 0o010600)
  })

  it('prints the same in ls -l', async () => {
    const output = await zerofsLs('s3fs', ['-l'])
    assert.deepEqual(longLine(output, 'notes.txt'), ['-rw-r-----', '1234', '5678', '21', '2014-05-13', '16:53', 'notes.txt'])
    assert.deepEqual(longLine(output, 'shared').slice(0, 3), ['drwxr-x---', '1234', '5678'])
    assert.deepEqual(longLine(output, 'link').slice(-3), ['link', '->', '../aws/run.sh'])
  })
})
