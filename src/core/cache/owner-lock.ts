import {linkSync, readFileSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {OWNER_LOCK_FILE} from './cache-dir.js'
import {CacheError} from './errors.js'

/**
 * The owner of a cache: the one process allowed to upload staged data and recover journals.
 * A lock file holds its PID; a lock whose process is gone is stale and may be taken over.
 */

/** Cache directories this process holds (a PID alone cannot tell two opens in one process apart). */
const heldHere = new Set<string>()

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

function ownerOf(cacheDir: string, file: string): number | undefined {
  const pid = readPid(file)
  if (pid === undefined) return undefined
  if (pid === process.pid) return heldHere.has(cacheDir) ? pid : undefined
  return isAlive(pid) ? pid : undefined
}

/** The PID of the live process that owns the cache, or undefined when nobody does. */
export function cacheOwner(cacheDir: string): number | undefined {
  return ownerOf(cacheDir, join(cacheDir, OWNER_LOCK_FILE))
}

export interface OwnerLock {
  release(): void
}

/** Takes ownership of the cache or fails with CacheError 'Locked' naming the live owner. */
export function acquireOwnerLock(cacheDir: string): OwnerLock {
  const file = join(cacheDir, OWNER_LOCK_FILE)
  for (let attempt = 0; attempt < 5; attempt++) {
    // Written aside and linked into place, so that the lock file is never seen without its PID.
    const draft = `${file}.${process.pid}`
    writeFileSync(draft, `${process.pid}\n`)
    try {
      linkSync(draft, file)
      heldHere.add(cacheDir)
      let released = false
      return {
        release() {
          if (released) return
          released = true
          heldHere.delete(cacheDir)
          if (readPid(file) === process.pid) unlinkSync(file)
        },
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    } finally {
      unlinkSync(draft)
    }
    const owner = ownerOf(cacheDir, file)
    if (owner !== undefined) {
      throw new CacheError('Locked', `the cache ${cacheDir} is in use by process ${owner}`)
    }
    // Stale: the owner died. Two processes taking over the same stale lock at once is not guarded
    // against (the second unlink could remove the first's fresh lock); servers are not started so.
    try {
      unlinkSync(file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
  throw new CacheError('Locked', `could not take the lock of the cache ${cacheDir}`)
}
