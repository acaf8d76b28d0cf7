/** Failures of the metadata cache itself, raised when it is opened. */
export type CacheErrorCode =
  | 'Locked'   // another live process owns the cache for writing
  | 'TooNew'   // written by a newer zerofs (schema version unknown here)
  | 'Corrupt'  // not a zerofs cache, or unreadable

export class CacheError extends Error {
  readonly code: CacheErrorCode

  constructor(code: CacheErrorCode, message: string, options?: {cause?: unknown}) {
    super(message, {cause: options?.cause})
    this.name = 'CacheError'
    this.code = code
  }
}
