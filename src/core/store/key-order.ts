/**
 * S3's key order: the keys' UTF-8 bytes. That is JavaScript's UTF-16 order except where a character
 * above U+FFFF (a surrogate pair, U+D800..U+DFFF) meets one in U+E000..U+FFFF: UTF-8 puts the
 * former after, UTF-16 before. Compared unit by unit, without encoding (a walk compares every key).
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let index = 0; index < length; index++) {
    const x = a.charCodeAt(index)
    const y = b.charCodeAt(index)
    if (x !== y) return utf8Rank(x) - utf8Rank(y)
  }
  return a.length - b.length
}

function utf8Rank(unit: number): number {
  return unit >= 0xd800 && unit <= 0xdfff ? unit + 0x10000 : unit
}
