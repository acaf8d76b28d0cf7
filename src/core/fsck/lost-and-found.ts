import {mkdirSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

/** The folder of the cache directory where fsck puts data it will not delete and cannot place. */
export const LOST_AND_FOUND_DIR = 'lost+found'

/**
 * Moves files into `<cacheDir>/lost+found/` (same filesystem: a rename, never a copy and delete),
 * each under a name that says where it came from and when, with an optional note beside it.
 */
export class LostAndFound {
  readonly dir: string
  private readonly stamp = new Date().toISOString().replace(/[:.]/g, '-')

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, LOST_AND_FOUND_DIR)
  }

  /** Moves `source` to `lost+found/<name>.<time>` and returns where it went. */
  keep(source: string, name: string, note?: unknown): string {
    mkdirSync(this.dir, {recursive: true})
    // The name is claimed with an empty file, which the rename then replaces.
    const target = this.claim(`${name}.${this.stamp}`, (path) => writeFileSync(path, '', {flag: 'wx'}))
    renameSync(source, target)
    if (note !== undefined) writeFileSync(`${target}.json`, `${JSON.stringify(note, bigintAsString, 2)}\n`)
    return target
  }

  /** A fresh folder `lost+found/<name>.<time>/` to move several files into. */
  folder(name: string): string {
    mkdirSync(this.dir, {recursive: true})
    return this.claim(`${name}.${this.stamp}`, (path) => mkdirSync(path))
  }

  /** The first of `base`, `base.1`, `base.2`… that `create` can make (it fails with EEXIST when taken). */
  private claim(base: string, create: (path: string) => void): string {
    for (let attempt = 0; ; attempt++) {
      const candidate = join(this.dir, attempt === 0 ? base : `${base}.${attempt}`)
      try {
        create(candidate)
        return candidate
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
    }
  }
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
