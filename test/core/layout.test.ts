import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {isFsError} from '../../src/core/errors.js'
import {checkNewName, classifyKey, classifyName, dirPrefix, markerKey} from '../../src/core/layout/keys.js'
import {formatAttributes, parseAttributes} from '../../src/core/layout/metadata.js'
import {fileTypeOfMode, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG} from '../../src/core/layout/mode.js'
import {formatEpochSeconds, parseEpochSeconds} from '../../src/core/layout/timestamp.js'

const defaults = {uid: 1000, gid: 100}
const lastModified = new Date('2024-01-02T03:04:05.678Z')

function expectErrno(code: string, fn: () => void): void {
  assert.throws(fn, (error: unknown) => isFsError(error) && error.code === code)
}

describe('layout: paths and keys', () => {
  it('maps directories to marker keys and prefixes', () => {
    assert.equal(markerKey('a/b'), 'a/b/')
    assert.equal(dirPrefix(''), '')
    assert.equal(dirPrefix('a'), 'a/')
    assert.throws(() => markerKey(''))
  })

  it('classifies keys found in the store', () => {
    assert.deepEqual(classifyKey('a/b.txt'), {kind: 'file', path: 'a/b.txt'})
    assert.deepEqual(classifyKey('a/b/'), {kind: 'marker', path: 'a/b'})
    assert.deepEqual(classifyKey('.zerofs/nbd/disk'), {kind: 'reserved'})
    assert.deepEqual(classifyKey('.zerofs'), {kind: 'reserved'})
    assert.deepEqual(classifyKey('sub/.zerofs'), {kind: 'file', path: 'sub/.zerofs'})
    assert.deepEqual(classifyKey('a//b'), {kind: 'invalid', reason: 'empty-component'})
    assert.deepEqual(classifyKey('/a'), {kind: 'invalid', reason: 'empty-component'})
    assert.deepEqual(classifyKey('a/../b'), {kind: 'invalid', reason: 'dot-component'})
    assert.deepEqual(classifyKey('./b'), {kind: 'invalid', reason: 'dot-component'})
    assert.deepEqual(classifyKey(`a/${'x'.repeat(256)}`), {kind: 'invalid', reason: 'name-too-long'})
    assert.deepEqual(classifyKey(`a/${'é'.repeat(128)}`), {kind: 'invalid', reason: 'name-too-long'})
    assert.deepEqual(classifyKey(`a/${'x'.repeat(255)}`), {kind: 'file', path: `a/${'x'.repeat(255)}`})
    // Bytes, not UTF-16 units: 85 three-byte characters fit, 86 do not; 64 four-byte emoji (128 units) do not.
    assert.equal(classifyName('€'.repeat(85)), undefined)
    assert.equal(classifyName('€'.repeat(86)), 'name-too-long')
    assert.equal(classifyName('😀'.repeat(63)), undefined)
    assert.equal(classifyName('😀'.repeat(64)), 'name-too-long')
    assert.deepEqual(classifyKey('a\0b'), {kind: 'invalid', reason: 'nul'})
    assert.deepEqual(classifyKey('bad\ud800'), {kind: 'invalid', reason: 'invalid-utf8'})
    assert.equal(classifyName('ok 😀'), undefined)
  })

  it('checks names a client creates', () => {
    for (const name of ['', '.', '..', 'a/b', 'a\0b']) expectErrno('EINVAL', () => checkNewName('', name, 'create'))
    expectErrno('ENAMETOOLONG', () => checkNewName('', 'x'.repeat(256), 'create'))
    checkNewName('', 'x'.repeat(255), 'create')
    expectErrno('EACCES', () => checkNewName('', '.zerofs', 'mkdir'))
    checkNewName('sub', '.zerofs', 'mkdir')
  })

  it('limits whole keys to 1024 bytes, markers included', () => {
    const parent = 'p'.repeat(1000)
    checkNewName(parent, 'x'.repeat(23), 'create')
    expectErrno('ENAMETOOLONG', () => checkNewName(parent, 'x'.repeat(23), 'mkdir', {directory: true}))
    expectErrno('ENAMETOOLONG', () => checkNewName(parent, 'x'.repeat(24), 'create'))
    expectErrno('ENAMETOOLONG', () => checkNewName('', 'abc', 'create', {maxKeyBytes: 2}))
  })
})

