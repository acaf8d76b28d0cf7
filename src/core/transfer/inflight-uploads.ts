import type Database from 'better-sqlite3'

import type {Logger} from '../logger.js'
import {isStoreError} from '../store/errors.js'
import type {ObjectStore} from '../store/object-store.js'

/** Server and client clocks may disagree by this much about when an upload started. */
const CLOCK_SKEW_MS = 15 * 60 * 1000

/**
 * Multipart uploads a run has in flight, recorded before each starts: a run killed mid-upload
 * leaves parts on the server, which the next run finds through this record and aborts (the store's
 * `put` owns its upload ids, so an interrupted upload cannot be resumed part by part).
 */
export class InflightUploads {
  private readonly insert: Database.Statement
  private readonly remove: Database.Statement

  constructor(private readonly db: Database.Database, private readonly pair: number) {
    this.insert = db.prepare('INSERT OR REPLACE INTO uploads (pair, key, started) VALUES (?, ?, ?)')
    this.remove = db.prepare('DELETE FROM uploads WHERE pair = ? AND key = ?')
  }

  async around<T>(key: string, upload: () => Promise<T>): Promise<T> {
    this.insert.run(this.pair, key, Date.now())
    try {
      return await upload()
    } finally {
      this.remove.run(this.pair, key)
    }
  }

  /**
   * Aborts the uploads an interrupted run left behind; returns how many, and a warning when the
   * server cannot list or abort them (s3rver), so that a lifecycle rule must clean up instead.
   */
  async abortInterrupted(store: ObjectStore, logger: Logger): Promise<{aborted: number; warning?: string}> {
    const rows = this.db.prepare('SELECT key, started FROM uploads WHERE pair = ?').all(this.pair) as Array<{key: string; started: number}>
    let aborted = 0
    let warning: string | undefined
    for (const {key, started} of rows) {
      try {
        for await (const upload of store.listMultipartUploads(key)) {
          if (upload.key !== key || upload.initiated.getTime() < started - CLOCK_SKEW_MS) continue
          await store.abortMultipartUpload(key, upload.uploadId)
          aborted++
          logger.info('aborted an interrupted multipart upload', {key, uploadId: upload.uploadId})
        }
      } catch (error) {
        if (!isStoreError(error, 'NotSupported')) throw error
        warning = `${store.url} cannot list or abort multipart uploads: parts of ${rows.length} interrupted upload(s) stay until a lifecycle rule removes them`
      }
      this.remove.run(this.pair, key)
      if (warning !== undefined) break
    }
    if (warning !== undefined) this.db.prepare('DELETE FROM uploads WHERE pair = ?').run(this.pair)
    return {aborted, warning}
  }
}
