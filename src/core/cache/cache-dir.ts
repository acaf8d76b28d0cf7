import {createHash} from 'node:crypto'
import {homedir} from 'node:os'
import {join} from 'node:path'

/**
 * Where the metadata cache of a store lives by default:
 * `$XDG_CACHE_HOME/zerofs/<first 16 hex of sha256(store URL)>/` (falling back to `~/.cache`).
 */
export function defaultCacheDir(storeUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache')
  const hash = createHash('sha256').update(storeUrl).digest('hex').slice(0, 16)
  return join(base, 'zerofs', hash)
}

export const META_DB_FILE = 'meta.db'
export const STAGING_DIR = 'staging'
export const OWNER_LOCK_FILE = 'owner.pid'
