import {Args, Flags} from '@oclif/core'

import {describeDevice, deviceNames, type DeviceSummary} from '../core/blockdev/device-list.js'
import type {Fs} from '../core/fs/fs.js'
import type {Attr, DirEntry, FileType, Ino, Timestamp} from '../core/fs/types.js'
import type {ListEntry} from '../core/store/object-store.js'
import {BaseCommand, type BaseFlags} from '../cli/base-command.js'

/** Entries per readdir or printed page: what a listing holds in memory at once. */
const PAGE_SIZE = 1000

interface Listed {
  name: string
  /** Path inside the store: `/a/b`. */
  path: string
  type: FileType
  /** What text output shows as the name: the entry name, or the location for a listed file. */
  label: string
  /** With -l and --json only. */
  attr?: Attr
  target?: string
}

export default class Ls extends BaseCommand {
  static override summary = 'List a directory of a store, like ls.'
  static override description = `Names are printed one per line, sorted by name, as they arrive: a directory of any size is listed \
with bounded memory, also with --json (written incrementally as one JSON object). -l shows the mode, uid, gid, size, \
mtime (local time zone; set TZ=UTC for UTC) and name, and "-> target" for symlinks. Without LOCATION, the embedded \
default store is listed. Keys that cannot be POSIX paths are hidden here as by serve; --keys lists raw keys instead.`

  static override examples = [
    {description: 'List the embedded default store.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Long listing of a directory in a bucket on a custom endpoint.', command: '<%= config.bin %> <%= command.id %> -l s3://photos/2024 --endpoint http://127.0.0.1:9000'},
    {description: 'Everything below a directory of a local store, as JSON.', command: '<%= config.bin %> <%= command.id %> -R --json /srv/zerofs/projects'},
    {description: 'Raw keys under a prefix, including keys serve hides (e.g. "a//b").', command: '<%= config.bin %> <%= command.id %> --keys -R s3://photos/2024/'},
    {description: 'The NBD devices of a bucket: name, size, chunk size, chunk objects and the bytes they hold.', command: '<%= config.bin %> <%= command.id %> --devices s3://vm-disks'},
  ]

  static override enableJsonFlag = true
  static override checkStoreOnFailure = true

  static override args = {
    location: Args.string({
      description: 's3://BUCKET[/PATH], file:///DIR[/PATH] or a local path (the store is the nearest ancestor holding .zerofs). Default: the embedded store.',
    }),
  }

  static override flags = {
    long: Flags.boolean({char: 'l', summary: 'Long listing: mode, uid, gid, size, mtime, name.'}),
    recursive: Flags.boolean({char: 'R', summary: 'List subdirectories recursively.'}),
    keys: Flags.boolean({summary: 'List raw store keys under the prefix (with -R: all keys below it, without grouping).'}),
    devices: Flags.boolean({summary: 'List the store\'s NBD devices: NAME SIZE CHUNK-SIZE CHUNKS STORED-BYTES.', exclusive: ['keys', 'recursive']}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Ls)
    if (flags.keys) return this.listKeys(args.location, flags)
    if (flags.devices) return this.listDevices(args.location, flags)

    const {fs, located} = await this.openFs(args.location, flags)
    const detailed = flags.long || this.jsonEnabled()
    const writer = this.jsonEnabled()
      ? new ListingWriter<Listed>((chunk) => this.output(chunk), (entry) => JSON.stringify(toJson(entry)), 'entries')
      : new ListingWriter<Listed>((chunk) => this.output(chunk), flags.long ? longLine : (entry) => entry.label)

    const attr = await fs.resolve(located.path)
    if (attr.type === 'dir') {
      await this.listDirectory(fs, writer, attr.ino, located.path, {detailed, recursive: flags.recursive})
    } else {
      const name = located.path.slice(located.path.lastIndexOf('/') + 1)
      const file = {name, path: located.path, type: attr.type, label: this.where(located.path), attr}
      await writer.page([detailed ? await withTarget(fs, file) : file])
    }
    await writer.end()
  }

