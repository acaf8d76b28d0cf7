/**
 * Durations as an operator types them: `24h`, `90m`, `7d`, `1h30m`, `45s`, `2w`; `0` alone means
 * none. Units: ms, s, m (minutes), h, d, w.
 */

const UNIT_MS = new Map<string, number>([
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
  ['w', 604_800_000],
])

export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase()
  if (trimmed === '0') return 0
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)]
  const consumed = parts.map((part) => part[0]).join('')
  if (parts.length === 0 || consumed !== trimmed) {
    throw new RangeError(`invalid duration "${text}": expected a number with a unit, e.g. 24h, 90m, 7d or 1h30m`)
  }
  return Math.round(parts.reduce((total, [, amount, unit]) => total + Number(amount) * UNIT_MS.get(unit)!, 0))
}

/** `3d 4h`, `25m`, `40s`: the two largest units, for "started 3d 4h ago". */
export function formatAge(ms: number): string {
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]]
  const parts: string[] = []
  let rest = Math.max(0, ms)
  for (const [unit, size] of units) {
    const amount = Math.floor(rest / size)
    if (amount > 0 || (parts.length === 0 && unit === 's')) parts.push(`${amount}${unit}`)
    rest -= amount * size
    if (parts.length === 2) break
  }
  return parts.join(' ')
}
