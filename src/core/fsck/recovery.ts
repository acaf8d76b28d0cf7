import {Fs} from '../fs/fs.js'
import type {Logger} from '../logger.js'
import type {ObjectStore} from '../store/object-store.js'

/**
 * The core's own recovery, as `zerofs serve` runs it at start: opening the Fs as the cache's owner
 * finishes interrupted directory renames and uploads every journaled write; closing it uploads
 * whatever a first attempt could not. Returns why it failed, if it did (what is left stays staged).
 */
export async function runCoreRecovery(store: ObjectStore, cacheDir: string, logger: Logger): Promise<string | undefined> {
  let fs: Fs | undefined
  try {
    fs = await Fs.open({store, cacheDir, logger})
    await fs.close()
    return undefined
  } catch (error) {
    await fs?.close().catch(() => undefined)
    return (error as Error).message
  }
}