  /**
   * Prints a directory page by page. With -R, like ls -R: a heading per directory, then its
   * subdirectories in name order; only the subdirectories' inode numbers are kept meanwhile.
   */
  private async listDirectory(fs: Fs, writer: ListingWriter<Listed>, dir: Ino, path: string, options: {detailed: boolean; recursive: boolean}): Promise<void> {
    if (options.recursive) await writer.heading(this.where(path))
    const subdirectories: {name: string; ino: Ino}[] = []
    for (let cookie = 0n; ;) {
      const page = await fs.readdir(dir, cookie, PAGE_SIZE, {attributes: options.detailed})
      const listed = page.entries.map((entry) => listedEntry(entry, path))
      await writer.page(options.detailed ? await Promise.all(listed.map((entry, index) => withAttributes(fs, entry, page.entries[index].ino))) : listed)
      if (options.recursive) {
        for (const entry of page.entries) if (entry.type === 'dir') subdirectories.push({name: entry.name, ino: entry.ino})
      }
      if (page.eof || page.entries.length === 0) break
      cookie = page.entries[page.entries.length - 1].cookie
    }
    for (const subdirectory of subdirectories) {
      await this.listDirectory(fs, writer, subdirectory.ino, childPath(path, subdirectory.name), options)
    }
  }

  /** Raw keys through the store, not the POSIX core: shows what serve hides. */
  private async listKeys(location: string | undefined, flags: BaseFlags & {long: boolean; recursive: boolean}): Promise<void> {
    const {store, located} = await this.openStore(location, flags)
    const writer = this.jsonEnabled()
      ? new ListingWriter<ListEntry>((chunk) => this.output(chunk), (entry) => JSON.stringify(keyToJson(entry)), 'keys')
      : new ListingWriter<ListEntry>((chunk) => this.output(chunk), flags.long ? longKeyLine : keyName)
    const page: ListEntry[] = []
    for await (const entry of store.list({prefix: located.keyPrefix, delimiter: flags.recursive ? undefined : '/'})) {
      page.push(entry)
      if (page.length === PAGE_SIZE) await writer.page(page.splice(0))
    }
    await writer.page(page)
    await writer.end()
  }

  /** The devices under `.zerofs/nbd/` of the store, one at a time (each device's chunks are counted as they are listed). */
  private async listDevices(location: string | undefined, flags: BaseFlags): Promise<void> {
    const {store} = await this.openStore(location, flags)
    const writer = this.jsonEnabled()
      ? new ListingWriter<DeviceSummary>((chunk) => this.output(chunk), (device) => JSON.stringify(deviceToJson(device)), 'devices')
      : new ListingWriter<DeviceSummary>((chunk) => this.output(chunk), deviceLine)
    if (!this.jsonEnabled()) await this.output(`${'NAME'.padEnd(20)} ${'SIZE'.padStart(14)} ${'CHUNK-SIZE'.padStart(10)} ${'CHUNKS'.padStart(8)} ${'STORED'.padStart(14)}\n`)
    for await (const name of deviceNames(store)) await writer.page([await describeDevice(store, name)])
    await writer.end()
  }
}

function deviceToJson(device: DeviceSummary): Record<string, unknown> {
  return {
    name: device.name,
    size: device.manifest?.size ?? null,
    chunkSize: device.manifest?.chunkSize ?? null,
    chunks: device.chunks,
    storedBytes: device.storedBytes,
    ...(device.manifestError === undefined ? {} : {error: device.manifestError}),
  }
}

function deviceLine(device: DeviceSummary): string {
  const {manifest} = device
  const shape = manifest === undefined ? `${'?'.padStart(14)} ${'?'.padStart(10)}` : `${String(manifest.size).padStart(14)} ${String(manifest.chunkSize).padStart(10)}`
  const error = device.manifestError === undefined ? '' : `  (${device.manifestError})`
  return `${device.name.padEnd(20)} ${shape} ${String(device.chunks).padStart(8)} ${String(device.storedBytes).padStart(14)}${error}`
}

/** Streams a listing as text lines, or as one JSON object `{"<field>": [...]}` written page by page. */
class ListingWriter<T> {
  private written = 0
  private headings = 0

  constructor(
    private readonly write: (chunk: string) => Promise<void>,
    /** A text line, or with `jsonField` a JSON value. */
    private readonly format: (item: T) => string,
    private readonly jsonField?: string,
  ) {}

  /** An `ls -R` section heading; JSON output is flat (every entry has its path). */
  async heading(title: string): Promise<void> {
    if (this.jsonField !== undefined) return
    await this.write(`${this.headings++ === 0 ? '' : '\n'}${title}:\n`)
  }

  async page(items: T[]): Promise<void> {
    if (items.length === 0) return
    if (this.jsonField === undefined) {
      await this.write(items.map((item) => `${this.format(item)}\n`).join(''))
      return
    }
    const opening = this.written === 0 ? `{"${this.jsonField}": [\n  ` : ',\n  '
    this.written += items.length
    await this.write(opening + items.map((item) => this.format(item)).join(',\n  '))
  }

