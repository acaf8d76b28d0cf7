/**
 * Errors a store raises. Every one names what it concerns (the bucket, the endpoint, the key) so that
 * a command can print one clear line. `code` is stable and is what callers switch on.
 */
export type StoreErrorCode =
  | 'NotFound'          // the key does not exist
  | 'NoSuchBucket'      // the bucket (or the FileStore's directory) does not exist
  | 'AccessDenied'      // credentials rejected or not allowed
  | 'Unreachable'       // the endpoint cannot be reached (refused, DNS, timeout)
  | 'NotSupported'      // the server does not implement this call (e.g. UploadPartCopy on s3rver)
  | 'PreconditionFailed'
  | 'InvalidKey'        // the key cannot be stored (e.g. a FileStore key whose component is a file elsewhere)
  | 'Conflict'          // e.g. a FileStore put of `a/b` while `a` is a file
  | 'Aborted'
  | 'Failed'            // anything else, with the server's own code in `detail`

export class StoreError extends Error {
  readonly code: StoreErrorCode
  readonly key?: string

  constructor(code: StoreErrorCode, message: string, options?: {key?: string; cause?: unknown}) {
    super(message, {cause: options?.cause})
    this.name = 'StoreError'
    this.code = code
    this.key = options?.key
  }
}

export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code)
}
