import {createHash, type Hash} from 'node:crypto'
import type {Readable} from 'node:stream'

import type {ObjectHead} from '../store/object-store.js'

/**
 * What a store tells about an object's content without reading it, strongest first:
 * - `sha256`: `x-amz-meta-sha256`, which zerofs writes on every object;
 * - `md5`: a plain ETag (32 hex digits: a single-part upload), or rclone's `md5chksum` metadata;
 * - `multipart`: an ETag `md5-of-part-md5s-N` that can be recomputed from the content because the
 *   part size is recorded (`x-amz-meta-part-size`).
 * An object with none of these cannot be checked without downloading it (`verify --mode deep`).
 */
export type ContentReference =
  | {kind: 'sha256'; hex: string; source: string}
  | {kind: 'md5'; hex: string; source: string}
  | {kind: 'multipart'; etag: string; parts: number; partSize: number; source: string}

export function contentReference(head: ObjectHead): ContentReference | undefined {
  const sha256 = head.metadata.sha256?.toLowerCase()
  if (sha256 !== undefined && /^[0-9a-f]{64}$/.test(sha256)) return {kind: 'sha256', hex: sha256, source: 'x-amz-meta-sha256'}
  const etag = head.etag.toLowerCase()
  if (/^[0-9a-f]{32}$/.test(etag)) return {kind: 'md5', hex: etag, source: 'ETag'}
  const multipart = /^([0-9a-f]{32})-(\d+)$/.exec(etag)
  const partSize = Number(head.metadata['part-size'])
  if (multipart && Number.isSafeInteger(partSize) && partSize > 0) {
    return {kind: 'multipart', etag, parts: Number(multipart[2]), partSize, source: 'multipart ETag'}
  }
  const rcloneMd5 = head.metadata.md5chksum
  if (rcloneMd5 !== undefined) {
    const hex = Buffer.from(rcloneMd5, 'base64').toString('hex')
    if (hex.length === 32) return {kind: 'md5', hex, source: 'x-amz-meta-md5chksum'}
  }
  return undefined
}

/** Why an object has no usable reference, for the unverifiable list. */
export function missingReferenceReason(head: ObjectHead): string {
  return /-\d+$/.test(head.etag)
    ? `multipart ETag ${head.etag} without a recorded part size, and no x-amz-meta-sha256`
    : `no x-amz-meta-sha256 and ETag ${head.etag || '(none)'} is not an MD5`
}

/** The same digest a reference holds, computed from content as it streams. */
export class ContentDigest {
  private readonly whole: Hash
  private part?: Hash
  private partBytes = 0
  private readonly partDigests: Buffer[] = []

  constructor(private readonly reference: ContentReference | {kind: 'sha256'}) {
    this.whole = createHash(reference.kind === 'md5' ? 'md5' : 'sha256')
  }

  update(chunk: Buffer): void {
    if (this.reference.kind !== 'multipart') {
      this.whole.update(chunk)
      return
    }
    const partSize = this.reference.partSize
    let offset = 0
    while (offset < chunk.length) {
      this.part ??= createHash('md5')
      const take = Math.min(chunk.length - offset, partSize - this.partBytes)
      this.part.update(chunk.subarray(offset, offset + take))
      this.partBytes += take
      offset += take
      if (this.partBytes === partSize) this.endPart()
    }
  }

  /** Hex digest, or for multipart the ETag form `hex-N`. */
  digest(): string {
    if (this.reference.kind !== 'multipart') return this.whole.digest('hex')
    if (this.part !== undefined) this.endPart()
    const combined = createHash('md5').update(Buffer.concat(this.partDigests)).digest('hex')
    return `${combined}-${this.partDigests.length}`
  }

  private endPart(): void {
    this.partDigests.push(this.part!.digest())
    this.part = undefined
    this.partBytes = 0
  }
}

/** Hashes a stream to completion as the reference (or plain SHA-256) wants it. */
export async function digestStream(stream: Readable, reference: ContentReference | {kind: 'sha256'}): Promise<string> {
  const digest = new ContentDigest(reference)
  for await (const chunk of stream) digest.update(chunk as Buffer)
  return digest.digest()
}

/** The value of a reference to compare with `ContentDigest.digest()`. */
export function expectedDigest(reference: ContentReference): string {
  return reference.kind === 'multipart' ? reference.etag : reference.hex
}
