import {createHash, randomBytes} from 'node:crypto'
import type {BigIntStats} from 'node:fs'
import {link, open, readdir, unlink, type FileHandle} from 'node:fs/promises'
import {join} from 'node:path'

import {sha256Off} from './digest.js'
import {digestFileOffThread} from './digest-thread.js'

/**
 * Temp files of the FileStore: every write lands in `.zerofs/filestore/tmp/` first, hashed while it
 * is written and synced, so that a rename can publish it whole. Names carry the writer's pid, which
 * lets a later start remove what a killed process left behind without touching a live one's files.
 */

export interface WrittenTemp {
  path: string
  size: number
  /** The object's ETag: the hex MD5 of the content, unless `md5: false` was asked (see WriteTempOptions). */
  etag: string
  /** Hex. */
  sha256: string
  /** The synced file's stat: its identity survives the rename into place. */
  stats: BigIntStats
}

export interface WriteTempOptions {
  signal?: AbortSignal
  onProgress?: (bytesWritten: number) => void
  /** Called with each chunk before it is written (e.g. to hash the parts of a multipart upload). */
  onChunk?: (chunk: Buffer) => void
  /**
   * False spares the MD5: the ETag is then derived from the SHA-256 (and has a dash, as S3's non-MD5
   * ETags have); of a Buffer source the SHA-256 is computed off the main thread.
   */
  md5?: boolean
}

const tempPath = (dir: string): string => join(dir, `${process.pid}.${randomBytes(8).toString('hex')}`)

/** Errors of link(2) that only say this file cannot be linked there (another filesystem, no hard links). */
const UNLINKABLE = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'])

/** Writes `source` into a new temp file in `dir`, fsyncs it, and returns its digests and stat. */
export async function writeTemp(dir: string, source: AsyncIterable<Uint8Array> | Buffer, options: WriteTempOptions = {}): Promise<WrittenTemp> {
  const path = tempPath(dir)
  const handle = await open(path, 'wx')
  try {
    const written = Buffer.isBuffer(source) && options.md5 === false
      ? await writeBufferWithoutMd5(handle, source, options)
      : await writeHashed(handle, Buffer.isBuffer(source) ? [source] : source, options)
    await handle.sync()
    const stats = await handle.stat({bigint: true})
    await handle.close()
    return {path, ...written, stats}
  } catch (error) {
    await handle.close().catch(() => undefined)
    await unlink(path).catch(() => undefined)
    throw error
  }
}

/**
 * Makes a file that is never written again a temp file in `dir` without copying it: a hard link,
 * fsynced. Its digests are `sha256`, taken on trust, when given with `md5: false`; else the file is
 * read once for them on the digest thread while the flush runs. Undefined when it cannot be linked
 * there (another filesystem, no hard links).
 */
export async function linkTemp(dir: string, source: string, options: WriteTempOptions & {sha256?: string} = {}): Promise<WrittenTemp | undefined> {
  const path = tempPath(dir)
  try {
    await link(source, path)
  } catch (error) {
    if (UNLINKABLE.has((error as NodeJS.ErrnoException).code ?? '')) return undefined
    throw error
  }
  try {
    const handle = await open(path, 'r')
    try {
      if (options.sha256 !== undefined && options.md5 === false) {
        await handle.sync()
        const stats = await handle.stat({bigint: true})
        return {path, size: Number(stats.size), etag: sha256Etag(options.sha256), sha256: options.sha256, stats}
      }
      options.signal?.throwIfAborted()
      const [digests] = await Promise.all([digestFileOffThread(path, {md5: options.md5 !== false}), handle.sync()])
      options.signal?.throwIfAborted()
      options.onProgress?.(digests.size)
      return {path, size: digests.size, etag: digests.md5 ?? sha256Etag(digests.sha256), sha256: digests.sha256, stats: await handle.stat({bigint: true})}
    } finally {
      await handle.close()
    }
  } catch (error) {
    await unlink(path).catch(() => undefined)
    throw error
  }
}

type Written = Pick<WrittenTemp, 'size' | 'etag' | 'sha256'>

/** Hashes the chunks and writes them to `handle`. */
async function writeHashed(handle: FileHandle, chunks: AsyncIterable<Uint8Array> | Buffer[], options: WriteTempOptions): Promise<Written> {
  const md5 = options.md5 === false ? undefined : createHash('md5')
  const sha256 = createHash('sha256')
  let size = 0
  for await (const piece of chunks) {
    options.signal?.throwIfAborted()
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
    options.onChunk?.(chunk)
    md5?.update(chunk)
    sha256.update(chunk)
    await handle.write(chunk)
    size += chunk.length
    options.onProgress?.(size)
  }
  const sha256Hex = sha256.digest('hex')
  return {size, etag: md5 ? md5.digest('hex') : sha256Etag(sha256Hex), sha256: sha256Hex}
}

/** The write and the SHA-256 both run in the thread pool, side by side. */
async function writeBufferWithoutMd5(handle: FileHandle, bytes: Buffer, options: WriteTempOptions): Promise<Written> {
  options.signal?.throwIfAborted()
  options.onChunk?.(bytes)
  const [sha256] = await Promise.all([sha256Off(bytes), handle.writeFile(bytes)])
  options.onProgress?.(bytes.length)
  return {size: bytes.length, etag: sha256Etag(sha256), sha256}
}

const SHA256_ETAG_SUFFIX = '-sha256'

/** A stable ETag from the SHA-256; its dash keeps tools from taking it for an MD5. */
function sha256Etag(sha256: string): string {
  return `${sha256.slice(0, 32)}${SHA256_ETAG_SUFFIX}`
}

/** Whether an ETag was made from the SHA-256 (`md5: false`) rather than being an MD5. */
export function isSha256Etag(etag: string): boolean {
  return etag.endsWith(SHA256_ETAG_SUFFIX)
}

/** Removes temp files whose writing process no longer runs (a crash or kill -9 left them). */
export async function sweepTemp(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const pid = Number.parseInt(name, 10)
    if (Number.isInteger(pid) && pid !== process.pid && !isProcessRunning(pid)) await unlink(join(dir, name)).catch(() => undefined)
  }
}

/** Whether a process with this pid exists (a reused pid only delays a cleanup). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
