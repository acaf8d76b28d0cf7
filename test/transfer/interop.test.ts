import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {S3Store} from '../../src/core/store/s3-store.js'
import {Migration} from '../../src/core/transfer/migration.js'
import {rclone, rcloneLsl, rclonePath} from '../helpers/rclone.js'
import {runTool} from '../helpers/run-tool.js'
import {mountS3fs, type S3fsMount} from '../helpers/s3fs.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'
import {runCommand} from './cli.js'
import {FIFO, LARGE_FILE, largeContent, makeFixtureTree, OWNER} from './fixture-tree.js'

/**
 * What zerofs migrates reads back right through other tools (rclone lsl shows the source mtimes;
 * an s3fs mount shows modes, owners, mtimes, symlinks), and buckets written by other tools
 * (rclone copy, cp -a into an s3fs mount) verify against their source without false differences.
 */

const BUCKET = 'zerofs-interop-transfer'

describe('migrate and verify with rclone and s3fs', () => {
  let server: S3rverHandle
  let scratch: string
  let source: string

  before(async () => {
    server = await startS3rver([BUCKET])
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-interop-transfer-'))
    source = join(scratch, 'source')
    await makeFixtureTree(source)
    const store = await S3Store.open(BUCKET, 'migrated', {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS})
    try {
      const migration = await Migration.open({source: {kind: 'local', dir: source}, destination: {kind: 'store', store}, cacheDir: join(scratch, 'cache'), partSize: 5 * 1024 * 1024})
      try {
        assert.equal((await migration.run()).failed, 0)
      } finally {
        migration.close()
      }
    } finally {
      await store.close()
    }
  })

  after(async () => {
    await server?.stop()
    if (scratch) await rm(scratch, {recursive: true, force: true})
  })

  it('rclone lsl shows the migrated files with their source sizes and mtimes', async () => {
    const listed = new Map((await rcloneLsl(server, rclonePath(BUCKET, 'migrated'))).map((entry) => [entry.path, entry]))
    for (const path of ['docs/readme.txt', 'docs/run.sh', 'private/secret.txt', LARGE_FILE, 'ünïcødé/日本語.txt']) {
      const entry = listed.get(path)
      assert.ok(entry, `${path} is not in rclone lsl`)
      const stats = await lstat(join(source, path), {bigint: true})
      assert.equal(entry.size, Number(stats.size), path)
      assert.equal(entry.mtimeSec, Number(stats.mtimeNs / 1_000_000_000n), path)
      // rclone parses the mtime as a float64: exact to well under a microsecond.
      assert.ok(Math.abs(entry.mtimeNsec - Number(stats.mtimeNs % 1_000_000_000n)) < 1000, `${path}: ${entry.mtimeNsec}`)
    }
  })

  describe('through an s3fs mount', () => {
    let mount: S3fsMount

    before(async () => {
      mount = await mountS3fs(server, BUCKET, {prefix: 'migrated', options: ['ro']})
    })

    after(async () => {
      await mount?.unmount()
    })

    it('shows files with their modes, owners, mtimes and bytes', async () => {
      for (const path of ['docs/readme.txt', 'private/secret.txt', 'docs/run.sh', 'readonly/fixed.txt']) {
        const [mounted, original] = await Promise.all([lstat(join(mount.dir, path)), lstat(join(source, path))])
        assert.deepEqual(
          {mode: mounted.mode, uid: mounted.uid, gid: mounted.gid, size: mounted.size, mtime: Math.floor(mounted.mtimeMs / 1000)},
          {mode: original.mode, uid: original.uid, gid: original.gid, size: original.size, mtime: Math.floor(original.mtimeMs / 1000)},
          path,
        )
      }
      assert.equal(await readFile(join(mount.dir, 'docs/readme.txt'), 'utf8'), await readFile(join(source, 'docs/readme.txt'), 'utf8'))
      assert.equal(createHash('sha256').update(await readFile(join(mount.dir, LARGE_FILE))).digest('hex'), createHash('sha256').update(largeContent()).digest('hex'))
    })

    it('shows directories, private and empty ones included, with their own attributes', async () => {
      for (const path of ['private', 'readonly', 'empty-dir', 'deep/a', 'docs']) {
        const [mounted, original] = await Promise.all([lstat(join(mount.dir, path)), lstat(join(source, path))])
        assert.deepEqual(
          {mode: mounted.mode, uid: mounted.uid, gid: mounted.gid, mtime: Math.floor(mounted.mtimeMs / 1000)},
          {mode: original.mode, uid: original.uid, gid: original.gid, mtime: Math.floor(original.mtimeMs / 1000)},
          path,
        )
      }
      assert.equal((await lstat(join(mount.dir, 'private'))).mode, 0o40700)
      assert.equal((await lstat(join(mount.dir, 'docs'))).uid, OWNER.uid)
    })

    it('shows symlinks with their targets and owners', async () => {
      for (const path of ['links/relative', 'links/absolute', 'links/dangling', 'links/to-dir']) {
        const stats = await lstat(join(mount.dir, path))
        assert.ok(stats.isSymbolicLink(), path)
        assert.equal(await readlink(join(mount.dir, path)), await readlink(join(source, path)))
      }
      assert.equal((await lstat(join(mount.dir, 'links/dangling'))).uid, OWNER.uid)
    })
  })

  it('a bucket written by rclone copy verifies against its source without false differences', async () => {
    const tree = join(scratch, 'for-rclone')
    await mkdir(join(tree, 'docs/deeper'), {recursive: true})
    await writeFile(join(tree, 'docs/a.txt'), 'a\n')
    await writeFile(join(tree, 'docs/deeper/b.txt'), 'b\n')
    await writeFile(join(tree, 'top.bin'), largeContent())
    await utimes(join(tree, 'docs/a.txt'), 1_600_000_000.5, 1_600_000_000.5)
    // Parts of 5 MiB from 5 MiB on: the large file goes multipart, as rclone sends files over 200 MiB.
    await rclone(server, ['copy', tree, rclonePath(BUCKET, 'rcloned'), '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M'])
    for (const mode of ['fast', 'checksum']) {
      const result = await runCommand(['verify', tree, `s3://${BUCKET}/rcloned`, '--endpoint', server.endpoint, '--mode', mode, '--no-progress'], {env: server.env})
      assert.equal(result.code, 0, result.stdout + result.stderr)
      // rclone records mtimes, not modes or owners; it writes no directory markers.
      assert.match(result.stdout, /^identical: 5 entries compared .*not recorded \(not differences\): mtime on 2, mode on 5, uid on 5, gid on 5$/m)
    }
  })

  it('a bucket written through an s3fs mount (cp) verifies against its source without false differences', async () => {
    const tree = join(scratch, 'for-s3fs')
    await makeFixtureTree(tree)
    const mount = await mountS3fs(server, BUCKET, {prefix: 's3fs-written'})
    try {
      // cp -a, except that s3fs has no hard links (each name is copied), and the mount's root keeps its times.
      const entries = (await readdir(tree)).map((name) => join(tree, name))
      await runTool('cp', ['-PR', '--preserve=mode,ownership,timestamps', ...entries, mount.dir])
    } finally {
      await mount.unmount()
    }
    const result = await runCommand(['verify', tree, `s3://${BUCKET}/s3fs-written`, '--endpoint', server.endpoint, '--mode', 'checksum', '--no-progress'], {env: server.env})
    assert.equal(result.code, 0, result.stdout + result.stderr)
    // s3fs keeps whole-second mtimes, modes and owners of files, directories and symlinks: all compared.
    assert.match(result.stdout, /^identical: 33 entries compared \(checksum, .*\); 1 special file not compared$/m)
    assert.ok(!result.stdout.includes(FIFO))
  })
})
