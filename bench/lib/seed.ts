import {createHash, randomBytes} from 'node:crypto'
import {Readable} from 'node:stream'
import {PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {NodeHttpHandler} from '@smithy/node-http-handler'

/**
 * Seeding benchmark data into an S3 server with the plain SDK (not through zerofs, so a benchmark
 * never measures code that also produced its data): many small objects with s3fs attribute
 * metadata, written by parallel workers, and large objects of random bytes, streamed.
 */

export interface SeedServer {
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  region?: string
}

export function seedClient(server: SeedServer, concurrency: number): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region ?? 'us-east-1',
    forcePathStyle: true,
    credentials: {accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey},
    // Third-party servers store the SDK's default aws-chunked framing as object bytes.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({httpAgent: {keepAlive: true, maxSockets: concurrency}}),
  })
}

/** st_mode values as s3fs stores them (type bits included). */
export const S_IFREG = 0o100000
export const S_IFDIR = 0o040000

/** The attributes s3fs would write for a file or directory. */
export function s3fsMetadata(mode: number, mtimeSec: number, uid = 1000, gid = 1000): Record<string, string> {
  return {mode: String(mode), uid: String(uid), gid: String(gid), mtime: String(mtimeSec)}
}

export interface SeedObject {
  key: string
  body: Buffer
  metadata?: Record<string, string>
  contentType?: string
}

/**
 * Puts `count` objects, object `i` described by `describe(i)`, with `concurrency` workers pulling
 * indexes from one shared counter (bounded parallelism, nothing queued up front).
 */
export async function seedObjects(
  client: S3Client,
  bucket: string,
  count: number,
  describe: (index: number) => SeedObject,
  options: {concurrency: number; onProgress?: (done: number) => void},
): Promise<void> {
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const object = describe(next++)
      await client.send(new PutObjectCommand({
        Bucket: bucket,
        Key: object.key,
        Body: object.body,
        Metadata: object.metadata,
        ContentType: object.contentType,
      }))
      options.onProgress?.(++done)
    }
  }
  await Promise.all(Array.from({length: Math.min(options.concurrency, count)}, worker))
}

/** A zero-byte directory marker object `prefix/` as s3fs and zerofs write it. */
export function directoryMarker(prefix: string, mtimeSec: number): SeedObject {
  return {
    key: prefix.endsWith('/') ? prefix : `${prefix}/`,
    body: Buffer.alloc(0),
    contentType: 'application/x-directory',
    metadata: s3fsMetadata(S_IFDIR | 0o755, mtimeSec),
  }
}

/**
 * Streams `size` random bytes into one object with a single PUT and returns their SHA-256 hex;
 * never holds more than one chunk in memory.
 */
export async function seedRandomObject(client: S3Client, bucket: string, key: string, size: number, metadata?: Record<string, string>): Promise<string> {
  const hash = createHash('sha256')
  const chunkSize = 1 << 20
  let remaining = size
  const body = Readable.from((function* () {
    while (remaining > 0) {
      const chunk = randomBytes(Math.min(chunkSize, remaining))
      remaining -= chunk.length
      hash.update(chunk)
      yield chunk
    }
  })())
  await client.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: body, ContentLength: size, Metadata: metadata}))
  return hash.digest('hex')
}
