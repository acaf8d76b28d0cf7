import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {runInGuest} from './kclient.js'
import {fileStoreView, s3BucketView, type BucketView} from './nfs-bucket-view.js'
import {startServe, type ServeProcess, type StartServeOptions} from './nfs-serve.js'
import {startS3rver, type S3rverHandle} from './s3rver.js'

export interface Served {
  label: 'file' | 's3'
  serve: ServeProcess
  /** The store as other tools see it. */
  view: BucketView
}

export interface ServedStoresOptions {
  protocol?: StartServeOptions['protocol']
  /** Objects to put in each store before `serve` starts. */
  seed?: (view: BucketView) => Promise<void>
}

/**
 * `zerofs serve` on a fresh file store and on a fresh s3rver bucket (in that order), each with its
 * own cache directory, in one scratch directory: the set-up of a test file that runs a real client
 * against both stores.
 */
export class ServedStores {
  private constructor(readonly scratch: string, private readonly s3: S3rverHandle, readonly served: Served[]) {}

  static async start(name: string, options: ServedStoresOptions = {}): Promise<ServedStores> {
    const scratch = await mkdtemp(join(tmpdir(), `zerofs-${name}-`))
    const s3 = await startS3rver(['zerofs-test'])
    const stores = new ServedStores(scratch, s3, [])
    const env = {XDG_CACHE_HOME: join(scratch, 'xdg-cache'), XDG_DATA_HOME: join(scratch, 'xdg-data')}
    const fileStore = join(scratch, 'store')
    await mkdir(fileStore)
    const sides = [
      {label: 'file' as const, view: fileStoreView(fileStore), location: fileStore, env},
      {label: 's3' as const, view: s3BucketView(s3.endpoint, 'zerofs-test'), location: 's3://zerofs-test', env: {...env, ...s3.env}},
    ]
    try {
      for (const side of sides) {
        await options.seed?.(side.view)
        const args = [side.location, '--cache-dir', join(scratch, `cache-${side.label}`)]
        stores.served.push({label: side.label, view: side.view, serve: await startServe(args, {env: side.env, protocol: options.protocol})})
      }
    } catch (error) {
      for (const {label, view} of sides) if (!stores.served.some((served) => served.label === label)) await view.close()
      await stores.stop()
      throw error
    }
    return stores
  }

  /** Kills the servers (those still running) and removes everything. */
  async stop(): Promise<void> {
    for (const {serve, view} of this.served) {
      await serve.stop('SIGKILL')
      await view.close()
    }
    await this.s3.stop()
    await rm(this.scratch, {recursive: true, force: true})
  }
}

/**
 * Runs a POSIX suite script (test/protocols/nfs-kernel/posix-suite.sh or one that calls it) in the
 * kclient guest against both served stores, 255-byte names on the file store only (s3rver exits on
 * them), and fails unless every check passed and both stores were unmounted. Returns the output.
 */
export async function runSuiteInGuest(script: string, served: Served[]): Promise<string> {
  const [file, s3] = served
  const result = await runInGuest(script, [`file:${file.serve.port}:1`, `s3:${s3.serve.port}:0`], {
    timeoutSeconds: 3000,
    onLine: (line) => process.stdout.write(`# guest: ${line}\n`),
  })
  const failed = result.output.split('\n').filter((line) => line.startsWith('not ok'))
  assert.deepEqual(failed, [], result.output)
  assert.equal(result.code, 0, result.output)
  for (const label of ['file', 's3']) assert.match(result.output, new RegExp(`^ok ${label} umount`, 'm'))
  return result.output
}
