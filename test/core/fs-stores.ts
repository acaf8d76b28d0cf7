import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe} from 'node:test'
import {Fs, type FsOptions} from '../../src/core/fs/fs.js'
import {FileStore} from '../../src/core/store/file-store.js'
import type {ObjectStore} from '../../src/core/store/object-store.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'

export type StoreKind = 'file' | 's3'

export type StoreLocation = {kind: 'file'; dir: string} | {kind: 's3'; endpoint: string; bucket: string; prefix: string}

/** A fresh store (a temp directory, or a fresh prefix on the shared s3rver) with its own cache directory. */
export interface FsWorld {
  kind: StoreKind
  store: ObjectStore
  /** How another process opens the same store. */
  location: StoreLocation
  cacheDir: string
  /** Opens an Fs over the world's store and cache (silent, quick flushes unless overridden). */
  open(options?: Partial<FsOptions>): Promise<Fs>
  /** A second handle on the same store (another writer, as another tool would be). */
  otherStore(): Promise<ObjectStore>
  dispose(): Promise<void>
}

let worlds = 0

/** Runs `body` once per store kind: the FileStore on a temp directory and the S3Store on a real s3rver. */
export function describeOnStores(title: string, body: (newWorld: () => Promise<FsWorld>, kind: StoreKind) => void, kinds: StoreKind[] = ['file', 's3']): void {
  for (const kind of kinds) {
    describe(`${title} (${kind})`, () => {
      let server: S3rverHandle | undefined
      before(async () => {
        if (kind === 's3') server = await startS3rver(['zerofs-test'])
      })
      after(async () => {
        await server?.stop()
      })
      body(() => makeWorld(kind, server), kind)
    })
  }
}

async function makeWorld(kind: StoreKind, server: S3rverHandle | undefined): Promise<FsWorld> {
  const scratch = await mkdtemp(join(tmpdir(), 'zerofs-fs-test-'))
  await mkdir(join(scratch, 'store'))
  const id = `w${process.pid}-${worlds++}`
  const openStore = async (): Promise<ObjectStore> => kind === 'file'
    ? new FileStore(join(scratch, 'store'))
    : S3Store.open('zerofs-test', id, {endpoint: server!.endpoint, credentials: S3RVER_CREDENTIALS})
  const store = await openStore()
  const others: ObjectStore[] = []
  const opened: Fs[] = []
  const cacheDir = join(scratch, 'cache')
  const location: StoreLocation = kind === 'file'
    ? {kind, dir: join(scratch, 'store')}
    : {kind, endpoint: server!.endpoint, bucket: 'zerofs-test', prefix: id}
  return {
    kind,
    store,
    location,
    cacheDir,
    async open(options = {}) {
      const fs = await Fs.open({store, cacheDir, flushDelayMs: 50, ...options})
      opened.push(fs)
      return fs
    },
    async otherStore() {
      const other = await openStore()
      others.push(other)
      return other
    },
    async dispose() {
      for (const fs of opened) await fs.close().catch(() => undefined)
      for (const other of others) await other.close()
      await store.close()
      await rm(scratch, {recursive: true, force: true})
    },
  }
}

/** Every key in the store, in order. */
export async function allKeys(store: ObjectStore, prefix = ''): Promise<string[]> {
  const keys: string[] = []
  for await (const entry of store.list({prefix})) if (entry.kind === 'object') keys.push(entry.key)
  return keys
}

export async function readObject(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
