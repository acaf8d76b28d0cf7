import {join} from 'node:path'

/**
 * A device's part of the store's cache directory: `nbd/NAME/` holds the owner lock (`owner.pid`, one
 * serve per device), `chunks/` (local copies of chunks, the read and write-back cache) and `dirty/`
 * (the DirtyJournal).
 */
export const DEVICES_CACHE_DIR = 'nbd'

export function deviceCacheDir(cacheDir: string, name: string): string {
  return join(cacheDir, DEVICES_CACHE_DIR, name)
}

export function chunkFilesDir(deviceDir: string): string {
  return join(deviceDir, 'chunks')
}

export function dirtyJournalDir(deviceDir: string): string {
  return join(deviceDir, 'dirty')
}
