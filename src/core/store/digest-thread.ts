import {createHash} from 'node:crypto'
import {Worker} from 'node:worker_threads'

import {contentMd5, FILE_PIECE} from './digest.js'

/** A request body's MD5 (base64, as Content-MD5 carries it) and SHA-256 (hex, as x-amz-content-sha256 carries it). */
export interface BodyDigests {
  md5Base64: string
  sha256Hex: string
}

/** A local file's size, SHA-256 (hex) and, when asked, MD5 (hex). */
export interface FileDigests {
  size: number
  sha256: string
  md5?: string
}

/**
 * The thread's code, plain CommonJS so that it runs the same from the sources and from dist/ (and
 * starts without a TypeScript loader). It hashes the bytes it is sent, or a file it reads with
 * blocking reads (it has nothing else to do), and answers with the request's id.
 */
const WORKER_SOURCE = `
const {parentPort} = require('node:worker_threads')
const {createHash} = require('node:crypto')
const {closeSync, openSync, readSync} = require('node:fs')
const piece = Buffer.allocUnsafe(${FILE_PIECE})
function hashFile(path, md5) {
  const sha256 = createHash('sha256')
  const md5Hash = md5 ? createHash('md5') : undefined
  let size = 0
  const fd = openSync(path, 'r')
  try {
    for (let read; (read = readSync(fd, piece, 0, piece.length, null)) > 0; size += read) {
      sha256.update(piece.subarray(0, read))
      md5Hash?.update(piece.subarray(0, read))
    }
  } finally {
    closeSync(fd)
  }
  return {size, sha256: sha256.digest('hex'), md5: md5Hash?.digest('hex')}
}
parentPort.on('message', ({id, bytes, path, md5}) => {
  if (bytes === undefined) {
    try {
      parentPort.postMessage({id, file: hashFile(path, md5)})
    } catch (error) {
      parentPort.postMessage({id, error: {message: error.message, code: error.code}})
    }
    return
  }
  parentPort.postMessage({
    id,
    body: {
      md5Base64: createHash('md5').update(bytes).digest('base64'),
      sha256Hex: createHash('sha256').update(bytes).digest('hex'),
    },
  })
})
`

type Reply = {id: number} & ({body: BodyDigests} | {file: FileDigests} | {error: {message: string; code?: string}})

interface Pending {
  resolve(reply: Reply): void
  reject(error: unknown): void
}

/** One worker thread and the requests it has not answered yet. */
class DigestThread {
  private readonly worker = new Worker(WORKER_SOURCE, {eval: true})
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  failed = false

  constructor() {
    // Held only while it has work: an idle thread must not keep the process alive.
    this.worker.unref()
    this.worker.on('message', (reply: Reply) => {
      const request = this.pending.get(reply.id)
      this.pending.delete(reply.id)
      if (this.pending.size === 0) this.worker.unref()
      request?.resolve(reply)
    })
    this.worker.on('error', (error) => this.fail(error))
    this.worker.on('exit', (code) => this.fail(new Error(`the digest thread exited with code ${code}`)))
  }

  async digest(bytes: Uint8Array): Promise<BodyDigests> {
    // A copy of the body's own bytes, moved to the thread (a view's whole buffer would be cloned).
    const copy = new Uint8Array(bytes)
    const reply = await this.request({bytes: copy}, [copy.buffer])
    if (!('body' in reply)) throw new Error('the digest thread answered a body with something else')
    return reply.body
  }

  async digestFile(path: string, md5: boolean): Promise<FileDigests> {
    const reply = await this.request({path, md5}, [])
    if ('error' in reply) throw Object.assign(new Error(reply.error.message), {code: reply.error.code})
    if (!('file' in reply)) throw new Error('the digest thread answered a file with something else')
    return reply.file
  }

  private request(message: {bytes: Uint8Array} | {path: string; md5: boolean}, transfer: ArrayBuffer[]): Promise<Reply> {
    const id = this.nextId++
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      if (this.pending.size === 1) this.worker.ref()
      this.worker.postMessage({id, ...message}, transfer)
    })
  }

  private fail(error: unknown): void {
    this.failed = true
    for (const request of this.pending.values()) request.reject(error)
    this.pending.clear()
  }
}

let thread: DigestThread | undefined

function digestThread(): DigestThread {
  if (thread === undefined || thread.failed) thread = new DigestThread()
  return thread
}

/**
 * Hashes a body on a thread of its own, beside the main thread: the MD5 and SHA-256 of an 8 MiB
 * upload part cost tens of milliseconds that the main thread (answering NFS calls, streaming other
 * transfers) would otherwise spend. The body is copied for the thread. One thread per process.
 */
export function digestOffThread(bytes: Uint8Array): Promise<BodyDigests> {
  return digestThread().digest(bytes)
}

/**
 * Starts the thread ahead of its first use, for a caller about to hash much (starting a thread
 * costs tens of milliseconds of CPU, better spent before requests arrive); resolves once it answers.
 */
export async function startDigestThread(): Promise<void> {
  await digestThread().digest(new Uint8Array(0))
}

/** Hashes a local file on the same thread, which reads it in 1 MiB pieces (errors as fs gives them: ENOENT...). */
export function digestFileOffThread(path: string, options: {md5: boolean}): Promise<FileDigests> {
  return digestThread().digestFile(path, options.md5)
}

/**
 * From this size a request body is hashed on the digest thread: its MD5 and the SHA-256 that SigV4
 * signs would otherwise cost the main thread tens of milliseconds per part.
 */
export const OFF_THREAD_BYTES = 1024 * 1024

/** A request body's digests, computed once: on the digest thread from OFF_THREAD_BYTES (or if it cannot start, here). */
export async function requestBodyDigests(bytes: Uint8Array): Promise<BodyDigests> {
  const offThread = bytes.length >= OFF_THREAD_BYTES ? await digestOffThread(bytes).catch(() => undefined) : undefined
  return offThread ?? {
    md5Base64: contentMd5(bytes),
    sha256Hex: createHash('sha256').update(bytes).digest('hex'),
  }
}
