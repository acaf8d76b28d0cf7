import {byteLength} from '../layout/keys.js'
import {isRecordedObject, matchesStats, type JournalRecord} from './journal.js'
import {mergeByKey} from './merge.js'
import type {RunContext} from './run-context.js'
import type {LocalEntry, StoreEntry} from './tree-entry.js'
import type {WorkList} from './work-list.js'

/**
 * - put: write the entry (nothing usable is at its key)
 * - check: an object is at its key; HEAD it (or hash the file) to learn whether it is complete
 * - delete: only the destination has the key (--delete)
 */
export type UploadAction = 'put' | 'check' | 'delete'

export interface UploadDetail {
  local?: LocalEntry
  /** The journal's record of the key, when the listed object is still the one recorded. */
  journal?: JournalRecord
}

/**
 * Merges the local walk with the store walk and writes the plan: entries whose journal record
 * still matches both the local attributes and the listed object are complete and skipped without
 * a request; the rest is put, checked or (with --delete) deleted.
 */
export async function planUpload(
  local: AsyncIterable<LocalEntry>,
  remote: AsyncIterable<StoreEntry>,
  work: WorkList<UploadDetail>,
  context: RunContext,
  limits: {maxKeyBytes: number},
): Promise<void> {
  const {counts, notes, progress} = context
  for await (const pair of mergeByKey(local, remote, {left: 'the source directory', right: 'the store'})) {
    progress.scanned++
    const entry = pair.left
    if (entry === undefined) {
      // An implicit directory has no object of its own: the objects below it are deleted one by one.
      if (context.delete && pair.right?.kind !== 'implicit') work.add('delete', pair.key, 0, {})
      continue
    }
    const {stats} = entry
    if (stats.type !== 'dir' && stats.type !== 'file' && stats.type !== 'symlink') {
      notes.add('special', entry.path, `${stats.type}: sockets, FIFOs and devices are not migrated`)
      continue
    }
    if (byteLength(entry.key) > limits.maxKeyBytes) {
      notes.add('invalid', entry.path, `the key would be ${byteLength(entry.key)} bytes, longer than the store allows (${limits.maxKeyBytes})`)
      continue
    }
    countScanned(context, entry)
    if (stats.type === 'file' && stats.nlink > 1) {
      notes.add('hard-link', entry.path, `${stats.nlink} links`, `${stats.dev}:${stats.ino}`)
    }

    const listed = pair.right
    const size = stats.type === 'file' ? stats.size : 0
    if (listed === undefined || listed.kind === 'implicit') {
      work.add('put', entry.key, size, {local: entry})
      continue
    }
    const record = context.journal.getInOrder(entry.key)
    const vouched = record !== undefined && isRecordedObject(record, listed) && listed.size === (stats.type === 'dir' ? 0 : stats.size)
    if (vouched && record.lastModified === undefined) context.journal.listedAs(entry.key, listed.etag!, listed.lastModified!.getTime())
    if (vouched && matchesStats(record, stats) && !(context.checksum && stats.type === 'file')) {
      counts.unchanged++
      continue
    }
    if (stats.type !== 'dir' && listed.size !== stats.size) work.add('put', entry.key, size, {local: entry})
    else work.add('check', entry.key, size, {local: entry, journal: vouched ? record : undefined})
  }
  work.flush()
}

function countScanned(context: RunContext, entry: LocalEntry): void {
  const scanned = context.counts.scanned
  if (entry.stats.type === 'dir') scanned.directories++
  else if (entry.stats.type === 'symlink') scanned.symlinks++
  else {
    scanned.files++
    scanned.bytes += entry.stats.size
  }
}
