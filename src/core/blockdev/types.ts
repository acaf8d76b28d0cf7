/**
 * The block face of the core, what the NBD server speaks to: a byte range of fixed size with
 * read, write, trim, zero and flush. Failures are FsErrors with an errno (EINVAL out of range,
 * EIO when the store fails), which the protocol maps to its own codes in one function.
 */
export interface BlockDevice {
  readonly name: string
  /** Bytes the device offers. */
  readonly size: number
  /** Bytes per chunk object: the unit a partial write has to read back and a trim can delete. */
  readonly chunkSize: number
  /** Writes, trims and zeroes fail with EROFS. */
  readonly readOnly: boolean

  /** Fills `target` with the bytes from `offset` on (the caller may reuse the buffer once this settles). */
  readInto(offset: number, target: Buffer): Promise<void>
  /** `data` is not used once the returned promise settles (the caller may reuse the buffer). */
  write(offset: number, data: Buffer): Promise<void>
  /** Discards a range: whole chunks are deleted, partial ones zeroed. Reads afterwards return zeros. */
  trim(offset: number, length: number): Promise<void>
  /** Zeroes a range; with `noHole`, zeros are written even over whole chunks instead of deleting them. */
  zero(offset: number, length: number, options?: {noHole?: boolean}): Promise<void>
  /**
   * Resolves once every chunk that was written before the call (within the range, when one is
   * given) is in the store; rejects with EIO when an upload fails.
   */
  flush(range?: {offset: number; length: number}): Promise<void>
}
