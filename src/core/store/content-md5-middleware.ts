import type {S3Client} from '@aws-sdk/client-s3'

import {contentMd5} from './digest.js'

/**
 * Calls whose in-memory bodies get a Content-MD5 header, so the server rejects bytes corrupted in
 * flight: UploadPart (lib-storage's parts as well as ours), and DeleteObjects, which S3 requires
 * an integrity header for and which some S3-compatible servers accept only with Content-MD5.
 */
const COMMANDS = new Set(['UploadPartCommand', 'DeleteObjectsCommand'])

export function addContentMd5Middleware(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as {headers?: Record<string, string>; body?: unknown} | undefined
      const headers = request?.headers
      if (COMMANDS.has(context.commandName ?? '') && headers !== undefined && !hasHeader(headers, 'content-md5')) {
        const body = request?.body
        if (typeof body === 'string' || body instanceof Uint8Array) headers['content-md5'] = contentMd5(body)
      }
      return next(args)
    },
    {step: 'build', name: 'zerofsContentMd5'},
  )
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((header) => header.toLowerCase() === name)
}
