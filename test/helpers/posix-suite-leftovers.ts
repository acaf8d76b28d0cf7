import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readdir, readFile, stat} from 'node:fs/promises'
import {join, relative} from 'node:path'

import type {BucketView} from './nfs-bucket-view.js'

/**
 * What test/protocols/nfs-kernel/posix-suite.sh leaves in a store, checked from outside zerofs
 * (the store's own view): only keep/, as plain objects with s3fs metadata. Shared by the NFS and
 * 9P kernel tests.
 */

/** The tree the suite copies into keep/tree (the same path exists, read-only, in the guest). */
const TREE = '/usr/lib/python3.11/email'
const S_IFMT = 0o170000

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* filesUnder(path)
    else yield path
  }
}

async function* directoriesUnder(dir: string): AsyncGenerator<string> {
  yield dir
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    if (entry.isDirectory()) yield* directoriesUnder(join(dir, entry.name))
  }
}

export async function assertSuiteLeftovers(label: string, view: BucketView): Promise<void> {
  const expectedBig = Buffer.alloc(5 * 1024 * 1024)
  const pattern = Buffer.from('zerofs\n')
  for (let at = 0; at < expectedBig.length; at += pattern.length) pattern.copy(expectedBig, at)

  const keys = (await view.keys()).filter((key) => !key.startsWith('.zerofs/'))
  assert.deepEqual(keys.filter((key) => !key.startsWith('keep/')), [], `${label}: only keep/ survives the suite`)
  assert.deepEqual(keys.filter((key) => /(^|\/)\.nfs/.test(key)), [], `${label}: no silly-rename leftovers`)

  assert.equal((await view.body('keep/hello.txt')).toString(), 'hello bucket\n')
  const hello = (await view.head('keep/hello.txt'))!
  assert.deepEqual([hello.metadata.mode, hello.metadata.uid, hello.metadata.gid], [String(0o100640), '1234', '5678'], label)
  assert.equal(Number(hello.metadata.mtime), 1_600_000_000)

  const link = (await view.head('keep/link'))!
  assert.equal(Number(link.metadata.mode) & S_IFMT, 0o120000, `${label}: symlink mode`)
  assert.equal((await view.body('keep/link')).toString(), 'hello.txt')

  const dir = (await view.head('keep/dir/'))!
  assert.equal(dir.size, 0)
  assert.equal(Number(dir.metadata.mode) & S_IFMT, 0o040000, `${label}: directory marker mode`)

  const fifo = (await view.head('keep/fifo'))!
  assert.equal(fifo.size, 0)
  assert.equal(Number(fifo.metadata.mode) & S_IFMT, 0o010000, `${label}: FIFO mode`)

  const big = await view.body('keep/big.bin')
  assert.equal(big.length, expectedBig.length)
  const bigSha = sha256(big)
  assert.equal(bigSha, sha256(expectedBig), `${label}: big.bin content`)
  assert.equal((await view.head('keep/big.bin'))!.metadata.sha256, bigSha, `${label}: x-amz-meta-sha256`)

  for await (const path of filesUnder(TREE)) {
    const key = `keep/tree/${relative(TREE, path)}`
    const object = await view.head(key)
    assert.ok(object, `${label}: ${key} is in the bucket`)
    assert.equal(sha256(await view.body(key)), sha256(await readFile(path)), `${label}: ${key} content`)
    assert.equal(Number(object.metadata.mode) & 0o7777, (await stat(path)).mode & 0o7777, `${label}: ${key} mode`)
    assert.equal(Math.floor(Number(object.metadata.mtime)), Math.floor((await stat(path)).mtimeMs / 1000), `${label}: ${key} mtime`)
  }
  // cp -a set each directory's mtime after filling it: the markers carry those times.
  for await (const path of directoriesUnder(TREE)) {
    const key = `keep/tree/${relative(TREE, path)}/`.replace(/\/\/$/, '/')
    const marker = await view.head(key)
    assert.ok(marker, `${label}: ${key} has a marker`)
    assert.equal(Math.floor(Number(marker.metadata.mtime)), Math.floor((await stat(path)).mtimeMs / 1000), `${label}: ${key} mtime`)
  }
}
