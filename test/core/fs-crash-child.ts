/**
 * The process the crash tests kill: opens an Fs, does the work named on the command line, prints
 * one JSON line when it is ready to be killed (SIGKILL), and waits.
 */
import {Fs} from '../../src/core/fs/fs.js'
import {ROOT_INO} from '../../src/core/fs/types.js'
import {FileStore} from '../../src/core/store/file-store.js'
import type {ObjectStore} from '../../src/core/store/object-store.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {S3RVER_CREDENTIALS} from '../helpers/s3rver.js'

export interface CrashChildConfig {
  store: {kind: 'file'; dir: string} | {kind: 's3'; endpoint: string; bucket: string; prefix: string}
  cacheDir: string
  scenario: 'staged-writes' | 'directory-rename' | 'file-rename'
}

const owner = {uid: 1000, gid: 1000}

async function openStore(config: CrashChildConfig['store']): Promise<ObjectStore> {
  return config.kind === 'file'
    ? new FileStore(config.dir)
    : S3Store.open(config.bucket, config.prefix, {endpoint: config.endpoint, credentials: S3RVER_CREDENTIALS})
}

/** The store, except that its `nth` call of `method` never finishes: the process is killed there. */
function stallingOn(store: ObjectStore, method: 'copy' | 'delete', nth: number, onStall: () => void): ObjectStore {
  let calls = 0
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === method) {
        return async (...args: unknown[]) => {
          if (++calls === nth) {
            onStall()
            await new Promise(() => undefined)
          }
          return (target[method] as (...values: unknown[]) => Promise<void>).apply(target, args)
        }
      }
      const value = Reflect.get(target, property, receiver) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

function report(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item))}\n`)
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as CrashChildConfig
  const store = await openStore(config.store)
  if (config.scenario === 'staged-writes') {
    const fs = await Fs.open({store, cacheDir: config.cacheDir, flushDelayMs: 3_600_000})
    const dir = await fs.mkdir(ROOT_INO, 'docs', {mode: 0o755, ...owner})
    const inos: Record<string, bigint> = {}
    for (let i = 0; i < 3; i++) {
      const file = await fs.create(dir.ino, `file${i}.txt`, {mode: 0o640, ...owner})
      await fs.write(file.ino, 0, Buffer.from(`acknowledged ${i} `.repeat(1000)))
      await fs.write(file.ino, 5, Buffer.from('!'))
      inos[`file${i}.txt`] = file.ino
    }
    const existing = await fs.lookup(ROOT_INO, 'existing.txt')
    await fs.write(existing.ino, 2, Buffer.from('XX'))
    await fs.setattr(existing.ino, {mode: 0o600})
    report({ready: true, inos})
  } else if (config.scenario === 'directory-rename') {
    const stalling = stallingOn(store, 'copy', 3, () => report({ready: true}))
    const fs = await Fs.open({store: stalling, cacheDir: config.cacheDir, flushDelayMs: 3_600_000})
    const dir = await fs.lookup(ROOT_INO, 'old')
    report({dir: dir.ino})
    await fs.rename(ROOT_INO, 'old', ROOT_INO, 'new')
  } else {
    // The object is copied to its new name; the process dies before the old one is deleted.
    const stalling = stallingOn(store, 'delete', 1, () => report({ready: true}))
    const fs = await Fs.open({store: stalling, cacheDir: config.cacheDir, flushDelayMs: 3_600_000})
    const docs = await fs.lookup(ROOT_INO, 'docs')
    const file = await fs.lookup(docs.ino, 'draft.txt')
    report({file: file.ino})
    await fs.rename(docs.ino, 'draft.txt', docs.ino, 'final.txt')
  }
  await new Promise(() => undefined)
}

await main()
