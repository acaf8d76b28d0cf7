import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {fsError, type Errno} from '../../src/core/errors.js'
import type {Attr} from '../../src/core/fs/types.js'
import {exportPath} from '../../src/protocols/mount3/mnt.js'
import {Mount3Error, toMountStat3} from '../../src/protocols/mount3/status.js'
import {joinDevice, splitDevice} from '../../src/core/fs/device.js'
import {readSattr3, writeFattr3, writeWccData} from '../../src/protocols/nfs3/attributes.js'
import * as nfs from '../../src/protocols/nfs3/constants.js'
import {FileHandles} from '../../src/protocols/nfs3/file-handle.js'
import {Nfs3Error, toNfsStat3} from '../../src/protocols/nfs3/status.js'
import {allowList} from '../../src/protocols/rpc/allow-list.js'
import {DecodeError, XdrReader, XdrWriter} from '../../src/protocols/rpc/xdr.js'
import {readFattr3, readWcc, writeSattr3} from '../helpers/nfs-wire.js'

const attr: Attr = {
  ino: 0x1234_5678_9abc_def0n,
  generation: 7,
  type: 'chardev',
  mode: 0o020640,
  nlink: 1,
  uid: 1000,
  gid: 100,
  size: 2 ** 40 + 5,
  rdev: joinDevice(4, 64),
  atime: {sec: 1_700_000_000, nsec: 1},
  mtime: {sec: 1_700_000_001, nsec: 999_999_999},
  ctime: {sec: 4_000_000_000, nsec: 0},
}

describe('NFSv3 constants', () => {
  it('carry the values RFC 1813 gives them', () => {
    const expected: Record<string, number> = {
      NFS3_OK: 0, NFS3ERR_PERM: 1, NFS3ERR_NOENT: 2, NFS3ERR_IO: 5, NFS3ERR_NXIO: 6, NFS3ERR_ACCES: 13,
      NFS3ERR_EXIST: 17, NFS3ERR_XDEV: 18, NFS3ERR_NODEV: 19, NFS3ERR_NOTDIR: 20, NFS3ERR_ISDIR: 21,
      NFS3ERR_INVAL: 22, NFS3ERR_FBIG: 27, NFS3ERR_NOSPC: 28, NFS3ERR_ROFS: 30, NFS3ERR_MLINK: 31,
      NFS3ERR_NAMETOOLONG: 63, NFS3ERR_NOTEMPTY: 66, NFS3ERR_DQUOT: 69, NFS3ERR_STALE: 70, NFS3ERR_REMOTE: 71,
      NFS3ERR_BADHANDLE: 10001, NFS3ERR_NOT_SYNC: 10002, NFS3ERR_BAD_COOKIE: 10003, NFS3ERR_NOTSUPP: 10004,
      NFS3ERR_TOOSMALL: 10005, NFS3ERR_SERVERFAULT: 10006, NFS3ERR_BADTYPE: 10007, NFS3ERR_JUKEBOX: 10008,
      NF3REG: 1, NF3DIR: 2, NF3BLK: 3, NF3CHR: 4, NF3LNK: 5, NF3SOCK: 6, NF3FIFO: 7,
      NFSPROC3_NULL: 0, NFSPROC3_LINK: 15, NFSPROC3_READDIRPLUS: 17, NFSPROC3_COMMIT: 21,
      UNSTABLE: 0, DATA_SYNC: 1, FILE_SYNC: 2, UNCHECKED: 0, GUARDED: 1, EXCLUSIVE: 2,
      ACCESS3_READ: 1, ACCESS3_LOOKUP: 2, ACCESS3_MODIFY: 4, ACCESS3_EXTEND: 8, ACCESS3_DELETE: 0x10, ACCESS3_EXECUTE: 0x20,
      NFS_PROGRAM: 100003, NFS_V3: 3, NFS3_FHSIZE: 64,
    }
    for (const [name, value] of Object.entries(expected)) {
      assert.equal((nfs as Record<string, unknown>)[name], value, name)
    }
  })
})

describe('toNfsStat3', () => {
  it('maps every errno of the core to its nfsstat3, and bugs to SERVERFAULT', () => {
    const cases: Array<[Errno, number]> = [
      ['EPERM', 1], ['ENOENT', 2], ['EIO', 5], ['EACCES', 13], ['EEXIST', 17], ['EXDEV', 18], ['ENOTDIR', 20],
      ['EISDIR', 21], ['EINVAL', 22], ['EFBIG', 27], ['ENOSPC', 28], ['EROFS', 30], ['EMLINK', 31],
      ['ENAMETOOLONG', 63], ['ENOTEMPTY', 66], ['ESTALE', 70], ['ENOTSUP', 10004], ['EOPNOTSUPP', 10004],
      ['EAGAIN', 10008],
    ]
    for (const [code, status] of cases) assert.equal(toNfsStat3(fsError(code, 'test')), status, code)
    assert.equal(toNfsStat3(new Nfs3Error(nfs.NFS3ERR_NOT_SYNC, 'guard')), 10002)
    assert.equal(toNfsStat3(new TypeError('bug')), 10006)
  })

  it('has a mountstat3 twin that folds what MOUNT cannot say into MNT3ERR_IO', () => {
    assert.equal(toMountStat3(fsError('ENOENT', 'resolve')), 2)
    assert.equal(toMountStat3(fsError('ENOTDIR', 'resolve')), 20)
    assert.equal(toMountStat3(fsError('EEXIST', 'resolve')), 5)
    assert.equal(toMountStat3(new Mount3Error(22, 'dots')), 22)
    assert.equal(toMountStat3(new Error('bug')), 10006)
  })
})

