import type {ObjectStore} from '../store/object-store.js'

/**
 * The bytes `[offset, offset + length)` of an object as a stream of chunks, never more than asked
 * for even if a server answers a range with more (s3rver answers `bytes=0-0` with the whole object).
 */
export async function* getRange(store: ObjectStore, key: string, offset: number, length: number): AsyncGenerator<Buffer> {
  let remaining = length
  if (remaining <= 0) return
  for await (const chunk of await store.get(key, {offset, length})) {
    const buffer = chunk as Buffer
    if (buffer.length >= remaining) {
      yield buffer.subarray(0, remaining)
      return
    }
    remaining -= buffer.length
    yield buffer
  }
}

/** The bytes of a range in one buffer (for blocks and small reads). */
export async function getRangeBuffer(store: ObjectStore, key: string, offset: number, length: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of getRange(store, key, offset, length)) chunks.push(chunk)
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
}
