import {createHash, webcrypto, type Hash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {Transform, type TransformCallback} from 'node:stream'

import {StoreError} from './errors.js'

/** How much of a local file one read takes when it is hashed or uploaded (fewer reads and chunks than Node's 64 KiB). */
export const FILE_PIECE = 1024 * 1024

/** Hex SHA-256 computed in the thread pool (WebCrypto), leaving the main thread to other requests. */
export async function sha256Off(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex')
}

/** Hex SHA-256 of a local file (read in large pieces: it is hashed whole before a multipart upload). */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const sha256 = createHash('sha256')
  for await (const chunk of createReadStream(path, {signal, highWaterMark: FILE_PIECE})) sha256.update(chunk as Buffer)
  return sha256.digest('hex')
}

/** Hex, as a plain S3 ETag shows an MD5, of a digest in base64 (as Content-MD5 carries it). */
export function base64ToHex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex')
}

/** Content-MD5 header value: the base64 of the binary MD5. */
export function contentMd5(bytes: Uint8Array | string): string {
  return createHash('md5').update(bytes).digest('base64')
}

/** What a stream must turn out to be; a mismatch fails the stream at its end, before its last byte is passed on. */
export interface ExpectedContent {
  size?: number
  sha256?: string
  /** Names the content in the error: `"/srv/a.bin"`. */
  what: string
}

/**
 * A pass-through that hashes what flows through it (SHA-256 and size). Given an expectation, it
 * fails at the end instead of finishing when the content differs: a consumer that commits only
 * after the stream ends (a multipart upload completing) then never commits changed content.
 */
export class DigestingStream extends Transform {
  private readonly hash: Hash = createHash('sha256')
  private bytes = 0
  private hex?: string

  constructor(private readonly expected?: ExpectedContent) {
    super()
  }

  /** Bytes passed so far. (Not `size`: lib-storage would read a `size` property as the body's total length.) */
  get bytesPassed(): number {
    return this.bytes
  }

  /** Hex SHA-256 of everything passed; only after the stream has ended. */
  get sha256(): string {
    if (this.hex === undefined) throw new Error('DigestingStream: sha256 read before the end of the stream')
    return this.hex
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk)
    this.bytes += chunk.length
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    this.hex = this.hash.digest('hex')
    callback(this.mismatch())
  }

  private mismatch(): StoreError | null {
    const expected = this.expected
    if (expected === undefined) return null
    if (expected.size !== undefined && expected.size !== this.bytes) {
      return new StoreError('PreconditionFailed', `${expected.what} changed while it was read: ${this.bytes} bytes instead of ${expected.size}`)
    }
    if (expected.sha256 !== undefined && expected.sha256 !== this.hex) {
      return new StoreError('PreconditionFailed', `${expected.what} does not match its expected SHA-256 ${expected.sha256} (read ${this.hex})`)
    }
    return null
  }
}
