import {StoreError} from './errors.js'

/** What a failed S3 call concerned, so that its error can name it. */
export interface S3ErrorContext {
  /** The S3 API call, as AWS names it: `HeadBucket`, `UploadPartCopy`. */
  operation: string
  bucket: string
  /** The store's URL (`s3://bucket/prefix`), where a key is reported relative to it. */
  storeUrl: string
  /** The endpoint as the user would recognise it: `http://127.0.0.1:9000`, `https://s3.eu-west-1.amazonaws.com`. */
  endpoint: string
  /** The key relative to the store, for calls about one object. */
  key?: string
}

/** The parts of an SDK or Node error this mapping reads; every field is optional. */
interface RawError {
  name?: string
  code?: string
  Code?: string
  message?: string
  $metadata?: {httpStatusCode?: number}
}

/** Node socket and DNS failures: the endpoint is down, refuses, or cannot be resolved or reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN',
])

const CREDENTIAL_CODES = new Set([
  'AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken',
  'TokenRefreshRequired', 'AllAccessDisabled', 'AccountProblem',
])

/** What a server answers for a call it does not implement: 501 (UploadPartCopy, ListMultipartUploads on s3rver) or 405 (AbortMultipartUpload there). */
const NOT_IMPLEMENTED_CODES = new Set(['NotImplemented', 'MethodNotAllowed'])

const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload'])

/** The HTTP status of an SDK error, if the server answered at all. */
export function httpStatusOf(error: unknown): number | undefined {
  return (error as RawError | undefined)?.$metadata?.httpStatusCode
}

/**
 * The one place where an S3 failure becomes a StoreError: a stable code plus one line that names
 * the bucket, the endpoint or the key, e.g. `bucket "x" does not exist at http://127.0.0.1:9000`.
 */
export function toStoreError(error: unknown, context: S3ErrorContext): StoreError {
  if (error instanceof StoreError) return error
  const raw = (typeof error === 'object' && error !== null ? error : {message: String(error)}) as RawError
  const status = raw.$metadata?.httpStatusCode
  const code = raw.Code ?? (raw.name !== undefined && raw.name !== 'Error' ? raw.name : undefined) ?? raw.code ?? 'UnknownError'
  const serverText = oneLine(raw.message ?? '')
  const {operation, bucket, endpoint, key} = context
  const options = {key, cause: error}

  if (raw.name === 'AbortError') return new StoreError('Aborted', `${operation} was aborted`, options)

  if (status === undefined && isNetworkFailure(raw)) {
    const why = raw.code ?? (raw.name === 'TimeoutError' ? 'timed out' : serverText)
    return new StoreError('Unreachable', `cannot reach the S3 endpoint ${endpoint} (${why})`, options)
  }

  if (raw.name === 'CredentialsProviderError') {
    return new StoreError('AccessDenied',
      `no AWS credentials for bucket "${bucket}": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (${serverText})`, options)
  }

  if (code === 'NoSuchBucket' || (status === 404 && key === undefined && !NOT_IMPLEMENTED_CODES.has(code))) {
    return new StoreError('NoSuchBucket', `bucket "${bucket}" does not exist at ${endpoint}`, options)
  }

  if (CREDENTIAL_CODES.has(code) || status === 403) {
    const shown = code === 'Unknown' || code === 'UnknownError' ? `HTTP ${status}` : code
    return new StoreError('AccessDenied',
      `access to bucket "${bucket}" at ${endpoint} was denied (${shown}): check the credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE) and their permissions`,
      options)
  }

  if (NOT_IMPLEMENTED_CODES.has(code) || status === 501) {
    return new StoreError('NotSupported', `${operation} is not supported by the S3 server at ${endpoint}`, options)
  }

  if (NOT_FOUND_CODES.has(code) || status === 404) {
    const what = code === 'NoSuchUpload' ? `the multipart upload for "${key}"` : `"${key}"`
    return new StoreError('NotFound', `${what} does not exist in ${context.storeUrl}`, options)
  }

  if (code === 'PreconditionFailed' || status === 412) {
    return new StoreError('PreconditionFailed', `${operation} of "${key}" in ${context.storeUrl}: precondition failed`, options)
  }

  const subject = key === undefined ? `bucket "${bucket}"` : `"${key}" in ${context.storeUrl}`
  if (status === undefined) {
    // No answer from the server and no network failure: the cause is local (a body stream that failed, a bad argument).
    return new StoreError('Failed', `${operation} of ${subject} failed: ${serverText || code}`, options)
  }
  const detail = serverText === '' || serverText === code ? code : `${code}: ${serverText}`
  return new StoreError('Failed', `${operation} of ${subject} failed at ${endpoint} (HTTP ${status}): ${detail}`, options)
}

function isNetworkFailure(raw: RawError): boolean {
  return (raw.code !== undefined && NETWORK_CODES.has(raw.code))
    || raw.name === 'TimeoutError'
    || /socket hang up/i.test(raw.message ?? '')
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}
