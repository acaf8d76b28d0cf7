/**
 * Reading the two XML documents S3 answers a ListObjectsV2 with: the ListBucketResult and an Error.
 * Only the elements zerofs uses are read, by position, without building a document tree: the SDK's
 * general parser allocates about 6 KB per listed key (measured), which a 100,000-key listing turns
 * into most of its memory.
 *
 * S3's list answers are flat, attribute-free elements under the root; text is XML-escaped (and, with
 * encoding-type=url, keys and prefixes are also percent-encoded: the caller decodes those).
 */

export interface ListedObjectXml {
  Key: string
  Size: number
  ETag?: string
  LastModified?: Date
}

/** The part of a ListObjectsV2 answer zerofs reads, named as the SDK names it. */
export interface ListResult {
  Contents: ListedObjectXml[]
  CommonPrefixes: Array<{Prefix: string}>
  IsTruncated: boolean
  NextContinuationToken?: string
  EncodingType?: string
}

export function parseListResult(xml: string): ListResult {
  const root = elementRange(xml, 'ListBucketResult', 0, xml.length)
  if (root === undefined) throw new Error('a ListObjectsV2 answer without a ListBucketResult')
  const [start, end] = root
  const result: ListResult = {
    Contents: [],
    CommonPrefixes: [],
    IsTruncated: childText(xml, 'IsTruncated', start, end) === 'true',
    NextContinuationToken: childText(xml, 'NextContinuationToken', start, end),
    EncodingType: childText(xml, 'EncodingType', start, end),
  }
  for (const [from, to] of elementRanges(xml, 'Contents', start, end)) {
    const lastModified = childText(xml, 'LastModified', from, to)
    result.Contents.push({
      Key: childText(xml, 'Key', from, to) ?? '',
      Size: Number(childText(xml, 'Size', from, to) ?? 0),
      ETag: childText(xml, 'ETag', from, to),
      LastModified: lastModified === undefined ? undefined : new Date(lastModified),
    })
  }
  for (const [from, to] of elementRanges(xml, 'CommonPrefixes', start, end)) {
    result.CommonPrefixes.push({Prefix: childText(xml, 'Prefix', from, to) ?? ''})
  }
  return result
}

/** `<Error><Code>…</Code><Message>…</Message></Error>`, as far as it is there. */
export function parseErrorBody(xml: string): {Code?: string; Message?: string} {
  const root = elementRange(xml, 'Error', 0, xml.length)
  if (root === undefined) return {}
  return {Code: childText(xml, 'Code', root[0], root[1]), Message: childText(xml, 'Message', root[0], root[1])}
}

/** The content range of the first `<tag>` element in `[from, to)`; `<tag/>` has an empty one. */
function elementRange(xml: string, tag: string, from: number, to: number): [number, number] | undefined {
  for (const range of elementRanges(xml, tag, from, to)) return range
  return undefined
}

/** The content ranges of the `<tag>` elements in `[from, to)` (not nested in one another: S3's are not). */
function* elementRanges(xml: string, tag: string, from: number, to: number): Generator<[number, number]> {
  const open = `<${tag}`
  const close = `</${tag}>`
  for (let at = xml.indexOf(open, from); at !== -1 && at < to; at = xml.indexOf(open, at + 1)) {
    const after = xml.charCodeAt(at + open.length)
    // `<Prefix>` must not match `<PrefixList>`: the name ends at '>', '/', or white space (attributes).
    if (after !== 0x3e && after !== 0x2f && after !== 0x20 && after !== 0x09 && after !== 0x0a && after !== 0x0d) continue
    const startTagEnd = xml.indexOf('>', at)
    if (startTagEnd === -1 || startTagEnd >= to) return
    if (xml.charCodeAt(startTagEnd - 1) === 0x2f) {
      yield [startTagEnd + 1, startTagEnd + 1]
      continue
    }
    const end = xml.indexOf(close, startTagEnd)
    if (end === -1 || end > to) throw new Error(`an unterminated <${tag}> in a ListObjectsV2 answer`)
    yield [startTagEnd + 1, end]
    at = end
  }
}

function childText(xml: string, tag: string, from: number, to: number): string | undefined {
  const range = elementRange(xml, tag, from, to)
  return range === undefined ? undefined : decodeEntities(xml.slice(range[0], range[1]))
}

const NAMED_ENTITIES: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'"}

/** XML's five named entities and character references (CDATA sections are not used by S3). */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (entity, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16))
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10))
    return NAMED_ENTITIES[name] ?? entity
  })
}
