import {createHash} from 'node:crypto'
import {Worker} from 'node:worker_threads'

/** A request body's MD5 (base64, as Content-MD5 carries it) and SHA-256 (hex, as x-amz-content-sha256 carries it). */
export interface BodyDigests {
  md5Base64: string
  sha256Hex: string
}

/**
 * The thread's code, plain CommonJS so that it runs the same from the sources and from dist/.
 * It hashes what it is sent and answers with the request's id.
 */
const WORKER_SOURCE = `
const {parentPort} = require('node:worker_threads')
const {createHash} = require('node:crypto')
parentPort.on('message', ({id, bytes}) => {
  parentPort.postMessage({
    id,
    md5Base64: createHash('md5').update(bytes).digest('base64'),
    sha256Hex: createHash('sha256').update(bytes).digest('hex'),
  })
})
`

interface Pending {
  resolve(digests: BodyDigests): void
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
    this.worker.on('message', ({id, ...digests}: {id: number} & BodyDigests) => {
      const request = this.pending.get(id)
      this.pending.delete(id)
      if (this.pending.size === 0) this.worker.unref()
      request?.resolve(digests)
    })
    this.worker.on('error', (error) => this.fail(error))
    this.worker.on('exit', (code) => this.fail(new Error(`the digest thread exited with code ${code}`)))
  }

  digest(bytes: Uint8Array): Promise<BodyDigests> {
    const id = this.nextId++
    return new Promise<BodyDigests>((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      if (this.pending.size === 1) this.worker.ref()
      // A copy of the body's own bytes, moved to the thread (a view's whole buffer would be cloned).
      const copy = new Uint8Array(bytes)
      this.worker.postMessage({id, bytes: copy}, [copy.buffer])
    })
  }

  private fail(error: unknown): void {
    this.failed = true
    for (const request of this.pending.values()) request.reject(error)
    this.pending.clear()
  }
}

let thread: DigestThread | undefined

/**
 * Hashes a body on a thread of its own, beside the main thread: the MD5 and SHA-256 of an 8 MiB
 * upload part cost tens of milliseconds that the main thread (answering NFS calls, streaming other
 * transfers) would otherwise spend. The body is copied for the thread. One thread per process.
 */
export function digestOffThread(bytes: Uint8Array): Promise<BodyDigests> {
  if (thread === undefined || thread.failed) thread = new DigestThread()
  return thread.digest(bytes)
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
    md5Base64: createHash('md5').update(bytes).digest('base64'),
    sha256Hex: createHash('sha256').update(bytes).digest('hex'),
  }
}
