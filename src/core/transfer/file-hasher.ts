import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'

import type {ContentReference} from './content.js'

export interface HashRequest {
  id: number
  path: string
  reference: ContentReference | {kind: 'sha256'}
}

export interface HashRequestHandle {
  result: Promise<{digest: string; bytes: number}>
  withdraw(): void
}

export type HashReply = {id: number; digest: string; bytes: number} | {id: number; error: {message: string; code?: string}}

interface Pending {
  resolve: (result: {digest: string; bytes: number}) => void
  reject: (error: Error) => void
}

interface Queued {
  request: HashRequest
  cost: number
  sent?: boolean
  withdrawn?: boolean
}

interface Slot {
  worker: Worker
  /** The cost of the batches sent and not answered yet. */
  outstanding: number
}

/** Threads beyond the first leave a core to the main thread and to the server answering it. */
const MAX_THREADS = 4

/** A batch: one message each way, whatever the number of files in it (a message costs ~30 µs each side). */
const BATCH_COST = 4 * 1024 * 1024
const BATCH_FILES = 64
/**
 * What a file costs besides its bytes (open, close, a reply): many empty files still make a batch.
 * BATCH_COST / BATCH_FILES, so that a batch of small files is bounded by either limit alike.
 */
const FILE_COST = BATCH_COST / BATCH_FILES
/**
 * A thread takes a new batch while what it holds costs less than this: the next batch is there when
 * one is done, and small files do not queue behind a large one held by a thread while another idles.
 */
const THREAD_COST = 2 * BATCH_COST

/**
 * Hashes local files on worker threads: reading and hashing a tree's content is most of what
 * `verify --mode checksum` does, and on the main thread it would also hold up the walk, the
 * listing and the comparisons. Requests wait in one queue, in order; a thread with room takes the
 * next ones as a batch in one message (by bytes and by count) and answers it in one, hashing its
 * files one at a time in 1 MiB reads.
 */
export class FileHasher {
  private readonly workers: Slot[]
  private readonly pending = new Map<number, Pending>()
  private readonly queue: Queued[] = []
  private nextId = 1
  private dispatchQueued = false
  private broken?: Error

  constructor(threads = Math.min(MAX_THREADS, availableParallelism())) {
    this.workers = Array.from({length: Math.max(1, threads)}, () => {
      const worker = startWorker()
      const slot: Slot = {worker, outstanding: 0}
      worker.on('message', ({cost, replies}: {cost: number; replies: HashReply[]}) => {
        slot.outstanding -= cost
        this.dispatch(slot)
        for (const reply of replies) this.settle(reply)
      })
      worker.on('error', (error) => this.fail(error))
      worker.on('exit', () => this.fail(new Error('a file hasher thread stopped')))
      return slot
    })
  }

  /** The digest the reference wants (or plain SHA-256) of a file's bytes, and how many there were. */
  hash(path: string, reference: HashRequest['reference'], options: {size?: number} = {}): Promise<{digest: string; bytes: number}> {
    return this.request(path, reference, options).result
  }

  /**
   * hash() that can be taken back: withdraw() drops a request no thread has taken yet (its result
   * then rejects); once sent, a thread hashes it anyway. `size` (what the file is expected to hold)
   * only shapes the batches.
   */
  request(path: string, reference: HashRequest['reference'], options: {size?: number} = {}): HashRequestHandle {
    if (this.broken) return {result: Promise.reject(this.broken), withdraw: () => undefined}
    const id = this.nextId++
    const queued: Queued = {request: {id, path, reference}, cost: FILE_COST + (options.size ?? 0)}
    const result = new Promise<{digest: string; bytes: number}>((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
    })
    this.queue.push(queued)
    // Batches form from what the caller asks for in one turn of the event loop: dispatch after it.
    if (!this.dispatchQueued) {
      this.dispatchQueued = true
      setImmediate(() => {
        this.dispatchQueued = false
        this.dispatchAll()
      })
    }
    const withdraw = (): void => {
      if (queued.sent || queued.withdrawn) return
      queued.withdrawn = true
      const pending = this.pending.get(id)
      this.pending.delete(id)
      pending?.reject(new Error(`the hash of ${path} was withdrawn`))
    }
    return {result, withdraw}
  }

  async close(): Promise<void> {
    this.fail(new Error('the file hasher was closed'))
    await Promise.all(this.workers.map(({worker}) => worker.terminate()))
  }

  private dispatchAll(): void {
    for (const slot of [...this.workers].sort((a, b) => a.outstanding - b.outstanding)) this.dispatch(slot)
  }

  private dispatch(slot: Slot): void {
    while (slot.outstanding < THREAD_COST && this.queue.length > 0) {
      const batch: HashRequest[] = []
      let cost = 0
      while (this.queue.length > 0 && batch.length < BATCH_FILES && (batch.length === 0 || cost + this.queue[0].cost <= BATCH_COST)) {
        const queued = this.queue.shift()!
        if (queued.withdrawn) continue
        queued.sent = true
        batch.push(queued.request)
        cost += queued.cost
      }
      if (batch.length === 0) return
      slot.outstanding += cost
      slot.worker.postMessage({cost, requests: batch})
    }
  }

  private settle(reply: HashReply): void {
    const pending = this.pending.get(reply.id)
    if (pending === undefined) return
    this.pending.delete(reply.id)
    if ('error' in reply) pending.reject(Object.assign(new Error(reply.error.message), {code: reply.error.code}))
    else pending.resolve({digest: reply.digest, bytes: reply.bytes})
  }

  /** A thread that fails takes the hasher with it: what is pending and what comes later is refused. */
  private fail(error: Error): void {
    this.broken ??= error
    for (const pending of this.pending.values()) pending.reject(error)
    this.pending.clear()
    this.queue.length = 0
  }
}

function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./file-hasher-worker.js', import.meta.url))
  // Run from the TypeScript sources (tests, through tsx): a worker's entry needs tsx's loader too.
  const entry = new URL('./file-hasher-worker.ts', import.meta.url).href
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`, {eval: true})
}
