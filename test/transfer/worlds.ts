import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe} from 'node:test'

import {FileStore} from '../../src/core/store/file-store.js'
import type {ObjectStore} from '../../src/core/store/object-store.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {Migration} from '../../src/core/transfer/migration.js'
import type {MigrateOptions, MigrateReport} from '../../src/core/transfer/migrate-types.js'
import type {Note, NoteKind} from '../../src/core/transfer/notes.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'

// The SDK's notice that Node 20 support ends is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export type StoreKind = 'file' | 's3'

export const BUCKET = 'zerofs-transfer'

/** A scratch directory and a fresh store of one kind: a FileStore, or a prefix of a bucket on a real s3rver. */
export interface World {
  kind: StoreKind
  scratch: string
  store: ObjectStore
  /** How the CLI names the store: `file:///…` or `s3://bucket/prefix`. */
  url: string
  /** The S3 server (s3 worlds only). */
  server?: S3rverHandle
  cacheDir: string
  /** Another store on a fresh prefix (or directory) of the same server. */
  freshStore(name: string): Promise<{store: ObjectStore; url: string}>
}

/**
 * Runs `body` once per store kind; the world (and its s3rver) lives for the whole describe block,
 * so that tests in it may build on each other's results.
 */
export function describeOnStores(title: string, body: (world: () => World) => void, kinds: StoreKind[] = ['file', 's3']): void {
  for (const kind of kinds) {
    describe(`${title} (${kind})`, () => {
      let world: World | undefined
      const stores: ObjectStore[] = []
      before(async () => {
        const scratch = await mkdtemp(join(tmpdir(), `zerofs-transfer-${kind}-`))
        const server = kind === 's3' ? await startS3rver([BUCKET]) : undefined
        const freshStore = async (name: string): Promise<{store: ObjectStore; url: string}> => {
          if (server === undefined) {
            const dir = join(scratch, `store-${name}`)
            await mkdir(dir)
            const store = new FileStore(dir)
            stores.push(store)
            return {store, url: store.url}
          }
          const store = await S3Store.open(BUCKET, name, {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS})
          stores.push(store)
          return {store, url: `s3://${BUCKET}/${name}`}
        }
        const {store, url} = await freshStore('main')
        world = {kind, scratch, store, url, server, cacheDir: join(scratch, 'cache'), freshStore}
      })
      after(async () => {
        await Promise.allSettled(stores.map((store) => store.close()))
        await world?.server?.stop()
        if (world) await rm(world.scratch, {recursive: true, force: true})
      })
      body(() => {
        if (world === undefined) throw new Error('the world is made in before()')
        return world
      })
    })
  }
}

export interface MigrationOutcome {
  report: MigrateReport
  notes: Record<NoteKind, Note[]>
}

const NOTE_KINDS: NoteKind[] = ['failed', 'invalid', 'special', 'hard-link', 'would-copy', 'would-update', 'would-delete']

/** One whole run of the engine, with every note it made. */
export async function runMigration(options: MigrateOptions): Promise<MigrationOutcome> {
  const migration = await Migration.open(options)
  try {
    const report = await migration.run()
    const notes = Object.fromEntries(NOTE_KINDS.map((kind) => [kind, [...migration.notes(kind)]])) as Record<NoteKind, Note[]>
    return {report, notes}
  } finally {
    migration.close()
  }
}

/** Every key of a store with its ETag and LastModified, to see what a run rewrote. */
export async function listKeys(store: ObjectStore): Promise<Map<string, {etag: string; lastModified: number; size: number}>> {
  const keys = new Map<string, {etag: string; lastModified: number; size: number}>()
  for await (const entry of store.list()) {
    if (entry.kind === 'object') keys.set(entry.key, {etag: entry.etag, lastModified: entry.lastModified.getTime(), size: entry.size})
  }
  return keys
}
