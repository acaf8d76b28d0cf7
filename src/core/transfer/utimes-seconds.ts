import type {Timestamp} from '../fs/types.js'

/**
 * A time as the seconds Node's utimes takes: a double, of which libuv keeps whole microseconds by
 * truncation. Aiming at the middle of the microsecond keeps the double's rounding (about 0.1 µs for
 * today's times) from landing in the microsecond before, so setting a time read back from disk gives
 * that same time again (a time set at the very start of a microsecond used to lose one on every run).
 */
export function utimesSeconds(time: Timestamp): number {
  return time.sec + (Math.floor(time.nsec / 1000) * 1000 + 500) / 1e9
}
