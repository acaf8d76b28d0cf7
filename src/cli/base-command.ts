import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {inspect} from 'node:util'

import {defaultCacheDir} from '../core/cache/cache-dir.js'
import {isFsError, type FsError} from '../core/errors.js'
import type {Fs, FsOptions} from '../core/fs/fs.js'
import {isStoreError, type StoreError} from '../core/store/errors.js'
import {locate, locateStore, type Located} from '../core/store/locate.js'
import type {ObjectStore} from '../core/store/object-store.js'
import {openStore, storeUrl, type StoreOptions} from '../core/store/open-store.js'

export type BaseFlags = Interfaces.InferredFlags<typeof BaseCommand.baseFlags>

/**
 * What every zerofs command shares: the store flags, opening the store and the POSIX core for a
 * location (and closing them), bounded-memory output to stdout, and turning any failure into one
 * line on stderr plus the command's exit code. Stack traces appear only with --debug.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    endpoint: Flags.string({
      summary: 'S3 endpoint URL (MinIO, Ceph RGW, s3rver). Default: AWS_ENDPOINT_URL, else AWS.',
      helpGroup: 'STORE',
    }),
    region: Flags.string({summary: 'S3 region. Default: AWS_REGION or the shared config, else us-east-1.', helpGroup: 'STORE'}),
    'path-style': Flags.boolean({
      summary: 'Address buckets as ENDPOINT/BUCKET instead of BUCKET.ENDPOINT (default with --endpoint).',
      helpGroup: 'STORE',
      allowNo: true,
    }),
    'checksum-mode': Flags.option({
      options: ['when-required', 'when-supported'] as const,
      summary: 'When the S3 SDK sends and checks checksums. Default: when-required with a custom endpoint.',
      helpGroup: 'STORE',
    })(),
    'cache-dir': Flags.string({
      summary: 'Metadata cache directory. Default: $XDG_CACHE_HOME/zerofs/<hash of the store URL>.',
      helpGroup: 'STORE',
    }),
    debug: Flags.boolean({summary: 'Print stack traces of failures.'}),
  }

  /** The exit code of every failure this command reports (design.md's command table). */
  static errorExitCode = 2

  /**
   * One-shot readers (ls, cat) do not spend a round trip on checking the store before their first
   * request: the check runs only when the command fails, to name the cause (a missing bucket, for
   * one, looks like a missing key to a HEAD).
   */
  static checkStoreOnFailure = false

  /**
   * Commands that take a whole store (serve, fsck) read `s3://BUCKET/PREFIX` as a store scoped to
   * PREFIX, as migrate and verify do; the others read it as a path inside the bucket.
   */
  static takesWholeStore = false

  private located?: Located
  private store?: ObjectStore
  private fs?: Fs
  private stdoutBroken = false

  protected override async init(): Promise<void> {
    await super.init()
    // The AWS SDK warns on every run under Node < 22 about its own future releases; zerofs supports
    // Node 20 with the SDK it pins, so that warning is noise on a command's stderr.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
    // A reader that goes away (`zerofs cat big | head`) is not a failure: remember it and stop quietly.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.stdoutBroken = true
    })
  }

  /** Opens the store a location names and checks that it answers (bucket exists, credentials work). */
  protected async openStore(location: string | undefined, flags: BaseFlags): Promise<{store: ObjectStore; located: Located}> {
    const {store, located} = await this.connect(location, flags)
    await store.check()
    return {store, located}
  }

  /**
   * Opens the store and the POSIX core over it, read-only unless `options` sets `readOnly` (a
   * read-only Fs shares the cache with a running `serve`). Both are closed when the command ends.
   */
  protected async openFs(location: string | undefined, flags: BaseFlags, options: Omit<FsOptions, 'store' | 'cacheDir'> = {}): Promise<{fs: Fs; located: Located}> {
    const {store, located} = await this.connect(location, flags)
    if (!(this.constructor as typeof BaseCommand).checkStoreOnFailure) await store.check()
    return {fs: await this.openFsOn(store, located, flags, options), located}
  }

  /** The POSIX core over a store this command opened (openStore); closed when the command ends. */
  protected async openFsOn(store: ObjectStore, located: Located, flags: BaseFlags, options: Omit<FsOptions, 'store' | 'cacheDir'> = {}): Promise<Fs> {
    // Loaded here: migrate and verify never open the POSIX core (its modules are ~20 ms of their start).
    const {Fs} = await import('../core/fs/fs.js')
    this.fs = await Fs.open({readOnly: true, ...options, store, cacheDir: this.cacheDir(located, flags)})
    return this.fs
  }

  /** The metadata cache and staging directory of a store: --cache-dir, else one per store URL. */
  protected cacheDir(located: Located, flags: BaseFlags): string {
    return flags['cache-dir'] ?? defaultCacheDir(storeUrl(located.store))
  }

  private async connect(location: string | undefined, flags: BaseFlags): Promise<{store: ObjectStore; located: Located}> {
    const located = (this.constructor as typeof BaseCommand).takesWholeStore ? await locateStore(location) : await locate(location)
    this.located = located
    this.store = await openStore(located.store, storeOptions(flags))
    return {store: this.store, located}
  }

  /** How a path inside the opened store is shown to the user: `s3://bucket/a/b` or `/srv/data/a/b`. */
  protected where(path?: string): string {
    if (this.located === undefined) return path ?? ''
    const inside = (path ?? this.located.path).replace(/^\/*/, '/')
    return inside === '/' ? this.located.store : `${this.located.store.replace(/\/$/, '')}${inside}`
  }

  /** Writes to stdout and resolves once the chunk is handed over: backpressure for long listings and streams. */
  protected output(chunk: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      process.stdout.write(chunk, (error) => (error ? reject(error) : resolve()))
    })
  }

  protected override async catch(error: Interfaces.CommandError): Promise<unknown> {
    if (error instanceof Errors.CLIError) return super.catch(error) // usage errors and exits: oclif's own rendering
    if (this.readerWentAway(error)) this.exit(0)
    const cause = (await this.storeFailure(error)) ?? error
    if (cause !== error && this.argv.includes('--debug')) process.stderr.write(`${inspect(error)}\n`)
    process.stderr.write(`${this.config.bin} ${this.id}: ${this.describe(cause)}\n`)
    if (this.argv.includes('--debug')) process.stderr.write(`${inspect(error)}\n`)
    this.exit((this.constructor as typeof BaseCommand).errorExitCode)
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    let closeError: unknown
    for (const resource of [this.fs, this.store]) {
      try {
        await resource?.close()
      } catch (failure) {
        closeError ??= failure
      }
    }
    this.fs = undefined
    this.store = undefined
    // After a failure, that failure is the one to report; a close failure after success is reported like any other.
    if (closeError !== undefined && error === undefined) await this.catch(closeError as Interfaces.CommandError)
    return super.finally(error)
  }

  /** With checkStoreOnFailure: the store's own failure (no bucket, credentials refused) behind a failed command. */
  private async storeFailure(error: unknown): Promise<unknown> {
    if (!(this.constructor as typeof BaseCommand).checkStoreOnFailure || this.store === undefined) return undefined
    if (!isFsError(error) && !isStoreError(error)) return undefined
    // An unreachable endpoint is named already; checking would only wait for it again.
    if (storeErrorIn(error)?.code === 'Unreachable') return undefined
    try {
      await this.store.check()
      return undefined
    } catch (failure) {
      return failure
    }
  }

  private readerWentAway(error: unknown): boolean {
    const code = (error as NodeJS.ErrnoException | undefined)?.code
    return code === 'EPIPE' || (this.stdoutBroken && code === 'ERR_STREAM_DESTROYED')
  }

  /** One line naming the cause: the bucket, the endpoint, or the path. */
  private describe(error: unknown): string {
    const storeError = storeErrorIn(error)
    if (storeError !== undefined && (storeError.code !== 'NotFound' || !isFsError(error))) return storeError.message
    if (isFsError(error)) return `${this.where(error.path)}: ${errnoText(error)}`
    const message = error instanceof Error ? error.message : String(error)
    const firstLine = message.split('\n')[0]
    return this.argv.includes('--debug') ? firstLine : `${firstLine} (run with --debug for details)`
  }
}

/** The store options the shared flags give; commands that open stores themselves (migrate) start from these. */
export function storeOptions(flags: BaseFlags): StoreOptions {
  return {
    endpoint: flags.endpoint,
    region: flags.region,
    pathStyle: flags['path-style'],
    checksumMode: flags['checksum-mode'],
  }
}

/** The StoreError an error is or was caused by: it names the bucket, endpoint or key. */
function storeErrorIn(error: unknown): StoreError | undefined {
  for (let current = error, depth = 0; current !== undefined && depth < 8; depth++) {
    if (isStoreError(current)) return current
    current = current instanceof Error ? current.cause : undefined
  }
  return undefined
}

/** `ENOENT: no such file or directory, lookup '/a' (why)` → `no such file or directory (why)`. */
function errnoText(error: FsError): string {
  const head = `${error.code}: `
  const tail = `, ${error.syscall}`
  const end = error.message.indexOf(tail)
  if (!error.message.startsWith(head) || end === -1) return error.message
  const detail = /\(([^()]*)\)$/.exec(error.message)
  return error.message.slice(head.length, end) + (detail ? ` (${detail[1]})` : '')
}
