import assert from 'node:assert/strict'
import {lstat, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {after, before, describe, it} from 'node:test'

import type {ObjectStore} from '../../src/core/store/object-store.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'
import {runCommand, spawnCommand} from './cli.js'
import {largeContent} from './fixture-tree.js'
import {listKeys} from './worlds.js'

/**
 * `zerofs migrate` killed with SIGKILL in the middle of a run, then started again with the same
 * command: the second run finishes the job without uploading again any object the first one had
 * completed. s3rver keeps each object as a file, so a rewrite shows as a new file mtime.
 */

const BUCKET = 'zerofs-resume'
const PREFIX = 'resume'
const DIRECTORIES = 8
const FILES_PER_DIRECTORY = 60
const FILE_SIZE = 24 * 1024

describe('migrate resumes after kill -9', () => {
  let server: S3rverHandle
  let scratch: string
  let source: string
  let store: ObjectStore

  before(async () => {
    server = await startS3rver([BUCKET])
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-resume-'))
    source = join(scratch, 'source')
    for (let dir = 0; dir < DIRECTORIES; dir++) {
      await mkdir(join(source, `dir${dir}`), {recursive: true})
      for (let file = 0; file < FILES_PER_DIRECTORY; file++) {
        await writeFile(join(source, `dir${dir}`, `file${String(file).padStart(3, '0')}.dat`), Buffer.alloc(FILE_SIZE, dir * 100 + file))
      }
    }
    await writeFile(join(source, 'dir3', 'large.bin'), largeContent())
    store = await S3Store.open(BUCKET, PREFIX, {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS})
  })

  after(async () => {
    await store?.close()
    await server?.stop()
    if (scratch) await rm(scratch, {recursive: true, force: true})
  })

  /** The file s3rver keeps an object in (its mtime changes whenever the object is written). */
  const objectFile = (key: string): string => {
    const parts = `${PREFIX}/${key}`.split('/')
    const name = parts.pop()!
    return join(server.directory, BUCKET, ...parts, `${name}._S3rver_object`)
  }

  it('finishes the job without uploading the objects the killed run completed', async () => {
    const args = ['migrate', source, `s3://${BUCKET}/${PREFIX}`, '--endpoint', server.endpoint, '--cache-dir', join(scratch, 'cache'),
      '--jobs', '2', '--part-size', '5M', '--no-progress']
    const child = spawnCommand(args, {env: server.env})
    const exited = new Promise((resolve) => child.once('close', resolve))
    const total = DIRECTORIES * FILES_PER_DIRECTORY + 1 + DIRECTORIES
    for (let polls = 0; (await listKeys(store)).size < total / 3; polls++) {
      assert.ok(polls < 600, 'the first run did not get a third of the way within 60 s')
      assert.equal(child.exitCode, null, 'the first run ended before it could be killed')
      await sleep(100)
    }
    child.kill('SIGKILL')
    await exited

    const listed = await listKeys(store)
    assert.ok(listed.size < total, 'the first run finished before it was killed')
    // Complete objects: listed with the size of their source (a marker is empty).
    const complete = new Map<string, bigint>()
    for (const [key, {size}] of listed) {
      const sourceSize = key.endsWith('/') ? 0 : (await lstat(join(source, key))).size
      if (size === sourceSize) complete.set(key, (await lstat(objectFile(key), {bigint: true})).mtimeNs)
    }

    const resumed = await runCommand([...args, '--json'], {env: server.env})
    assert.equal(resumed.code, 0, resumed.stderr)
    const report = JSON.parse(resumed.stdout) as {copied: {files: number; directories: number}; unchanged: number; failed: number}
    assert.equal(report.failed, 0)
    assert.equal(report.copied.files + report.copied.directories + report.unchanged, total)
    assert.equal(report.unchanged, complete.size, 'every object the first run completed is recognised as complete')
    for (const [key, mtimeNs] of complete) {
      assert.equal((await lstat(objectFile(key), {bigint: true})).mtimeNs, mtimeNs, `${key} was uploaded again`)
    }
    assert.equal((await listKeys(store)).size, total)

    const verified = await runCommand(['verify', source, `s3://${BUCKET}/${PREFIX}`, '--endpoint', server.endpoint, '--mode', 'checksum', '--no-progress'], {env: server.env})
    assert.equal(verified.code, 0, verified.stdout + verified.stderr)

    const again = await runCommand(args, {env: server.env})
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to copy: 489 entries already complete/)
  })
})

describe('migrate when the endpoint dies mid-run', () => {
  it('stops with exit 2 and one line naming the endpoint, instead of failing every entry', async () => {
    const server = await startS3rver([BUCKET])
    const scratch = await mkdtemp(join(tmpdir(), 'zerofs-dying-'))
    try {
      const source = join(scratch, 'source')
      await mkdir(source)
      for (let file = 0; file < 400; file++) await writeFile(join(source, `f${String(file).padStart(3, '0')}`), Buffer.alloc(FILE_SIZE, file))
      const store = await S3Store.open(BUCKET, 'dying', {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS})
      const child = spawnCommand(['migrate', source, `s3://${BUCKET}/dying`, '--endpoint', server.endpoint, '--cache-dir', join(scratch, 'cache'),
        '--jobs', '2', '--no-progress'], {env: server.env})
      let stderr = ''
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8')
      })
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
      try {
        for (let polls = 0; (await listKeys(store)).size < 50; polls++) {
          assert.ok(polls < 600, 'the run did not get going within 60 s')
          await sleep(100)
        }
      } finally {
        await store.close()
      }
      server.process.kill('SIGKILL')
      assert.equal(await exited, 2, stderr)
      assert.match(stderr, /cannot reach the S3 endpoint/)
      assert.ok(stderr.trim().split('\n').length <= 2, stderr)
    } finally {
      await server.stop()
      await rm(scratch, {recursive: true, force: true})
    }
  })
})
