import {PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {createServer} from 'node:net'

import {openStore} from '../../src/core/store/open-store.js'
import type {S3rverHandle} from '../helpers/s3rver.js'
import {S3RVER_CREDENTIALS} from '../helpers/s3rver.js'

/**
 * The objects the `ls` and `cat` tests list and read, written the way other tools write them:
 * s3fs-convention metadata (mode with type bits, uid, gid, mtime in epoch seconds), markers for
 * directories, symlinks as objects whose body is the target.
 */

export interface SeedObject {
  key: string
  body: Buffer | string
  metadata?: Record<string, string>
  contentType?: string
}

/** 2025-11-27 12:00:00 UTC and 2023-11-14 22:13:20 UTC. */
export const NOV_27_NOON = 1764244800
export const NOV_14 = 1700000000

const S_IFREG = 0o100000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000
const S_IFIFO = 0o010000

function attrs(mode: number, uid: number, gid: number, mtime: number | string): Record<string, string> {
  return {mode: String(mode), uid: String(uid), gid: String(gid), mtime: String(mtime)}
}

function marker(key: string, mode: number, uid: number, gid: number, mtime: number): SeedObject {
  return {key, body: '', contentType: 'application/x-directory', metadata: attrs(S_IFDIR | mode, uid, gid, mtime)}
}

/** Every byte value, 3 MiB: larger than any single read-ahead window and binary through and through. */
export const BINARY = Buffer.alloc(3 * 1024 * 1024, 0)
for (let index = 0; index < BINARY.length; index++) BINARY[index] = (index * 7 + (index >> 11)) & 0xff

export const README = 'hello, zerofs\n'

/** Objects any store can hold. */
export const TREE: SeedObject[] = [
  marker('docs/', 0o755, 1000, 1000, NOV_14),
  {key: 'docs/readme.txt', body: README, metadata: attrs(S_IFREG | 0o644, 1000, 100, NOV_27_NOON)},
  {key: 'docs/run.sh', body: '#!/bin/sh\necho hi\n', metadata: attrs(S_IFREG | 0o755, 0, 0, `${NOV_27_NOON}.75`)},
  {key: 'docs/sbin', body: 'x', metadata: attrs(S_IFREG | 0o4755, 0, 0, NOV_27_NOON)},
  {key: 'docs/link', body: 'readme.txt', metadata: attrs(S_IFLNK | 0o777, 1000, 100, NOV_27_NOON)},
  {key: 'docs/pipe', body: '', metadata: attrs(S_IFIFO | 0o644, 1000, 100, NOV_27_NOON)},
  {key: 'docs/plain.txt', body: 'no metadata at all\n'},
  marker('docs/tmp/', 0o1777, 0, 0, NOV_27_NOON),
  {key: 'docs/tmp/scratch', body: 'scratch\n', metadata: attrs(S_IFREG | 0o600, 0, 0, NOV_27_NOON)},
  // No markers below: implicit directories, as another tool leaves them. Each holds an object directly
  // (s3rver's delimiter listings omit a prefix that holds only sub-prefixes).
  {key: 'implicit/a.txt', body: 'a\n'},
  {key: 'implicit/sub/b.txt', body: 'b\n'},
  {key: 'blobs/binary.bin', body: BINARY, metadata: attrs(S_IFREG | 0o644, 0, 0, NOV_27_NOON)},
  {key: 'links/to-readme', body: '../docs/readme.txt', metadata: attrs(S_IFLNK | 0o777, 0, 0, NOV_27_NOON)},
  {key: 'links/absolute', body: '/docs/readme.txt', metadata: attrs(S_IFLNK | 0o777, 0, 0, NOV_27_NOON)},
  {key: 'links/loop-a', body: 'loop-b', metadata: attrs(S_IFLNK | 0o777, 0, 0, NOV_27_NOON)},
  {key: 'links/loop-b', body: 'loop-a', metadata: attrs(S_IFLNK | 0o777, 0, 0, NOV_27_NOON)},
  {key: 'links/to-docs', body: '../docs', metadata: attrs(S_IFLNK | 0o777, 0, 0, NOV_27_NOON)},
  // zerofs's reserved prefix: never shown by ls, listed by --keys.
  {key: '.zerofs/manifest', body: '{}'},
]

/** A file and a directory of the same name: not a POSIX tree (the directory wins), only an S3 bucket holds it. */
export const CLASH: SeedObject[] = [
  {key: 'clash', body: 'a file hidden by the directory\n'},
  {key: 'clash/child.txt', body: 'child\n'},
]

export async function seedS3(server: S3rverHandle, bucket: string, objects: SeedObject[]): Promise<void> {
  const client = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  try {
    for (const object of objects) {
      await client.send(new PutObjectCommand({
        Bucket: bucket,
        Key: object.key,
        Body: typeof object.body === 'string' ? Buffer.from(object.body) : object.body,
        Metadata: object.metadata,
        ContentType: object.contentType,
      }))
    }
  } finally {
    client.destroy()
  }
}

/** Through the FileStore, the only way to give its objects metadata. */
export async function seedFileStore(dir: string, objects: SeedObject[]): Promise<void> {
  const store = await openStore(dir)
  try {
    for (const object of objects) {
      const body = typeof object.body === 'string' ? Buffer.from(object.body) : object.body
      await store.put(object.key, body, {metadata: object.metadata, contentType: object.contentType})
    }
  } finally {
    await store.close()
  }
}

/** A 127.0.0.1 port nothing listens on: a dead endpoint. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