  async end(): Promise<void> {
    if (this.jsonField === undefined) return
    await this.write(this.written === 0 ? `{"${this.jsonField}": []}\n` : '\n]}\n')
  }
}

function listedEntry(entry: DirEntry, dirPath: string): Listed {
  return {name: entry.name, path: childPath(dirPath, entry.name), type: entry.type, label: entry.name, attr: entry.attr}
}

/** readdir was asked for attributes; an entry that still lacks them costs one getattr. */
async function withAttributes(fs: Fs, listed: Listed, ino: Ino): Promise<Listed> {
  const attr = listed.attr ?? (await fs.getattr(ino))
  return withTarget(fs, {...listed, type: attr.type, attr})
}

async function withTarget(fs: Fs, listed: Listed & {attr: Attr}): Promise<Listed> {
  return listed.type === 'symlink' ? {...listed, target: await fs.readlink(listed.attr.ino)} : listed
}

function childPath(dirPath: string, name: string): string {
  return dirPath === '/' ? `/${name}` : `${dirPath}/${name}`
}

const TYPE_LETTERS: Record<FileType, string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  fifo: 'p',
  socket: 's',
  chardev: 'c',
  blockdev: 'b',
}

/** `drwxr-xr-x`, `-rwsr-x---`, `drwxrwxrwt`, as ls -l prints st_mode. */
export function modeString(type: FileType, mode: number): string {
  const triad = (shift: number, specialBit: number, specialLetter: string): string => {
    const executable = (mode & (1 << shift)) !== 0
    const special = (mode & specialBit) !== 0
    const execute = special ? (executable ? specialLetter : specialLetter.toUpperCase()) : executable ? 'x' : '-'
    return `${mode & (4 << shift) ? 'r' : '-'}${mode & (2 << shift) ? 'w' : '-'}${execute}`
  }
  return TYPE_LETTERS[type] + triad(6, 0o4000, 's') + triad(3, 0o2000, 's') + triad(0, 0o1000, 't')
}

/** `2026-11-27 12:00` in the local time zone (TZ), as `ls -l --time-style=long-iso`. */
export function formatTime(time: Date): string {
  const two = (value: number): string => String(value).padStart(2, '0')
  return `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())} ${two(time.getHours())}:${two(time.getMinutes())}`
}

function toDate(timestamp: Timestamp): Date {
  return new Date(timestamp.sec * 1000 + Math.floor(timestamp.nsec / 1e6))
}

/** Fixed column widths (grown by wide values) keep a streamed listing aligned without reading it all first. */
function longLine(entry: Listed): string {
  const attr = entry.attr!
  const target = entry.target === undefined ? '' : ` -> ${entry.target}`
  return `${modeString(attr.type, attr.mode)} ${String(attr.uid).padStart(5)} ${String(attr.gid).padStart(5)} ${String(attr.size).padStart(12)} ${formatTime(toDate(attr.mtime))} ${entry.label}${target}`
}

function toJson(entry: Listed): {name: string; path: string; type: FileType; size: number; mode: number; uid: number; gid: number; mtime: string; target?: string} {
  const attr = entry.attr!
  return {
    name: entry.name,
    path: entry.path,
    type: attr.type,
    size: attr.size,
    mode: attr.mode,
    uid: attr.uid,
    gid: attr.gid,
    mtime: toDate(attr.mtime).toISOString(),
    ...(entry.target === undefined ? {} : {target: entry.target}),
  }
}

function keyName(entry: ListEntry): string {
  return entry.kind === 'prefix' ? entry.prefix : entry.key
}

/** Like `aws s3 ls`: size, last-modified, key; a common prefix shows PRE instead of a size. */
function longKeyLine(entry: ListEntry): string {
  if (entry.kind === 'prefix') return `${'PRE'.padStart(12)} ${''.padEnd(16)} ${entry.prefix}`
  return `${String(entry.size).padStart(12)} ${formatTime(entry.lastModified)} ${entry.key}`
}

function keyToJson(entry: ListEntry): {prefix: string} | {key: string; size: number; etag: string; lastModified: string} {
  if (entry.kind === 'prefix') return {prefix: entry.prefix}
  return {key: entry.key, size: entry.size, etag: entry.etag, lastModified: entry.lastModified.toISOString()}
}
