import {createHash, type Hash} from 'node:crypto'
import type {StagedFile} from '../cache/staging-journal.js'
import type {Ino} from './types.js'

/** Files whose running hash is kept at once (each a hash state of a few hundred bytes). */
const MAX_FILES = 1024

/**
 * The SHA-256 of staged files written from their start, in order, without gaps, as a copying
 * client writes them, computed as the writes arrive. When such a file is uploaded its hash is
 * already known, so a large one is not read once more to hash it before its multipart upload
 * (whose metadata carries the hash). Any other change to a file drops its running hash; it is then
 * hashed at upload as before. Nothing here is persisted: after a restart files are hashed at upload.
 */
export class SequentialDigests {
  private readonly running = new Map<Ino, {hash: Hash; size: number}>()

  /** Notes `data` written at `offset` to a file whose staged entry was `before` the write. */
  written(before: StagedFile, offset: number, data: Buffer): void {
    const current = this.running.get(before.ino)
    if (current && offset === current.size && before.size === current.size) {
      current.hash.update(data)
      current.size += data.length
      return
    }
    this.running.delete(before.ino)
    // Only a file that holds nothing yet, and takes nothing from an earlier object, starts a hash.
    if (offset !== 0 || before.size !== 0 || before.baseLimit !== 0) return
    this.running.set(before.ino, {hash: createHash('sha256').update(data), size: data.length})
    if (this.running.size > MAX_FILES) this.running.delete(this.running.keys().next().value!)
  }

  /** The hex SHA-256 of the staged file's whole content, when all of it was hashed as it was written. */
  sha256(staged: StagedFile): string | undefined {
    const current = this.running.get(staged.ino)
    if (!current || current.size !== staged.size || staged.baseLimit !== 0) return undefined
    // A copy: the file may be written further after this upload.
    return current.hash.copy().digest('hex')
  }

  forget(ino: Ino): void {
    this.running.delete(ino)
  }
}
