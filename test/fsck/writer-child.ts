/**
 * A process that owns a cache, as a `zerofs serve` would: it opens an Fs, does the work its
 * scenario names, prints one JSON line `{"ready": true, ...}` and waits, to be checked beside (a
 * live owner) or killed with SIGKILL (a crash).
 *
 *   staged-writes      mkdir docs; docs/file0..2 written and not uploaded; docs/empty.txt created and
 *                      never written; existing.txt (if present) truncated to 4 bytes
 *   directory-rename   renames old/ to new/ and is stuck on the third copy (killed mid-rename)
 */
import {pathToFileURL} from 'node:url'
import {Fs} from '../../src/core/fs/fs.js'
import {ROOT_INO} from '../../src/core/fs/types.js'
import {FileStore} from '../../src/core/store/file-store.js'
import type {ObjectStore} from '../../src/core/store/object-store.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import type {StoreLocation} from '../core/fs-stores.js'
import {S3RVER_CREDENTIALS} from '../helpers/s3rver.js'

export type WriterScenario = 'staged-writes' | 'directory-rename'

export interface WriterConfig {
  store: StoreLocation
  cacheDir: string
  scenario: WriterScenario
}

const owner = {uid: 1000, gid: 1000}
const NEVER = 3_600_000

export function stagedContent(index: number): Buffer {
  return Buffer.from(`acknowledged ${index} `.repeat(500))
}

async function openStore(location: StoreLocation): Promise<ObjectStore> {
  return location.kind === 'file'
    ? new FileStore(location.dir)
    : S3Store.open(location.bucket, location.prefix, {endpoint: location.endpoint, credentials: S3RVER_CREDENTIALS})
}

/** The store, except that its third copy never finishes. */
function stuckOnThirdCopy(store: ObjectStore, onStuck: () => void): ObjectStore {
  let copies = 0
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'copy') {
        return async (...args: Parameters<ObjectStore['copy']>) => {
          if (++copies === 3) {
            onStuck()
            await new Promise(() => undefined)
          }
          return target.copy(...args)
        }
      }
      const value = Reflect.get(target, property, receiver) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

function report(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item))}\n`)
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as WriterConfig
  const store = await openStore(config.store)
  if (config.scenario === 'staged-writes') {
    const fs = await Fs.open({store, cacheDir: config.cacheDir, flushDelayMs: NEVER})
    const docs = await fs.mkdir(ROOT_INO, 'docs', {mode: 0o755, ...owner})
    const inos: Record<string, bigint> = {}
    for (let i = 0; i < 3; i++) {
      const file = await fs.create(docs.ino, `file${i}`, {mode: 0o640, ...owner})
      await fs.write(file.ino, 0, stagedContent(i))
      inos[`file${i}`] = file.ino
    }
    inos['empty.txt'] = (await fs.create(docs.ino, 'empty.txt', {mode: 0o600, ...owner})).ino
    const existing = await fs.lookup(ROOT_INO, 'existing.txt').catch(() => undefined)
    if (existing) {
      await fs.setattr(existing.ino, {size: 4})
      inos['existing.txt'] = existing.ino
    }
    report({ready: true, inos})
  } else {
    const stuck = stuckOnThirdCopy(store, () => report({ready: true}))
    const fs = await Fs.open({store: stuck, cacheDir: config.cacheDir, flushDelayMs: NEVER})
    void fs.rename(ROOT_INO, 'old', ROOT_INO, 'new')
  }
  // Stay alive until killed: a pending promise alone does not keep the event loop running.
  setInterval(() => undefined, NEVER)
}

// Run as a script only: tests import stagedContent from here.
if (import.meta.url === pathToFileURL(process.argv[1]).href) await main()
