/**
 * S3's key order: the keys' UTF-8 bytes, which differs from JavaScript's UTF-16 string order where
 * a character above U+FFFF meets one in U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}