describe('layout: timestamps', () => {
  it('reads integer (s3fs) and fractional (rclone) seconds exactly', () => {
    assert.deepEqual(parseEpochSeconds('1700000000'), {sec: 1700000000, nsec: 0})
    assert.deepEqual(parseEpochSeconds('1700000000.123456789'), {sec: 1700000000, nsec: 123456789})
    assert.deepEqual(parseEpochSeconds('1700000000.5'), {sec: 1700000000, nsec: 500000000})
    assert.deepEqual(parseEpochSeconds('1589364425.5475937281234'), {sec: 1589364425, nsec: 547593728})
    assert.deepEqual(parseEpochSeconds('-1.25'), {sec: -2, nsec: 750000000})
    for (const bad of ['', 'abc', '1e9', '12:00', '1.2.3', '0x10']) assert.equal(parseEpochSeconds(bad), undefined, bad)
  })

  it('writes nine fractional digits and round-trips', () => {
    assert.equal(formatEpochSeconds({sec: 1700000000, nsec: 123456789}), '1700000000.123456789')
    assert.equal(formatEpochSeconds({sec: 5, nsec: 0}), '5.000000000')
    assert.equal(formatEpochSeconds({sec: -2, nsec: 750000000}), '-1.250000000')
    for (const time of [{sec: 0, nsec: 1}, {sec: -2, nsec: 750000000}, {sec: 4102444800, nsec: 999999999}]) {
      assert.deepEqual(parseEpochSeconds(formatEpochSeconds(time)), time)
    }
  })
})

describe('layout: attributes in metadata', () => {
  it('reads s3fs metadata', () => {
    const {attributes, invalid} = parseAttributes({mode: String(S_IFREG | 0o600), uid: '501', gid: '20', mtime: '1700000000'}, 'object', lastModified, defaults)
    assert.deepEqual(invalid, [])
    assert.equal(attributes.type, 'file')
    assert.equal(attributes.mode, S_IFREG | 0o600)
    assert.equal(attributes.uid, 501)
    assert.equal(attributes.gid, 20)
    assert.deepEqual(attributes.mtime, {sec: 1700000000, nsec: 0})
    assert.deepEqual(attributes.ctime, attributes.mtime)
  })

  it('defaults missing attributes: 0644 files, 0755 directories, process ids, LastModified', () => {
    const file = parseAttributes({}, 'object', lastModified, defaults).attributes
    assert.equal(file.mode, S_IFREG | 0o644)
    assert.equal(file.uid, 1000)
    assert.equal(file.gid, 100)
    assert.deepEqual(file.mtime, {sec: Math.floor(lastModified.getTime() / 1000), nsec: 678_000_000})
    const dir = parseAttributes({}, 'marker', lastModified, defaults).attributes
    assert.equal(dir.type, 'dir')
    assert.equal(dir.mode, S_IFDIR | 0o755)
  })

  it('reads symlinks, devices and permission-only modes', () => {
    assert.equal(parseAttributes({mode: String(S_IFLNK | 0o777)}, 'object', lastModified, defaults).attributes.type, 'symlink')
    const device = parseAttributes({mode: String(S_IFCHR | 0o666), rdev: '259'}, 'object', lastModified, defaults).attributes
    assert.equal(device.type, 'chardev')
    assert.equal(device.rdev, 259)
    assert.equal(parseAttributes({mode: '420'}, 'object', lastModified, defaults).attributes.mode, S_IFREG | 0o644)
    assert.equal(parseAttributes({mode: '448'}, 'marker', lastModified, defaults).attributes.mode, S_IFDIR | 0o700)
  })

  it('falls back to defaults for unparseable values and says which', () => {
    const {attributes, invalid} = parseAttributes(
      {mode: 'rw-r--r--', uid: '-1', gid: '99999999999', mtime: 'yesterday', atime: '1.5'},
      'object', lastModified, defaults)
    assert.deepEqual(invalid.sort(), ['gid', 'mode', 'mtime', 'uid'])
    assert.equal(attributes.mode, S_IFREG | 0o644)
    assert.equal(attributes.uid, 1000)
    assert.deepEqual(attributes.atime, {sec: 1, nsec: 500_000_000})
    // A directory type on an object, or a file type on a marker, is not used.
    assert.deepEqual(parseAttributes({mode: String(S_IFDIR | 0o755)}, 'object', lastModified, defaults).invalid, ['mode'])
    assert.deepEqual(parseAttributes({mode: String(S_IFREG | 0o644)}, 'marker', lastModified, defaults).invalid, ['mode'])
    assert.deepEqual(parseAttributes({mode: String(0o170777)}, 'object', lastModified, defaults).invalid, ['mode'])
  })

  it('writes what it reads', () => {
    const attributes = {
      type: 'blockdev' as const, mode: 0o60640, uid: 7, gid: 8, rdev: 2049,
      mtime: {sec: 1700000000, nsec: 123456789}, atime: {sec: 1700000001, nsec: 0}, ctime: {sec: 1700000002, nsec: 5},
    }
    const metadata = formatAttributes(attributes)
    assert.equal(metadata.mtime, '1700000000.123456789')
    assert.equal(metadata.mode, String(0o60640))
    assert.deepEqual(parseAttributes(metadata, 'object', lastModified, defaults), {attributes, invalid: []})
    assert.equal(fileTypeOfMode(0o60640), 'blockdev')
    assert.equal(formatAttributes({...attributes, type: 'file', mode: S_IFREG | 0o644}).rdev, undefined)
  })
})
