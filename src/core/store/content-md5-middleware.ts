import type {S3Client} from '@aws-sdk/client-s3'

import {contentMd5} from './digest.js'
import {digestOffThread} from './digest-thread.js'

/**
 * Calls whose in-memory bodies get a Content-MD5 header, so the server rejects bytes corrupted in
 * flight: UploadPart (lib-storage's parts as well as ours), and DeleteObjects, which S3 requires
 * an integrity header for and which some S3-compatible servers accept only with Content-MD5.
 */
const COMMANDS = new Set(['UploadPartCommand', 'DeleteObjectsCommand'])

/** Calls whose large bodies are hashed off the main thread (see digestOffThread). */
const LARGE_BODY_COMMANDS = new Set(['UploadPartCommand', 'PutObjectCommand'])

/**
 * From this size a body's hashes are computed on the digest thread: its Content-MD5, and the
 * SHA-256 that SigV4 signs (x-amz-content-sha256, which the signer would otherwise compute on the
 * main thread; S3 checks the body against it).
 */
const OFF_THREAD_BYTES = 1024 * 1024

const SHA256_HEADER = 'x-amz-content-sha256'

export function addContentMd5Middleware(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as {headers?: Record<string, string>; body?: unknown} | undefined
      const headers = request?.headers
      const body = request?.body
      const command = context.commandName ?? ''
      if (headers === undefined || !(typeof body === 'string' || body instanceof Uint8Array)) return next(args)
      const wantsMd5 = COMMANDS.has(command) && !hasHeader(headers, 'content-md5')
      const digests = LARGE_BODY_COMMANDS.has(command) && body instanceof Uint8Array && body.length >= OFF_THREAD_BYTES
        // Without the thread (it could not start), the hashes are computed here as before.
        ? await digestOffThread(body).catch(() => undefined)
        : undefined
      if (digests !== undefined && !hasHeader(headers, SHA256_HEADER)) headers[SHA256_HEADER] = digests.sha256Hex
      if (wantsMd5) headers['content-md5'] = digests?.md5Base64 ?? contentMd5(body)
      return next(args)
    },
    {step: 'build', name: 'zerofsContentMd5'},
  )
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((header) => header.toLowerCase() === name)
}
