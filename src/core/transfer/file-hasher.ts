import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'

import type {ContentReference} from './content.js'

export interface HashRequest {
  id: number
  path: string
  reference: ContentReference | {kind: 'sha256'}
}

export type HashReply = {id: number; digest: string; bytes: number} | {id: number; error: {message: string; code?: string}}

interface Pending {
  resolve: (result: {digest: string; bytes: number}) => void
  reject: (error: Error) => void
}

/** Threads beyond the first leave a core to the main thread and to the server answering it. */
const MAX_THREADS = 4

/**
 * Hashes local files on worker threads: reading and hashing a tree's content is most of what
 * `verify --mode checksum` does, and on the main thread it would also hold up the walk, the
 * listing and the comparisons. Files are handed to the least busy thread; each thread hashes one
 * file at a time, reading it in 1 MiB pieces.
 */
export class FileHasher {
  private readonly workers: Array<{worker: Worker; busy: number}>
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private broken?: Error

  constructor(threads = Math.min(MAX_THREADS, availableParallelism())) {
    this.workers = Array.from({length: Math.max(1, threads)}, () => {
      const worker = startWorker()
      const slot = {worker, busy: 0}
      worker.on('message', (reply: HashReply) => {
        slot.busy--
        this.settle(reply)
      })
      worker.on('error', (error) => this.fail(error))
      worker.on('exit', () => this.fail(new Error('a file hasher thread stopped')))
      return slot
    })
  }

  /** The digest the reference wants (or plain SHA-256) of a file's bytes, and how many there were. */
  hash(path: string, reference: HashRequest['reference']): Promise<{digest: string; bytes: number}> {
    if (this.broken) return Promise.reject(this.broken)
    const id = this.nextId++
    const slot = this.workers.reduce((least, candidate) => (candidate.busy < least.busy ? candidate : least))
    slot.busy++
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      slot.worker.postMessage({id, path, reference} satisfies HashRequest)
    })
  }

  async close(): Promise<void> {
    this.fail(new Error('the file hasher was closed'))
    await Promise.all(this.workers.map(({worker}) => worker.terminate()))
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
  }
}

function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./file-hasher-worker.js', import.meta.url))
  // Run from the TypeScript sources (tests, through tsx): a worker's entry needs tsx's loader too.
  const entry = new URL('./file-hasher-worker.ts', import.meta.url).href
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`, {eval: true})
}
