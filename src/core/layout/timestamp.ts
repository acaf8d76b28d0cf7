import type {Timestamp} from '../fs/types.js'

const NS_PER_SEC = 1_000_000_000n
const NS_PER_SEC_NUMBER = 1_000_000_000

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
  // Whole numbers below 2^53 on both sides of the point: exact without BigInt, which is slow per entry.
  const sec = Number(whole)
  const nsec = Number(fraction.slice(0, 9).padEnd(9, '0'))
  if (sign !== '-') return {sec, nsec}
  return nsec === 0 ? {sec: sec === 0 ? 0 : -sec, nsec: 0} : {sec: -sec - 1, nsec: NS_PER_SEC_NUMBER - nsec}
}

/** Seconds since the epoch with nine fractional digits: `1700000000.123456789`. */
export function formatEpochSeconds(time: Timestamp): string {
  if (time.sec >= 0) return `${time.sec}.${nineDigits(time.nsec)}`
  // Negative: the magnitude of sec + nsec/1e9, written as a sign and a positive fraction.
  return time.nsec === 0 ? `-${-time.sec}.000000000` : `-${-time.sec - 1}.${nineDigits(NS_PER_SEC_NUMBER - time.nsec)}`
}

function nineDigits(nsec: number): string {
  return String(nsec).padStart(9, '0')
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
