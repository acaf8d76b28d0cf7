import type {S3Client} from '@aws-sdk/client-s3'
import type {MiddlewareStack} from '@smithy/types'

import {contentMd5} from './digest.js'
import {OFF_THREAD_BYTES, requestBodyDigests} from './digest-thread.js'

/**
 * Calls whose in-memory bodies get a Content-MD5 header, so the server rejects bytes corrupted in
 * flight: UploadPart (lib-storage's parts as well as ours), and DeleteObjects, which S3 requires
 * an integrity header for and which some S3-compatible servers accept only with Content-MD5.
 */
const COMMANDS = new Set(['UploadPartCommand', 'DeleteObjectsCommand'])

/** Calls whose large bodies are hashed off the main thread (see requestBodyDigests) when the caller did not. */
const LARGE_BODY_COMMANDS = new Set(['UploadPartCommand', 'PutObjectCommand'])

/** The header SigV4 takes the payload's SHA-256 from (the signer hashes the body itself without it; S3 checks it). */
const SHA256_HEADER = 'x-amz-content-sha256'

/**
 * Makes one command sign a payload SHA-256 its caller has computed already (with requestBodyDigests,
 * together with its Content-MD5), so that the body is hashed once. Per command: nothing is
 * remembered by body, whose buffer may be reused for other bytes afterwards.
 */
export function signPayloadSha256<I extends object, O extends object>(command: {middlewareStack: MiddlewareStack<I, O>}, sha256Hex: string): void {
  command.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as {headers?: Record<string, string>} | undefined)?.headers
      if (headers !== undefined) headers[SHA256_HEADER] = sha256Hex
      return next(args)
    },
    // Before the client's zerofsContentMd5 (same step), which then finds nothing left to hash.
    {step: 'build', priority: 'high', name: 'zerofsPayloadSha256'},
  )
}

export function addContentMd5Middleware(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as {headers?: Record<string, string>; body?: unknown} | undefined
      const headers = request?.headers
      const body = request?.body
      const command = context.commandName ?? ''
      if (headers === undefined || !(typeof body === 'string' || body instanceof Uint8Array)) return next(args)
      const wantsMd5 = COMMANDS.has(command) && !hasHeader(headers, 'content-md5')
      const wantsSha256 = LARGE_BODY_COMMANDS.has(command) && body instanceof Uint8Array && body.length >= OFF_THREAD_BYTES && !hasHeader(headers, SHA256_HEADER)
      if (!wantsMd5 && !wantsSha256) return next(args)
      const digests = wantsSha256 ? await requestBodyDigests(body as Uint8Array) : undefined
      if (digests !== undefined) headers[SHA256_HEADER] = digests.sha256Hex
      if (wantsMd5) headers['content-md5'] = digests?.md5Base64 ?? contentMd5(body)
      return next(args)
    },
    {step: 'build', name: 'zerofsContentMd5'},
  )
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((header) => header.toLowerCase() === name)
}
