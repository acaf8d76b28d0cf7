import {isRecordedObject, matchesStats, type JournalRecord} from './journal.js'
import {mergeByKey} from './merge.js'
import {RESTORE_STAGING_DIR} from './restore-worker.js'
import type {RunContext} from './run-context.js'
import type {LocalEntry, StoreEntry} from './tree-entry.js'
import type {WorkList} from './work-list.js'

/**
 * - get: download an object (file or symlink) to its path
 * - dir: make a directory; its attributes are set in the finish phase, after its contents
 * - delete: only the local tree has the path (--delete)
 */
export type RestoreAction = 'get' | 'dir' | 'delete'

export interface RestoreDetail {
  remote?: StoreEntry
  local?: LocalEntry
  /** The journal's record, when the listed object is still the one recorded. */
  journal?: JournalRecord
}

/**
 * Merges the store walk (the source) with the local walk of the destination and writes the plan.
 * A file whose journal record matches both its listed object and its local attributes is complete.
 */
export async function planRestore(
  remote: AsyncIterable<StoreEntry>,
  local: AsyncIterable<LocalEntry>,
  work: WorkList<RestoreDetail>,
  context: RunContext,
): Promise<void> {
  const {counts, progress} = context
  for await (const pair of mergeByKey(remote, local, {left: 'the store', right: 'the destination directory'})) {
    progress.scanned++
    const object = pair.left
    const existing = pair.right
    if (object === undefined) {
      if (context.delete) work.add('delete', pair.key, 0, {local: existing})
      continue
    }
    if (object.key.startsWith(`${RESTORE_STAGING_DIR}/`)) {
      context.notes.add('invalid', object.path, `the name ${RESTORE_STAGING_DIR} is where a restore stages its downloads`)
      continue
    }
    const record = context.journal.getInOrder(object.key)
    const vouched = record !== undefined && isRecordedObject(record, object) ? record : undefined
    if (object.kind !== 'object') {
      counts.scanned.directories++
      work.add('dir', object.key, 0, {remote: object, local: existing, journal: vouched})
      continue
    }
    counts.scanned.files++
    counts.scanned.bytes += object.size
    if (vouched !== undefined && existing !== undefined && matchesStats(vouched, existing.stats)) {
      counts.unchanged++
      continue
    }
    work.add('get', object.key, object.size, {remote: object, local: existing})
  }
  work.flush()
}
