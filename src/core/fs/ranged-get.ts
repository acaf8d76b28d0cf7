import type {ObjectStore} from '../store/object-store.js'

/**
 * The bytes `[offset, offset + length)` of an object as a stream of chunks (the store never hands
 * out more than the range). With `etag`, only that version is read: bytes of a staged file's base
 * object must not come from a version another writer put meanwhile (StoreError PreconditionFailed).
 */
export async function* getRange(store: ObjectStore, key: string, offset: number, length: number, etag?: string): AsyncGenerator<Buffer> {
  if (length <= 0) return
  for await (const chunk of await store.get(key, {offset, length}, {ifMatch: etag})) yield chunk as Buffer
}

/**
 * The bytes of a range as the chunks the store sent them in (for blocks and small reads): joined into
 * one buffer, an 8 MiB block cost a copy and an allocation whose collection took more CPU than the copy.
 */
export async function getRangePieces(store: ObjectStore, key: string, offset: number, length: number): Promise<Buffer[]> {
  const chunks: Buffer[] = []
  for await (const chunk of getRange(store, key, offset, length)) chunks.push(chunk)
  return chunks
}
