import type {S3Client} from '@aws-sdk/client-s3'
import type {NodeHttpHandler} from '@smithy/node-http-handler'

import {clientS3, nodeHttpHandler} from './aws-sdk.js'
import {addContentMd5Middleware} from './content-md5-middleware.js'
import {StoreError} from './errors.js'

export type ChecksumMode = 'when-required' | 'when-supported'

export interface S3ClientOptions {
  /** `http(s)://HOST[:PORT]` of an S3-compatible server. Default: the SDK's configured endpoint (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, `endpoint_url` in the profile), else AWS. */
  endpoint?: string
  /** Default: AWS_REGION or the profile's region, else us-east-1 with a custom endpoint. */
  region?: string
  /** Address buckets as ENDPOINT/BUCKET. Default: true with a custom endpoint, false on AWS. */
  pathStyle?: boolean
  /**
   * When the SDK adds and checks flexible checksums. Default: when-required with a custom endpoint,
   * because third-party servers (s3rver among them) store an aws-chunked streamed body with its
   * chunk framing; on AWS the SDK's own default applies (env and profile honoured).
   */
  checksumMode?: ChecksumMode
  /** Concurrent connections to the endpoint (default 64): size it to the parallel transfers used. */
  maxSockets?: number
  /** Explicit credentials; default is the SDK's chain (env, AWS_PROFILE, shared config, SSO, IMDS). */
  credentials?: {accessKeyId: string; secretAccessKey: string; sessionToken?: string}
}

export interface S3Connection {
  client: S3Client
  /** The client's HTTP handler (its sockets and timeouts), for calls made beside the SDK. */
  requestHandler: NodeHttpHandler
  /** The endpoint as errors name it. */
  endpoint: string
}

const DEFAULT_MAX_SOCKETS = 64

/**
 * Timeouts, sized so that a dead endpoint fails well within 30 s with the SDK's standard retries
 * (3 attempts): a refused connection fails at once, a black hole after 3 × 5 s, a server that
 * accepts but never answers a short call after 3 × 8 s. Calls that carry or produce much data
 * (PutObject, UploadPart, CopyObject, CompleteMultipartUpload) have no overall limit, only the
 * idle timeout; a GET's body too, so a stream left unread for longer than it fails.
 */
const CONNECT_TIMEOUT_MS = 5_000
const SOCKET_IDLE_TIMEOUT_MS = 120_000
/** Time to the response headers of a call whose request and server work are small. */
export const SHORT_CALL_TIMEOUT_MS = 8_000

/** An S3 client configured for zerofs: the options above, keep-alive sockets, Content-MD5 on parts. */
export async function connectS3(options: S3ClientOptions = {}): Promise<S3Connection> {
  const configured = await sdkConfiguredDefaults()
  const endpoint = options.endpoint ?? configured.endpoint
  if (endpoint !== undefined) assertEndpointUrl(endpoint)
  const custom = endpoint !== undefined
  const region = options.region ?? configured.region ?? (custom ? 'us-east-1' : undefined)
  if (region === undefined) {
    throw new StoreError('Failed', 'no AWS region configured: pass --region, set AWS_REGION, or set a region in the AWS profile')
  }
  const checksumMode = options.checksumMode ?? (custom ? 'when-required' : undefined)
  const checksum = checksumMode === undefined ? undefined : checksumMode === 'when-required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED'
  const agent = {keepAlive: true, maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS}
  const requestHandler = new nodeHttpHandler.NodeHttpHandler({
    connectionTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
    throwOnRequestTimeout: true,
    httpAgent: agent,
    httpsAgent: agent,
  })

  const client = new clientS3.S3Client({
    endpoint,
    region,
    forcePathStyle: options.pathStyle ?? custom,
    credentials: options.credentials,
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    retryMode: 'standard',
    requestHandler,
  })
  addContentMd5Middleware(client)
  return {client, requestHandler, endpoint: endpoint?.replace(/\/+$/, '') ?? `https://s3.${region}.amazonaws.com`}
}

/** The endpoint and region the SDK itself would use (env, AWS_PROFILE, shared config), read once from a throwaway client. */
async function sdkConfiguredDefaults(): Promise<{endpoint?: string; region?: string}> {
  const probe = new clientS3.S3Client({})
  try {
    const endpoint = await probe.config.serviceConfiguredEndpoint?.()
    const region = await probe.config.region().catch(() => undefined)
    return {endpoint: endpoint || undefined, region: region || undefined}
  } catch (error) {
    throw new StoreError('Failed', `cannot read the AWS configuration: ${(error as Error).message}`, {cause: error})
  } finally {
    probe.destroy()
  }
}

function assertEndpointUrl(endpoint: string): void {
  let url: URL | undefined
  try {
    url = new URL(endpoint)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new StoreError('Failed', `invalid S3 endpoint "${endpoint}": expected http://HOST[:PORT] or https://HOST[:PORT]`)
  }
}
