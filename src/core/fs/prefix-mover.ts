import PQueue from 'p-queue'
import type {ObjectStore} from '../store/object-store.js'

const BATCH = 1000

/**
 * Copies every object under `fromPrefix` to `toPrefix` server-side, keeping each object's metadata.
 * Idempotent; with `deletePrefix` of the source afterwards it moves a directory, and running both
 * again finishes a move interrupted by a crash. Holds a bounded number of keys.
 */
export async function copyPrefix(store: ObjectStore, fromPrefix: string, toPrefix: string, concurrency: number): Promise<number> {
  const queue = new PQueue({concurrency})
  let failure: unknown
  let copied = 0
  for await (const entry of store.list({prefix: fromPrefix})) {
    if (failure !== undefined) break
    if (entry.kind !== 'object') continue
    await queue.onSizeLessThan(concurrency * 2)
    void queue.add(async () => {
      try {
        const head = await store.head(entry.key)
        if (!head) return
        await store.copy(entry.key, toPrefix + entry.key.slice(fromPrefix.length), {metadata: head.metadata, contentType: head.contentType})
        copied++
      } catch (error) {
        failure ??= error
      }
    })
  }
  await queue.onIdle()
  if (failure !== undefined) throw failure
  return copied
}

/** Deletes every object under a prefix, a batch at a time. */
export async function deletePrefix(store: ObjectStore, prefix: string): Promise<void> {
  let previousFirst: string | undefined
  for (;;) {
    const keys: string[] = []
    for await (const entry of store.list({prefix, pageSize: BATCH})) {
      if (entry.kind === 'object') keys.push(entry.key)
      if (keys.length >= BATCH) break
    }
    if (keys.length === 0) return
    if (keys[0] === previousFirst) throw new Error(`the store did not delete ${keys[0]}`)
    previousFirst = keys[0]
    await store.delete(keys)
  }
}
