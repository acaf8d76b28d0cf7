import {isStoreError} from '../store/errors.js'
import type {ObjectStore} from '../store/object-store.js'
import {formatAge} from './duration.js'
import type {Problem} from './problem.js'

export interface MultipartCheckOptions {
  store: ObjectStore
  /** Uploads started longer ago than this are stale (younger ones may still be running). */
  olderThanMs: number
  now: number
  /** Abort stale uploads. */
  repairing: boolean
  report: (problem: Problem) => void
}

/**
 * Incomplete multipart uploads: their parts are stored (and billed) until the upload is completed
 * or aborted. A server that cannot list them (s3rver) or does not let these credentials do so is
 * noted, not counted: fsck cannot tell.
 */
export async function checkMultipartUploads(options: MultipartCheckOptions): Promise<void> {
  const {store, olderThanMs, now, repairing, report} = options
  try {
    for await (const upload of store.listMultipartUploads()) {
      const age = now - upload.initiated.getTime()
      if (age < olderThanMs) continue
      const started = `started ${upload.initiated.toISOString()} (${formatAge(age)} ago), upload id ${upload.uploadId}`
      if (!repairing) {
        report({kind: 'bucket-stale-upload', severity: 'warning', key: upload.key, detail: started, repaired: false})
        continue
      }
      try {
        await store.abortMultipartUpload(upload.key, upload.uploadId)
        report({kind: 'bucket-stale-upload', severity: 'warning', key: upload.key, detail: `${started}; aborted`, repaired: true})
      } catch (error) {
        if (isStoreError(error, 'NotFound')) continue // completed or aborted meanwhile
        report({kind: 'bucket-stale-upload', severity: 'warning', key: upload.key, detail: `${started}; aborting failed: ${(error as Error).message}`, repaired: false})
      }
    }
  } catch (error) {
    if (!isStoreError(error, 'NotSupported') && !isStoreError(error, 'AccessDenied')) throw error
    report({
      kind: 'bucket-uploads-unlisted', severity: 'info', repaired: false,
      detail: `incomplete multipart uploads could not be listed: ${error.message}`,
    })
  }
}
