/**
 * Buffers for WRITE payloads and READ replies, reused from one request to the next on a connection
 * instead of a fresh one per request (hundreds of MiB a second of short-lived buffers keep V8's
 * garbage collector busy, and a fresh one's pages are faulted in and zeroed by the kernel). Idle buffers are kept by length, at most
 * `maxIdleBytes` of them; a taken buffer's contents are stale.
 */
export class PayloadPool {
  private readonly idle = new Map<number, Buffer[]>()
  private idleBytes = 0

  constructor(private readonly maxIdleBytes: number) {}

  take(length: number): Buffer {
    const buffer = this.idle.get(length)?.pop()
    if (buffer === undefined) return Buffer.allocUnsafeSlow(length)
    this.idleBytes -= length
    return buffer
  }

  /** Only once nothing reads the buffer any more. */
  give(buffer: Buffer): void {
    if (this.idleBytes + buffer.length > this.maxIdleBytes) return
    const same = this.idle.get(buffer.length)
    if (same === undefined) this.idle.set(buffer.length, [buffer])
    else same.push(buffer)
    this.idleBytes += buffer.length
  }
}
