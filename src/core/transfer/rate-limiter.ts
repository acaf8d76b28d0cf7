import {Transform, type TransformCallback} from 'node:stream'
import {setTimeout as sleep} from 'node:timers/promises'

/** Time as the limiter sees it; tests pass their own. */
export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const systemClock: Clock = {now: () => performance.now(), sleep: (ms) => sleep(ms)}

/**
 * A token bucket shared by every transfer of a run (`--bwlimit`): bytes may pass at `bytesPerSecond`
 * on average, with bursts of at most `burstBytes`. A taker that overdraws waits until the debt is
 * paid, so all jobs together keep to the rate however many run.
 */
export class RateLimiter {
  private tokens: number
  private updatedAt: number

  constructor(
    readonly bytesPerSecond: number,
    private readonly clock: Clock = systemClock,
    private readonly burstBytes = Math.max(64 * 1024, bytesPerSecond / 10),
  ) {
    this.tokens = burstBytes
    this.updatedAt = clock.now()
  }

  /** Takes `bytes` tokens; resolves once the caller may send them. */
  async take(bytes: number): Promise<void> {
    const wait = this.reserve(bytes)
    if (wait > 0) await this.clock.sleep(wait)
  }

  /** Takes the tokens now and says how many ms the caller must wait before using them. */
  reserve(bytes: number): number {
    const now = this.clock.now()
    this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.updatedAt) * this.bytesPerSecond) / 1000)
    this.updatedAt = now
    this.tokens -= bytes
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.bytesPerSecond
  }

  /** A pass-through that lets bytes through no faster than the limiter allows. */
  throttle(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void => {
        this.take(chunk.length).then(() => callback(null, chunk), callback)
      },
    })
  }
}
