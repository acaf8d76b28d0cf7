import assert from 'node:assert/strict'
import {mkdtemp, rm} from 'node:fs/promises'
import {homedir, tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {isStoreError} from '../../src/core/store/errors.js'
import {FileStore} from '../../src/core/store/file-store.js'
import {defaultStoreDir, openStore, parseStoreLocation, storeUrl} from '../../src/core/store/open-store.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'

describe('parseStoreLocation', () => {
  it('reads s3://BUCKET[/PREFIX], keeping the prefix as written except trailing slashes', () => {
    assert.deepEqual(parseStoreLocation('s3://bucket'), {kind: 's3', bucket: 'bucket', prefix: ''})
    assert.deepEqual(parseStoreLocation('s3://bucket/'), {kind: 's3', bucket: 'bucket', prefix: ''})
    assert.deepEqual(parseStoreLocation('s3://bucket/a/b'), {kind: 's3', bucket: 'bucket', prefix: 'a/b'})
    assert.deepEqual(parseStoreLocation('s3://bucket/a/b//'), {kind: 's3', bucket: 'bucket', prefix: 'a/b'})
    assert.deepEqual(parseStoreLocation('s3://bucket/a//b c/%20'), {kind: 's3', bucket: 'bucket', prefix: 'a//b c/%20'})
    assert.deepEqual(parseStoreLocation('S3://bucket/x'), {kind: 's3', bucket: 'bucket', prefix: 'x'})
  })

  it('reads file:///DIR and plain paths as absolute directories', () => {
    assert.deepEqual(parseStoreLocation('file:///srv/data'), {kind: 'file', dir: '/srv/data'})
    assert.deepEqual(parseStoreLocation('file:///srv/my%20data/'), {kind: 'file', dir: '/srv/my data'})
    assert.deepEqual(parseStoreLocation('file://localhost/srv/data'), {kind: 'file', dir: '/srv/data'})
    assert.deepEqual(parseStoreLocation('/srv/data/'), {kind: 'file', dir: '/srv/data'})
    assert.deepEqual(parseStoreLocation('relative/dir'), {kind: 'file', dir: resolve('relative/dir')})
    assert.deepEqual(parseStoreLocation('.'), {kind: 'file', dir: process.cwd()})
    assert.deepEqual(parseStoreLocation('a:b'), {kind: 'file', dir: resolve('a:b')})
  })

  it('refuses other schemes, an empty bucket, a remote file URL and an empty location with one clear line', () => {
    for (const [location, why] of [
      ['gs://bucket/x', /unsupported scheme "gs:\/\/"/],
      ['http://host/x', /unsupported scheme "http:\/\/"/],
      ['s3://', /bucket name is missing/],
      ['s3:///prefix', /bucket name is missing/],
      ['file://otherhost/srv', /not a local file URL/],
      ['', /empty/],
    ] as const) {
      assert.throws(() => parseStoreLocation(location), (error: unknown) => {
        assert.ok(isStoreError(error), String(error))
        assert.match(error.message, why)
        assert.match(error.message, /expected s3:\/\/BUCKET\[\/PREFIX\], file:\/\/\/DIR or a local path/)
        assert.doesNotMatch(error.message, /\n/)
        return true
      }, location)
    }
  })
})

describe('storeUrl', () => {
  it('gives one canonical URL per store', () => {
    assert.equal(storeUrl('s3://bucket'), 's3://bucket')
    assert.equal(storeUrl('s3://bucket/'), 's3://bucket')
    assert.equal(storeUrl('s3://bucket/a/b/'), 's3://bucket/a/b')
    assert.equal(storeUrl('/srv/data/'), 'file:///srv/data')
    assert.equal(storeUrl('file:///srv/data'), 'file:///srv/data')
    assert.equal(storeUrl('/srv/my data'), 'file:///srv/my%20data')
    assert.equal(storeUrl({kind: 's3', bucket: 'b', prefix: 'p'}), 's3://b/p')
    assert.equal(storeUrl('relative'), `file://${resolve('relative')}`)
  })
})

describe('defaultStoreDir', () => {
  let saved: string | undefined
  before(() => {
    saved = process.env.XDG_DATA_HOME
  })
  after(() => {
    if (saved === undefined) delete process.env.XDG_DATA_HOME
    else process.env.XDG_DATA_HOME = saved
  })

  it('lives in $XDG_DATA_HOME/zerofs/default', () => {
    process.env.XDG_DATA_HOME = '/data/home'
    assert.equal(defaultStoreDir(), '/data/home/zerofs/default')
  })

  it('falls back to ~/.local/share/zerofs/default without XDG_DATA_HOME, or with a relative one (invalid per XDG)', () => {
    delete process.env.XDG_DATA_HOME
    assert.equal(defaultStoreDir(), join(homedir(), '.local/share/zerofs/default'))
    process.env.XDG_DATA_HOME = 'relative/share'
    assert.equal(defaultStoreDir(), join(homedir(), '.local/share/zerofs/default'))
    process.env.XDG_DATA_HOME = ''
    assert.equal(defaultStoreDir(), join(homedir(), '.local/share/zerofs/default'))
  })
})

describe('openStore', () => {
  let server: S3rverHandle
  let dir: string
  before(async () => {
    server = await startS3rver(['opened'])
    dir = await mkdtemp(join(tmpdir(), 'zerofs-open-store-'))
  })
  after(async () => {
    await server?.stop()
    await rm(dir, {recursive: true, force: true})
  })

  it('opens an S3Store for s3:// with the store options', async () => {
    const saved = {...process.env}
    Object.assign(process.env, {AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey})
    const store = await openStore('s3://opened/some/prefix/', {endpoint: server.endpoint, checksumMode: 'when-required', maxSockets: 4})
    try {
      assert.ok(store instanceof S3Store)
      assert.equal(store.url, 's3://opened/some/prefix')
      await store.check()
      await store.put('k', Buffer.from('v'))
      assert.equal((await store.head('k'))?.size, 1)
    } finally {
      await store.close()
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
      Object.assign(process.env, saved)
    }
  })

  it('opens a FileStore for file:// URLs and plain paths', async () => {
    for (const location of [dir, `file://${dir}`]) {
      const store = await openStore(location)
      try {
        assert.ok(store instanceof FileStore)
        assert.equal(store.url, storeUrl(location))
      } finally {
        await store.close()
      }
    }
  })

  it('refuses an invalid endpoint with one clear line', async () => {
    await assert.rejects(openStore('s3://bucket', {endpoint: 'not a url'}), (error: unknown) =>
      isStoreError(error) && /invalid S3 endpoint "not a url"/.test(error.message))
  })
})
