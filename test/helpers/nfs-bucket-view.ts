import {GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import type {Readable} from 'node:stream'

import {FileStore} from '../../src/core/store/file-store.js'
import {S3RVER_CREDENTIALS} from './s3rver.js'

/**
 * What a served store holds, seen from outside zerofs's core: for s3rver through the AWS SDK (as
 * any S3 tool would), for a file store through the FileStore it is. Only for small test trees.
 */
export interface BucketObject {
  size: number
  /** User metadata (mode, uid, gid, mtime, sha256...). */
  metadata: Record<string, string>
  contentType?: string
}

export interface BucketView {
  keys(): Promise<string[]>
  head(key: string): Promise<BucketObject | undefined>
  body(key: string): Promise<Buffer>
  /** Writes an object as another tool would (no zerofs metadata unless given). */
  put(key: string, body: Buffer, metadata?: Record<string, string>): Promise<void>
  close(): Promise<void>
}

async function collect(stream: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks)
}

export function s3BucketView(endpoint: string, bucket: string): BucketView {
  const client = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  })
  return {
    async keys() {
      const keys: string[] = []
      let token: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({Bucket: bucket, ContinuationToken: token}))
        for (const object of page.Contents ?? []) keys.push(object.Key!)
        token = page.NextContinuationToken
      } while (token)
      return keys
    },
    async head(key) {
      try {
        const head = await client.send(new HeadObjectCommand({Bucket: bucket, Key: key}))
        return {size: head.ContentLength ?? 0, metadata: head.Metadata ?? {}, contentType: head.ContentType}
      } catch (error) {
        if ((error as {name?: string}).name === 'NotFound') return undefined
        throw error
      }
    },
    async body(key) {
      const object = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}))
      return collect(object.Body as Readable)
    },
    async put(key, body, metadata) {
      await client.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: body, Metadata: metadata}))
    },
    async close() {
      client.destroy()
    },
  }
}

export function fileStoreView(dir: string): BucketView {
  const store = new FileStore(dir)
  return {
    async keys() {
      const keys: string[] = []
      for await (const entry of store.list({})) if (entry.kind === 'object') keys.push(entry.key)
      return keys
    },
    async head(key) {
      const head = await store.head(key)
      return head && {size: head.size, metadata: head.metadata, contentType: head.contentType}
    },
    async body(key) {
      return collect(await store.get(key))
    },
    async put(key, body, metadata) {
      await store.put(key, body, {metadata})
    },
    close: () => store.close(),
  }
}
