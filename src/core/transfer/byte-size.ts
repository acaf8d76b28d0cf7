/**
 * Sizes and rates as an operator types them: `8M`, `512KiB`, `1.5G`, `10MB/s`. `K`, `M`, `G`, `T`
 * (with or without `i`/`iB`) are powers of 1024, as in rclone's `--bwlimit`; `KB`, `MB`, `GB`, `TB`
 * powers of 1000; no suffix or `B` means bytes. A rate may end with `/s`.
 */

const UNITS = new Map<string, number>([['', 1], ['B', 1]])
for (const [index, prefix] of ['K', 'M', 'G', 'T'].entries()) {
  const binary = 1024 ** (index + 1)
  for (const spelling of [prefix, `${prefix}I`, `${prefix}IB`]) UNITS.set(spelling, binary)
  UNITS.set(`${prefix}B`, 1000 ** (index + 1))
}

export function parseByteSize(text: string, what = 'size'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const factor = match ? UNITS.get(match[2].toUpperCase()) : undefined
  if (!match || factor === undefined) {
    throw new RangeError(`invalid ${what} "${text}": expected a number with an optional unit, e.g. 8M, 512KiB, 1.5G or 10MB`)
  }
  return Math.round(Number(match[1]) * factor)
}

/** Bytes per second from `10M`, `10M/s`, `500KiB/s`; must be above zero. */
export function parseByteRate(text: string): number {
  const rate = parseByteSize(text.replace(/\/s\s*$/i, ''), 'rate')
  if (rate <= 0) throw new RangeError(`invalid rate "${text}": it must be above zero`)
  return rate
}
