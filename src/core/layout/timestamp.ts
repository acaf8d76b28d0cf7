import type {Timestamp} from '../fs/types.js'

const NS_PER_SEC = 1_000_000_000n

export function timestampFromMs(ms: number): Timestamp {
  const sec = Math.floor(ms / 1000)
  return {sec, nsec: Math.round((ms - sec * 1000) * 1_000_000)}
}

export function timestampNow(): Timestamp {
  return timestampFromMs(Date.now())
}

export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.sec === b.sec ? a.nsec - b.nsec : a.sec - b.sec
}

export function maxTimestamp(a: Timestamp, b: Timestamp): Timestamp {
  return compareTimestamps(a, b) >= 0 ? a : b
}

/**
 * Parses seconds since the epoch as s3fs writes them (`1700000000`) or as rclone and zerofs do
 * (`1700000000.123456789`); digits past nanoseconds are dropped. Exact: no floating point.
 */
export function parseEpochSeconds(text: string): Timestamp | undefined {
  const match = /^\s*(-?)(\d{1,15})(?:\.(\d+))?\s*$/.exec(text)
  if (!match) return undefined
  const [, sign, whole, fraction = ''] = match
  const total = BigInt(whole) * NS_PER_SEC + BigInt(fraction.slice(0, 9).padEnd(9, '0'))
  return fromNanoseconds(sign === '-' ? -total : total)
}

/** Seconds since the epoch with nine fractional digits: `1700000000.123456789`. */
export function formatEpochSeconds(time: Timestamp): string {
  const total = BigInt(time.sec) * NS_PER_SEC + BigInt(time.nsec)
  const sign = total < 0n ? '-' : ''
  const magnitude = total < 0n ? -total : total
  const fraction = (magnitude % NS_PER_SEC).toString().padStart(9, '0')
  return `${sign}${magnitude / NS_PER_SEC}.${fraction}`
}

/** Nanoseconds since the epoch as a timestamp whose nsec is never negative. */
export function fromNanoseconds(total: bigint): Timestamp {
  let sec = total / NS_PER_SEC
  let nsec = total % NS_PER_SEC
  if (nsec < 0n) {
    sec -= 1n
    nsec += NS_PER_SEC
  }
  return {sec: Number(sec), nsec: Number(nsec)}
}