describe('file handles', () => {
  const handles = new FileHandles(0xfeed_beef_0000_0001n)

  it('round-trip inode and generation, within 64 bytes', () => {
    const handle = handles.encode(attr)
    assert.ok(handle.length <= 64)
    assert.deepEqual(handles.decode(handle), {ino: attr.ino, generation: 7})
  })

  it('answer BADHANDLE when malformed and STALE when from another filesystem', () => {
    const handle = handles.encode(attr)
    const expectStatus = (bytes: Buffer, status: number) =>
      assert.throws(() => handles.decode(bytes), (error: unknown) => error instanceof Nfs3Error && error.status === status)
    expectStatus(Buffer.alloc(0), nfs.NFS3ERR_BADHANDLE)
    expectStatus(handle.subarray(0, 20), nfs.NFS3ERR_BADHANDLE)
    expectStatus(Buffer.concat([handle, Buffer.alloc(4)]), nfs.NFS3ERR_BADHANDLE)
    const wrongMagic = Buffer.from(handle)
    wrongMagic[0] ^= 0xff
    expectStatus(wrongMagic, nfs.NFS3ERR_BADHANDLE)
    expectStatus(new FileHandles(2n).encode(attr), nfs.NFS3ERR_STALE)
  })
})

describe('attributes', () => {
  it('encode fattr3 field by field: permission bits only, specdata from rdev, the fsid', () => {
    const writer = new XdrWriter()
    writeFattr3(writer, attr, 99n)
    const bytes = writer.toBuffer()
    assert.equal(bytes.length, 84)
    const decoded = readFattr3(new XdrReader(bytes))
    assert.deepEqual(decoded, {
      type: nfs.NF3CHR, mode: 0o640, nlink: 1, uid: 1000, gid: 100, size: 2n ** 40n + 5n, used: 2n ** 40n + 5n,
      rdev: [4, 64], fsid: 99n, fileid: attr.ino, atime: attr.atime, mtime: attr.mtime, ctime: attr.ctime,
    })
  })

  it('encode wcc_data with either side absent', () => {
    const writer = new XdrWriter()
    writeWccData(writer, attr, undefined, 1n)
    writeWccData(writer, undefined, attr, 1n)
    const reader = new XdrReader(writer.toBuffer())
    assert.deepEqual(readWcc(reader), {before: {size: 2n ** 40n + 5n, mtime: attr.mtime, ctime: attr.ctime}, after: undefined})
    assert.equal(readWcc(reader).after?.fileid, attr.ino)
    assert.equal(reader.remaining, 0)
  })

  it('decode sattr3: only what is set, server time as now, the mode without type bits', () => {
    const writer = new XdrWriter()
    writeSattr3(writer, {mode: 0o104755, size: 10n, atime: 'server', mtime: {sec: 5, nsec: 6}})
    writeSattr3(writer, {uid: 1, gid: 2})
    const reader = new XdrReader(writer.toBuffer())
    assert.deepEqual(readSattr3(reader), {mode: 0o4755, size: 10, atime: 'now', mtime: {sec: 5, nsec: 6}})
    assert.deepEqual(readSattr3(reader), {uid: 1, gid: 2})
  })

  it('refuse an unknown time_how with DecodeError', () => {
    const bytes = new XdrWriter().uint32(0).uint32(0).uint32(0).uint32(0).uint32(3).uint32(0).toBuffer()
    assert.throws(() => readSattr3(new XdrReader(bytes)), DecodeError)
  })

  it('split and join device numbers as Linux does', () => {
    assert.equal(joinDevice(8, 1), 0x801)
    assert.deepEqual(splitDevice(0x801), {major: 8, minor: 1})
    assert.deepEqual(splitDevice(joinDevice(259, 70000)), {major: 259, minor: 70000})
  })
})

describe('export paths and --allow', () => {
  it('normalise mount paths and refuse ..', () => {
    assert.equal(exportPath('/'), '/')
    assert.equal(exportPath(''), '/')
    assert.equal(exportPath('a//b/./c/'), '/a/b/c')
    assert.throws(() => exportPath('/a/../b'), Mount3Error)
  })

  it('match addresses against CIDRs, IPv4-mapped included', () => {
    const allowed = allowList(['10.1.0.0/16', '127.0.0.1', 'fd00::/8'])
    assert.equal(allowed('10.1.200.3'), true)
    assert.equal(allowed('::ffff:10.1.0.9'), true)
    assert.equal(allowed('10.2.0.1'), false)
    assert.equal(allowed('127.0.0.1'), true)
    assert.equal(allowed('127.0.0.2'), false)
    assert.equal(allowed('fd12::1'), true)
    assert.equal(allowed('fe80::1'), false)
    assert.equal(allowed('garbage'), false)
    for (const bad of ['10.0.0.0/33', 'host.example', '10.0.0.0/', '::/129', '1.2.3.4/8/9']) {
      assert.throws(() => allowList([bad]), /not an address or CIDR/, bad)
    }
  })
})
