import {GetObjectCommand, HeadObjectCommand} from '@aws-sdk/client-s3'
import {Upload} from '@aws-sdk/lib-storage'
import {createReadStream} from 'node:fs'
import {performance} from 'node:perf_hooks'
import type {Readable} from 'node:stream'

import {S3RVER_CREDENTIALS, type S3rverHandle} from '../../test/helpers/s3rver.js'
import {seedClient} from './seed.js'

export interface SdkRates {
  uploadMs: number
  downloadMs: number
  bytes: number
}

/**
 * The raw SDK on an s3rver, the reference rates of the S3 benchmarks: lib-storage's Upload of a
 * local file (until a HEAD sees it) and a streamed GetObject of it.
 */
export async function sdkRates(server: S3rverHandle, bucket: string, source: string, bytes: number): Promise<SdkRates> {
  const client = seedClient({endpoint: server.endpoint, ...S3RVER_CREDENTIALS}, 16)
  try {
    let started = performance.now()
    await new Upload({client, params: {Bucket: bucket, Key: 'sdk-seq.bin', Body: createReadStream(source)}}).done()
    await client.send(new HeadObjectCommand({Bucket: bucket, Key: 'sdk-seq.bin'}))
    const uploadMs = performance.now() - started
    started = performance.now()
    const object = await client.send(new GetObjectCommand({Bucket: bucket, Key: 'sdk-seq.bin'}))
    for await (const chunk of object.Body as Readable) void chunk
    return {uploadMs, downloadMs: performance.now() - started, bytes}
  } finally {
    client.destroy()
  }
}
