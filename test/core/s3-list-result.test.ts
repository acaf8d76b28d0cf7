import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseErrorBody, parseListResult} from '../../src/core/store/s3-list-result.js'

// Shaped as AWS S3 answers ListObjectsV2 (AWS's documentation example, with entities and a page end).
const PAGE = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix>photos/</Prefix>
  <KeyCount>3</KeyCount>
  <MaxKeys>3</MaxKeys>
  <Delimiter>/</Delimiter>
  <EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>photos/a&amp;b%20c.jpg</Key>
    <LastModified>2024-02-01T10:20:30.000Z</LastModified>
    <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag>
    <Size>1234</Size>
    <Owner><ID>owner</ID><DisplayName>someone</DisplayName></Owner>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>photos/&lt;x&gt;&#233;&#x65E5;</Key>
    <LastModified>2024-02-01T10:20:31.000Z</LastModified>
    <ETag>"0123456789abcdef0123456789abcdef-2"</ETag>
    <Size>0</Size>
  </Contents>
  <CommonPrefixes><Prefix>photos/2024/</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix/></CommonPrefixes>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>`

describe('ListObjectsV2 answers read without the SDK', () => {
  it('reads objects, common prefixes and the paging fields, decoding entities', () => {
    const page = parseListResult(PAGE)
    assert.equal(page.IsTruncated, true)
    assert.equal(page.EncodingType, 'url')
    assert.equal(page.NextContinuationToken, '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=')
    assert.deepEqual(page.Contents, [
      {Key: 'photos/a&b%20c.jpg', Size: 1234, ETag: '"d41d8cd98f00b204e9800998ecf8427e"', LastModified: new Date('2024-02-01T10:20:30.000Z')},
      {Key: 'photos/<x>é日', Size: 0, ETag: '"0123456789abcdef0123456789abcdef-2"', LastModified: new Date('2024-02-01T10:20:31.000Z')},
    ])
    assert.deepEqual(page.CommonPrefixes, [{Prefix: 'photos/2024/'}, {Prefix: ''}])
  })

  it('reads an empty last page', () => {
    const page = parseListResult('<ListBucketResult><Name>b</Name><Prefix>none/</Prefix><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>')
    assert.deepEqual(page, {Contents: [], CommonPrefixes: [], IsTruncated: false, NextContinuationToken: undefined, EncodingType: undefined})
  })

  it('refuses what is not a list answer', () => {
    assert.throws(() => parseListResult('<Error><Code>InternalError</Code></Error>'), /ListBucketResult/)
    assert.throws(() => parseListResult('<ListBucketResult><Contents><Key>a</Key>'), /unterminated <ListBucketResult>/)
    assert.throws(() => parseListResult('<ListBucketResult><Contents><Key>a</Key></ListBucketResult>'), /unterminated <Contents>/)
  })

  it('reads the code and message of an error answer', () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>x</BucketName></Error>'
    assert.deepEqual(parseErrorBody(xml), {Code: 'NoSuchBucket', Message: 'The specified bucket does not exist'})
    assert.deepEqual(parseErrorBody(''), {})
  })
})
