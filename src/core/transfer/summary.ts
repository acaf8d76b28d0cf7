import type {MigrateReport} from './migrate-types.js'
import type {VerifyReport} from './verify-types.js'

/** Summary lines of the transfer commands, for people (reports hold the same as data). */

/** `1.2 GB`, `340 MB`, `12 KB`, `512 B`: decimal units. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

/** `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const seconds = Math.round(ms / 1000)
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor(seconds / 60) % 60).padStart(2, '0')} min`
}

export function formatCount(count: number, singular: string, plural = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : plural}`
}

export function migrateSummary(report: MigrateReport): string {
  const {copied} = report
  const moved = copied.files + copied.directories + copied.symlinks
  const parts: string[] = []
  const verb = report.dryRun ? 'would copy' : 'copied'
  if (moved > 0 || report.updated > 0 || report.deleted > 0) {
    parts.push(`${verb} ${formatCount(copied.files, 'file')} (${formatBytes(copied.bytes)}), ${formatCount(copied.directories, 'directory', 'directories')}, ${formatCount(copied.symlinks, 'symlink')}`)
    parts.push(`${formatCount(report.unchanged, 'entry', 'entries')} unchanged`)
    if (report.updated > 0) parts.push(`${report.dryRun ? 'would update' : 'updated'} the attributes of ${formatCount(report.updated, 'entry', 'entries')}`)
    if (report.deleted > 0) parts.push(`${report.dryRun ? 'would delete' : 'deleted'} ${formatCount(report.deleted, 'entry', 'entries')}`)
  } else {
    parts.push(`nothing to copy: ${formatCount(report.unchanged, 'entry', 'entries')} already complete`)
  }
  if (report.failed > 0) parts.push(`${report.failed} failed`)
  if (report.invalid > 0) parts.push(`${formatCount(report.invalid, 'name')} cannot be stored`)
  if (report.special > 0) parts.push(`${formatCount(report.special, 'special file')} skipped`)
  if (report.hardLinks > 0) parts.push(`${formatCount(report.hardLinks, 'hard-linked name')} copied each on its own`)
  if (report.abortedUploads > 0) parts.push(`${formatCount(report.abortedUploads, 'interrupted upload')} aborted`)
  const rate = report.dryRun || copied.bytes === 0 ? '' : `, ${formatBytes(report.bytesPerSecond)}/s`
  return `${report.dryRun ? 'dry run: ' : ''}${parts.join('; ')} (${formatDuration(report.elapsedMs)}${rate})`
}

export function verifySummary(report: VerifyReport): string {
  const scope = `${formatCount(report.compared, 'entry', 'entries')} compared (${report.mode}${report.oneWay ? ', one way' : ''}`
    + `${report.bytesHashed > 0 ? `, ${formatBytes(report.bytesHashed)} read` : ''}, ${formatDuration(report.elapsedMs)})`
  const notes: string[] = []
  if (report.fromJournal > 0) notes.push(`${formatCount(report.fromJournal, 'object')} unchanged since migrate wrote them (attributes from its journal)`)
  if (report.skippedSpecial > 0) notes.push(`${formatCount(report.skippedSpecial, 'special file')} not compared`)
  const notRecorded = Object.entries(report.notRecorded).filter(([, count]) => count > 0).map(([name, count]) => `${name} on ${count.toLocaleString('en-US')}`)
  if (notRecorded.length > 0) notes.push(`not recorded (not differences): ${notRecorded.join(', ')}`)
  const tail = notes.length > 0 ? `; ${notes.join('; ')}` : ''
  if (report.identicalTrees) return `identical: ${scope}${tail}`
  const counts = [
    `${report.onlyInSource} only in source`,
    ...(report.oneWay ? [] : [`${report.onlyInDestination} only in destination`]),
    `${report.differing} differ`,
    `${report.errors} errors`,
    `${report.unverifiable} unverifiable`,
  ]
  return `differences: ${counts.join(', ')}; ${scope}${tail}`
}
