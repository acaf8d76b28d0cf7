/**
 * Sets of byte ranges as sorted, disjoint, non-adjacent `[start, end)` pairs: which parts of a
 * staged file are valid locally. Values are immutable; every operation returns a new list.
 */
export type ByteRange = readonly [start: number, end: number]
export type RangeList = readonly ByteRange[]

export function addRange(list: RangeList, start: number, end: number): RangeList {
  if (end <= start) return list
  const result: ByteRange[] = []
  let merged: [number, number] = [start, end]
  let placed = false
  for (const [s, e] of list) {
    if (e < merged[0]) result.push([s, e])
    else if (s > merged[1]) {
      if (!placed) {
        result.push(merged)
        placed = true
      }
      result.push([s, e])
    } else merged = [Math.min(s, merged[0]), Math.max(e, merged[1])]
  }
  if (!placed) result.push(merged)
  return result
}

export function unionRanges(a: RangeList, b: RangeList): RangeList {
  return b.reduce<RangeList>((list, [s, e]) => addRange(list, s, e), a)
}

/** The ranges cut to `[0, limit)`. */
export function clipRanges(list: RangeList, limit: number): RangeList {
  const result: ByteRange[] = []
  for (const [s, e] of list) {
    if (s >= limit) break
    result.push([s, Math.min(e, limit)])
  }
  return result
}

/** The parts of `[start, end)` that the list does not cover. */
export function gapsIn(list: RangeList, start: number, end: number): RangeList {
  const result: ByteRange[] = []
  let cursor = start
  for (const [s, e] of list) {
    if (e <= cursor) continue
    if (s >= end) break
    if (s > cursor) result.push([cursor, s])
    cursor = Math.max(cursor, e)
    if (cursor >= end) break
  }
  if (cursor < end) result.push([cursor, end])
  return result
}

export function intersectsRange(list: RangeList, start: number, end: number): boolean {
  return list.some(([s, e]) => s < end && e > start)
}

export function coveredBytes(list: RangeList): number {
  return list.reduce((sum, [s, e]) => sum + e - s, 0)
}

export function encodeRanges(list: RangeList): string {
  return JSON.stringify(list)
}

export function decodeRanges(text: string): RangeList {
  const value: unknown = JSON.parse(text)
  if (!Array.isArray(value) || !value.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every(Number.isSafeInteger))) {
    throw new Error(`not a range list: ${text.slice(0, 80)}`)
  }
  return value as RangeList
}
