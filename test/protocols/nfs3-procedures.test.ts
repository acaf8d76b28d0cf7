import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {XdrReader, XdrWriter} from '../../src/protocols/rpc/xdr.js'
import {startInProcessNfs, type InProcessNfs} from '../helpers/nfs-server.js'
import {RpcClient, successBody} from '../helpers/nfs-rpc-client.js'
import {
  MOUNT, NFS, NfsTestClient, readPostOpAttr, readPostOpFh, readWcc, writeDirOp, writeSattr3, type NfsResult,
} from '../helpers/nfs-wire.js'

// nfsstat3 values, as RFC 1813 numbers them
const OK = 0
const NOENT = 2
const ACCES = 13
const EXIST = 17
const NOTDIR = 20
const ISDIR = 21
const INVAL = 22
const ROFS = 30
const NOTEMPTY = 66
const STALE = 70
const BADHANDLE = 10001
const NOT_SYNC = 10002
const BAD_COOKIE = 10003
const NOTSUPP = 10004
const TOOSMALL = 10005
const BADTYPE = 10007

const BOGUS_HANDLE = Buffer.from('not a zerofs handle')

/** Reads a failure body with `readBody` and checks that it is exactly that long. */
function expectFailure(result: NfsResult, status: number, readBody: (body: XdrReader) => void): void {
  assert.equal(result.status, status)
  readBody(result.body)
  assert.equal(result.body.remaining, 0, 'the failure body has exactly the RFC layout')
}

describe('NFSv3 procedures over a real core (FileStore)', () => {
  let nfs: InProcessNfs
  let client: NfsTestClient
  let root: Buffer

  before(async () => {
    nfs = await startInProcessNfs()
    client = await NfsTestClient.connect(nfs.port)
    root = await client.mountRoot()
  })
  after(async () => {
    await client.close()
    await nfs.dispose()
  })

  async function newFile(name: string, content = 'data', dir = root): Promise<Buffer> {
    const created = await client.create(dir, name, {mode: 0, attributes: {mode: 0o644}})
    assert.equal(created.status, OK)
    if (content !== '') assert.equal((await client.write(created.handle!, 0n, Buffer.from(content), 2)).status, OK)
    return created.handle!
  }

  async function newDir(name: string, dir = root): Promise<Buffer> {
    const made = await client.mkdir(dir, name)
    assert.equal(made.status, OK)
    return made.handle!
  }

  it('NULL answers an empty success', async () => {
    const reply = await client.rpc.call(NFS.prog, NFS.vers, 0, Buffer.alloc(0))
    assert.equal(successBody(reply).remaining, 0)
  })

  it('creates, writes UNSTABLE, reads back, commits with the same verifier, and the bucket holds the object', async () => {
    const handle = await newFile('flow.txt', '')
    const written = await client.write(handle, 0n, Buffer.from('hello, '), 0)
    assert.equal(written.committed, 0)
    const more = await client.write(handle, 7n, Buffer.from('world'), 0)
    assert.deepEqual(more.verifier, written.verifier)
    assert.equal(more.after?.size, 12n)
    const read = await client.read(handle, 0n, 100)
    assert.equal(read.data?.toString(), 'hello, world')
    assert.equal(read.eof, true)
    const committed = await client.commit(handle)
    assert.equal(committed.status, OK)
    assert.deepEqual(committed.verifier, written.verifier)
    assert.equal(await readFile(join(nfs.storeDir, 'flow.txt'), 'utf8'), 'hello, world')
    const stable = await client.write(handle, 0n, Buffer.from('H'), 2)
    assert.equal(stable.committed, 2, 'FILE_SYNC')
    assert.equal(await readFile(join(nfs.storeDir, 'flow.txt'), 'utf8'), 'Hello, world')
  })

  it('GETATTR: BADHANDLE for a malformed handle, STALE for a removed file; the failure body is void', async () => {
    expectFailure(await client.call(1, (w) => w.opaque(BOGUS_HANDLE)), BADHANDLE, () => {})
    const handle = await newFile('gone.txt')
    assert.equal((await client.call(12, (w) => writeDirOp(w, root, 'gone.txt'))).status, OK)
    expectFailure(await client.call(1, (w) => w.opaque(handle)), STALE, () => {})
  })

  it('SETATTR: applies mode, uid, size and times; a stale ctime guard gives NOT_SYNC with wcc data', async () => {
    const handle = await newFile('attrs.txt', '0123456789')
    const {status, body} = await client.call(2, (w) => {
      w.opaque(handle)
      writeSattr3(w, {mode: 0o600, uid: 1234, gid: 5678, size: 4n, mtime: {sec: 1_600_000_000, nsec: 0}})
      w.bool(false)
    })
    assert.equal(status, OK)
    const wcc = readWcc(body)
    assert.equal(wcc.before?.size, 10n)
    assert.deepEqual([wcc.after?.mode, wcc.after?.uid, wcc.after?.gid, wcc.after?.size, wcc.after?.mtime.sec], [0o600, 1234, 5678, 4n, 1_600_000_000])
    expectFailure(await client.call(2, (w) => {
      w.opaque(handle)
      writeSattr3(w, {mode: 0o644})
      w.bool(true).uint32(1).uint32(2)
    }), NOT_SYNC, (r) => {
      const failed = readWcc(r)
      assert.ok(failed.before && failed.after)
      assert.equal(failed.after.mode, 0o600, 'unchanged')
    })
    const guarded = await client.call(2, (w) => {
      w.opaque(handle)
      writeSattr3(w, {mode: 0o640})
      w.bool(true).uint32(wcc.after!.ctime.sec).uint32(wcc.after!.ctime.nsec)
    })
    assert.equal(guarded.status, OK)
  })

  it('SETATTR of a directory mtime (cp -a, tar x): it stands until the entries change again', async () => {
    const dir = await newDir('dated')
    await newFile('inside', 'x', dir)
    const then = {sec: 1_600_000_000, nsec: 0}
    const set = await client.call(2, (w) => {
      w.opaque(dir)
      writeSattr3(w, {mtime: then})
      w.bool(false)
    })
    assert.equal(set.status, OK)
    assert.deepEqual((await client.getattr(dir)).attr?.mtime, then)
    assert.equal((await client.call(2, (w) => {
      w.opaque(dir)
      writeSattr3(w, {mode: 0o750})
      w.bool(false)
    })).status, OK)
    assert.deepEqual((await client.getattr(dir)).attr?.mtime, then, 'a chmod keeps it')
    await newFile('later', 'y', dir)
    assert.ok((await client.getattr(dir)).attr!.mtime.sec > then.sec, 'a new entry moves it on')
  })

  it('LOOKUP: finds names, . and ..; NOENT with the directory attributes; NOTDIR in a file', async () => {
    const dir = await newDir('look')
    await newFile('inside', 'x', dir)
    const found = await client.lookup(dir, 'inside')
    assert.equal(found.status, OK)
    assert.equal(found.attr?.size, 1n)
    assert.deepEqual((await client.lookup(dir, '.')).handle, dir)
    assert.deepEqual((await client.lookup(dir, '..')).handle, root)
    assert.deepEqual((await client.lookup(root, '..')).handle, root)
    expectFailure(await client.call(3, (w) => writeDirOp(w, dir, 'missing')), NOENT, (r) => assert.equal(readPostOpAttr(r)?.type, 2))
    expectFailure(await client.call(3, (w) => writeDirOp(w, found.handle!, 'x')), NOTDIR, (r) => assert.equal(readPostOpAttr(r)?.type, 1))
    expectFailure(await client.call(3, (w) => writeDirOp(w, dir, 'a/b')), ACCES, (r) => assert.ok(readPostOpAttr(r)))
  })

  it('ACCESS: evaluates the AUTH_SYS caller; BADHANDLE without attributes', async () => {
    const handle = await newFile('private.txt')
    const setattr = await client.call(2, (w) => {
      w.opaque(handle)
      writeSattr3(w, {mode: 0o640, uid: 1000, gid: 100})
      w.bool(false)
    })
    assert.equal(setattr.status, OK)
    const ask = async (auth: {uid: number; gid: number; gids?: number[]}): Promise<number> => {
      const asker = new NfsTestClient(client.rpc, auth)
      const {status, body} = await asker.call(4, (w) => w.opaque(handle).uint32(0x3f))
      assert.equal(status, OK)
      readPostOpAttr(body)
      return body.uint32()
    }
    assert.equal(await ask({uid: 1000, gid: 1}), 0x1 | 0x4 | 0x8, 'owner: read, modify, extend')
    assert.equal(await ask({uid: 2000, gid: 1, gids: [100]}), 0x1, 'group member: read')
    assert.equal(await ask({uid: 2000, gid: 1}), 0, 'other: nothing')
    assert.equal(await ask({uid: 0, gid: 0}), 0x1 | 0x4 | 0x8, 'root: all but execute')
    const dirAccess = await client.call(4, (w) => w.opaque(root).uint32(0x3f))
    readPostOpAttr(dirAccess.body)
    assert.equal(dirAccess.body.uint32(), 0x1 | 0x2 | 0x4 | 0x8 | 0x10, 'root dir for root: no EXECUTE bit on a directory')
    expectFailure(await client.call(4, (w) => w.opaque(BOGUS_HANDLE).uint32(1)), BADHANDLE, (r) => assert.equal(readPostOpAttr(r), undefined))
  })

  it('READLINK, SYMLINK: a symlink reads back; READLINK of a file is INVAL; SYMLINK over a name is EXIST', async () => {
    const made = await client.call(10, (w) => {
      writeDirOp(w, root, 'link')
      writeSattr3(w, {})
      w.string('flow.txt')
    })
    assert.equal(made.status, OK)
    const link = readPostOpFh(made.body)!
    assert.equal(readPostOpAttr(made.body)?.type, 5)
    const readlink = await client.call(5, (w) => w.opaque(link))
    assert.equal(readlink.status, OK)
    readPostOpAttr(readlink.body)
    assert.equal(readlink.body.string().toString(), 'flow.txt')
    const file = await newFile('plain.txt')
    expectFailure(await client.call(5, (w) => w.opaque(file)), INVAL, (r) => assert.ok(readPostOpAttr(r)))
    expectFailure(await client.call(10, (w) => {
      writeDirOp(w, root, 'link')
      writeSattr3(w, {})
      w.string('x')
    }), EXIST, (r) => {
      const wcc = readWcc(r)
      assert.ok(wcc.before && wcc.after)
    })
  })

  it('READ and WRITE: ISDIR on a directory, with their failure bodies', async () => {
    expectFailure(await client.call(6, (w) => w.opaque(root).uint64(0n).uint32(10)), ISDIR, (r) => assert.equal(readPostOpAttr(r)?.type, 2))
    expectFailure(await client.call(7, (w) => w.opaque(root).uint64(0n).uint32(1).uint32(0).opaque(Buffer.from('x'))), ISDIR, (r) => {
      const wcc = readWcc(r)
      assert.ok(wcc.before && wcc.after)
    })
    const handle = await newFile('short.txt', 'abc')
    expectFailure(await client.call(7, (w) => w.opaque(handle).uint64(0n).uint32(10).uint32(0).opaque(Buffer.from('x'))), INVAL, (r) => readWcc(r))
    const past = await client.read(handle, 100n, 10)
    assert.equal(past.data?.length, 0)
    assert.equal(past.eof, true)
  })

  it('CREATE: GUARDED over an existing name is EXIST; EXCLUSIVE is idempotent for its verifier only', async () => {
    await newFile('exists.txt')
    expectFailure(await client.call(8, (w) => {
      writeDirOp(w, root, 'exists.txt')
      w.uint32(1)
      writeSattr3(w, {mode: 0o644})
    }), EXIST, (r) => {
      const wcc = readWcc(r)
      assert.equal(wcc.before?.size, 0n)
      assert.equal(wcc.after?.type, 2)
    })
    const verifier = Buffer.from('01234567')
    const first = await client.create(root, 'excl.txt', {mode: 2, verifier})
    assert.equal(first.status, OK)
    const again = await client.create(root, 'excl.txt', {mode: 2, verifier})
    assert.equal(again.status, OK, 'a retransmission of the same CREATE succeeds')
    assert.deepEqual(again.handle, first.handle)
    assert.equal((await client.create(root, 'excl.txt', {mode: 2, verifier: Buffer.from('76543210')})).status, EXIST)
    const unchecked = await client.create(root, 'exists.txt', {mode: 0, attributes: {size: 0n}})
    assert.equal(unchecked.status, OK, 'UNCHECKED over an existing file succeeds')
    expectFailure(await client.call(8, (w) => {
      writeDirOp(w, root, '..')
      w.uint32(0)
      writeSattr3(w, {})
    }), EXIST, (r) => readWcc(r))
  })

  it('MKDIR over an existing name is EXIST; RMDIR of a non-empty directory is NOTEMPTY; REMOVE of a missing name NOENT', async () => {
    const dir = await newDir('full')
    await newFile('child', 'x', dir)
    expectFailure(await client.call(9, (w) => {
      writeDirOp(w, root, 'full')
      writeSattr3(w, {})
    }), EXIST, (r) => readWcc(r))
    expectFailure(await client.call(13, (w) => writeDirOp(w, root, 'full')), NOTEMPTY, (r) => {
      const wcc = readWcc(r)
      assert.ok(wcc.before && wcc.after)
    })
    expectFailure(await client.call(12, (w) => writeDirOp(w, dir, 'nothing')), NOENT, (r) => {
      const wcc = readWcc(r)
      assert.ok(wcc.before && wcc.after)
    })
    expectFailure(await client.call(12, (w) => writeDirOp(w, BOGUS_HANDLE, 'x')), BADHANDLE, (r) => assert.deepEqual(readWcc(r), {before: undefined, after: undefined}))
    assert.equal((await client.call(12, (w) => writeDirOp(w, dir, 'child'))).status, OK)
    assert.equal((await client.call(13, (w) => writeDirOp(w, root, 'full'))).status, OK)
    expectFailure(await client.call(13, (w) => writeDirOp(w, root, '.')), INVAL, (r) => readWcc(r))
  })

  it('MKNOD: makes FIFOs and devices; refuses regular files with BADTYPE', async () => {
    const fifo = await client.call(11, (w) => {
      writeDirOp(w, root, 'pipe')
      w.uint32(7)
      writeSattr3(w, {mode: 0o600})
    })
    assert.equal(fifo.status, OK)
    readPostOpFh(fifo.body)
    assert.deepEqual([readPostOpAttr(fifo.body)?.type], [7])
    const device = await client.call(11, (w) => {
      writeDirOp(w, root, 'null')
      w.uint32(4)
      writeSattr3(w, {mode: 0o666})
      w.uint32(1).uint32(3)
    })
    assert.equal(device.status, OK)
    readPostOpFh(device.body)
    const attr = readPostOpAttr(device.body)!
    assert.deepEqual([attr.type, attr.rdev, attr.mode], [4, [1, 3], 0o666])
    expectFailure(await client.call(11, (w) => {
      writeDirOp(w, root, 'regular')
      w.uint32(1)
    }), BADTYPE, (r) => readWcc(r))
  })

  it('RENAME: over an existing file; a missing source is NOENT with both wcc', async () => {
    await newFile('from.txt', 'new')
    await newFile('to.txt', 'old')
    assert.equal((await client.call(14, (w) => {
      writeDirOp(w, root, 'from.txt')
      writeDirOp(w, root, 'to.txt')
    })).status, OK)
    const read = await client.read((await client.lookup(root, 'to.txt')).handle!, 0n, 10)
    assert.equal(read.data?.toString(), 'new')
    expectFailure(await client.call(14, (w) => {
      writeDirOp(w, root, 'from.txt')
      writeDirOp(w, root, 'x.txt')
    }), NOENT, (r) => {
      assert.ok(readWcc(r).after)
      assert.ok(readWcc(r).after)
    })
  })

  it('LINK is NOTSUPP with the file attributes and the directory wcc', async () => {
    const file = await newFile('target.txt')
    expectFailure(await client.call(15, (w) => {
      w.opaque(file)
      writeDirOp(w, root, 'hardlink')
    }), NOTSUPP, (r) => {
      assert.equal(readPostOpAttr(r)?.type, 1)
      assert.ok(readWcc(r).before)
    })
  })

  it('READDIR and READDIRPLUS: NOTDIR on a file, BAD_COOKIE on a wrong verifier, TOOSMALL when nothing fits', async () => {
    const file = await newFile('notadir.txt')
    expectFailure(await client.call(16, (w) => w.opaque(file).uint64(0n).fixedOpaque(Buffer.alloc(8)).uint32(4096)), NOTDIR, (r) => assert.ok(readPostOpAttr(r)))
    expectFailure(await client.call(17, (w) => w.opaque(file).uint64(0n).fixedOpaque(Buffer.alloc(8)).uint32(4096).uint32(4096)), NOTDIR, (r) => assert.ok(readPostOpAttr(r)))
    expectFailure(await client.call(16, (w) => w.opaque(root).uint64(5n).fixedOpaque(Buffer.from('wrongver')).uint32(4096)), BAD_COOKIE, (r) => assert.ok(readPostOpAttr(r)))
    expectFailure(await client.call(16, (w) => w.opaque(root).uint64(0n).fixedOpaque(Buffer.alloc(8)).uint32(120)), TOOSMALL, (r) => assert.ok(readPostOpAttr(r)))
    expectFailure(await client.call(17, (w) => w.opaque(root).uint64(0n).fixedOpaque(Buffer.alloc(8)).uint32(100).uint32(200)), TOOSMALL, (r) => assert.ok(readPostOpAttr(r)))
  })

  it('FSSTAT, FSINFO, PATHCONF answer for the root and fail with BADHANDLE without attributes', async () => {
    const fsinfo = await client.call(19, (w) => w.opaque(root))
    assert.equal(fsinfo.status, OK)
    readPostOpAttr(fsinfo.body)
    const [rtmax, , , wtmax] = [fsinfo.body.uint32(), fsinfo.body.uint32(), fsinfo.body.uint32(), fsinfo.body.uint32()]
    assert.deepEqual([rtmax, wtmax], [1 << 20, 1 << 20])
    const pathconf = await client.call(20, (w) => w.opaque(root))
    readPostOpAttr(pathconf.body)
    pathconf.body.uint32()
    assert.equal(pathconf.body.uint32(), 255)
    const fsstat = await client.call(18, (w) => w.opaque(root))
    assert.equal(fsstat.status, OK)
    readPostOpAttr(fsstat.body)
    assert.ok(fsstat.body.uint64() > 0n)
    for (const proc of [18, 19, 20]) {
      expectFailure(await client.call(proc, (w) => w.opaque(BOGUS_HANDLE)), BADHANDLE, (r) => assert.equal(readPostOpAttr(r), undefined))
    }
    expectFailure(await client.call(21, (w) => w.opaque(BOGUS_HANDLE).uint64(0n).uint32(0)), BADHANDLE, (r) => assert.deepEqual(readWcc(r), {before: undefined, after: undefined}))
    expectFailure(await client.call(21, (w) => w.opaque(root).uint64(0n).uint32(0)), ISDIR, (r) => assert.ok(readWcc(r).before))
  })

  it('answers GARBAGE_ARGS to truncated arguments and PROC_UNAVAIL to procedure 22', async () => {
    const garbage = await client.rpc.call(NFS.prog, NFS.vers, 1, Buffer.from([0, 0, 0, 9, 1]))
    assert.equal(garbage.kind === 'accepted' && garbage.acceptStat, 4)
    const unknown = await client.rpc.call(NFS.prog, NFS.vers, 22, Buffer.alloc(0))
    assert.equal(unknown.kind === 'accepted' && unknown.acceptStat, 3)
  })
})

describe('READDIR and READDIRPLUS byte budgets', () => {
  let nfs: InProcessNfs
  let client: NfsTestClient
  let dir: Buffer
  const names = Array.from({length: 300}, (_, i) => `${'n'.repeat(1 + (i * 7) % 60)}-${i}`)

  before(async () => {
    nfs = await startInProcessNfs()
    client = await NfsTestClient.connect(nfs.port)
    const root = await client.mountRoot()
    dir = (await client.mkdir(root, 'many')).handle!
    for (const name of names) assert.equal((await client.create(dir, name, {mode: 0, attributes: {mode: 0o644}})).status, OK)
  })
  after(async () => {
    await client.close()
    await nfs.dispose()
  })

  for (const plus of [false, true]) {
    it(`${plus ? 'READDIRPLUS' : 'READDIR'} replies never exceed the count and resume by cookie over every entry`, async () => {
      const seen: string[] = []
      let cookie = 0n
      let verifier: Buffer | undefined
      for (let pages = 0; ; pages++) {
        assert.ok(pages < 400, 'terminates')
        const count = 700 + (pages * 131) % 2000
        const dircount = 300 + (pages * 17) % 500
        const page = await client.readdir(dir, {cookie, verifier, count, dircount, plus})
        assert.equal(page.status, OK)
        assert.ok(page.size <= count, `reply of ${page.size} bytes within count ${count}`)
        assert.ok(page.entries.length > 0 || page.eof)
        if (plus) {
          const infoBytes = page.entries.slice(1).reduce((sum, entry) => sum + 24 + ((Buffer.byteLength(entry.name) + 3) & ~3), 0)
          assert.ok(infoBytes <= dircount, 'directory information within dircount')
          for (const entry of page.entries) assert.ok(entry.attr && entry.handle, `attributes and handle for ${entry.name}`)
        }
        seen.push(...page.entries.map((entry) => entry.name))
        if (page.eof) break
        cookie = page.entries.at(-1)!.cookie
        verifier = page.verifier
      }
      assert.deepEqual(seen.slice(0, 2), ['.', '..'])
      assert.deepEqual(seen.slice(2).sort(), [...names].sort())
    })
  }

  it('READDIRPLUS handles look up the same file as LOOKUP', async () => {
    const entries = await client.list(dir, true, 32768)
    const entry = entries.find((candidate) => candidate.name === names[5])!
    assert.deepEqual(entry.handle, (await client.lookup(dir, names[5])).handle)
  })
})

describe('MOUNT v3', () => {
  let nfs: InProcessNfs
  let client: NfsTestClient

  before(async () => {
    nfs = await startInProcessNfs({allow: ['127.0.0.0/8']})
    client = await NfsTestClient.connect(nfs.port)
    const root = await client.mountRoot()
    const sub = await client.mkdir(root, 'sub')
    assert.equal(sub.status, OK)
    await client.create(root, 'file', {mode: 0, attributes: {}})
  })
  after(async () => {
    await client.close()
    await nfs.dispose()
  })

  const mountCall = async (proc: number, args: (w: XdrWriter) => void = () => {}): Promise<XdrReader> => {
    const reply = await client.rpc.call(MOUNT.prog, MOUNT.vers, proc, args)
    assert.ok(reply.kind === 'accepted' && reply.acceptStat === 0)
    return reply.body
  }

  it('MNT exports / and sub-directories with AUTH_SYS; refuses missing paths, files and ..', async () => {
    const mounted = await client.mount('/')
    assert.equal(mounted.status, 0)
    assert.deepEqual(mounted.flavors, [1])
    const sub = await client.mount('/sub/')
    assert.equal(sub.status, 0)
    assert.equal((await client.getattr(sub.handle!)).attr?.type, 2)
    assert.equal((await client.mount('/missing')).status, 2)
    assert.equal((await client.mount('/file')).status, 20)
    assert.equal((await client.mount('/sub/../..')).status, 22)
  })

  it('EXPORT lists / with the --allow groups; DUMP, UMNT and UMNTALL keep the mount list', async () => {
    const exports = await mountCall(5)
    assert.equal(exports.bool(), true)
    assert.equal(exports.string().toString(), '/')
    assert.equal(exports.bool(), true)
    assert.equal(exports.string().toString(), '127.0.0.0/8')
    assert.equal(exports.bool(), false)
    assert.equal(exports.bool(), false)

    const dumped = async (): Promise<string[]> => {
      const body = await mountCall(2)
      const entries: string[] = []
      while (body.bool()) entries.push(`${body.string()}:${body.string()}`)
      return entries.sort()
    }
    assert.deepEqual(await dumped(), ['127.0.0.1:/', '127.0.0.1:/sub/'])
    await mountCall(3, (w) => w.string('/sub/'))
    assert.deepEqual(await dumped(), ['127.0.0.1:/'])
    await mountCall(4)
    assert.deepEqual(await dumped(), [])
  })
})

describe('export safety and restarts', () => {
  it('a read-only export answers ROFS to every mutation, each with its failure body', async () => {
    const nfs = await startInProcessNfs()
    let client = await NfsTestClient.connect(nfs.port)
    try {
      const root = await client.mountRoot()
      const file = (await client.create(root, 'f', {mode: 0, attributes: {}})).handle!
      await client.close()
      await nfs.restart({readOnly: true})
      client = await NfsTestClient.connect(nfs.port)
      const wcc = (r: XdrReader) => readWcc(r)
      const mutations: Array<[number, (w: XdrWriter) => void, (r: XdrReader) => void]> = [
        [2, (w) => { w.opaque(file); writeSattr3(w, {mode: 0o600}); w.bool(false) }, wcc],
        [7, (w) => w.opaque(file).uint64(0n).uint32(1).uint32(2).opaque(Buffer.from('x')), wcc],
        [8, (w) => { writeDirOp(w, root, 'new'); w.uint32(0); writeSattr3(w) }, wcc],
        [9, (w) => { writeDirOp(w, root, 'dir'); writeSattr3(w) }, wcc],
        [10, (w) => { writeDirOp(w, root, 'ln'); writeSattr3(w); w.string('f') }, wcc],
        [11, (w) => { writeDirOp(w, root, 'p'); w.uint32(7); writeSattr3(w) }, wcc],
        [12, (w) => writeDirOp(w, root, 'f'), wcc],
        [13, (w) => writeDirOp(w, root, 'f'), wcc],
        [14, (w) => { writeDirOp(w, root, 'f'); writeDirOp(w, root, 'g') }, (r) => { readWcc(r); readWcc(r) }],
        [15, (w) => { w.opaque(file); writeDirOp(w, root, 'h') }, (r) => { readPostOpAttr(r); readWcc(r) }],
      ]
      for (const [proc, args, body] of mutations) {
        const result = await client.call(proc, args)
        assert.equal(result.status, ROFS, `procedure ${proc}`)
        body(result.body)
        assert.equal(result.body.remaining, 0, `procedure ${proc} body`)
      }
      const access = await client.call(4, (w) => w.opaque(file).uint32(0x3f))
      readPostOpAttr(access.body)
      assert.equal(access.body.uint32() & (0x4 | 0x8 | 0x10), 0, 'ACCESS grants no modification on a read-only export')
      assert.equal((await client.read(file, 0n, 10)).status, OK)
    } finally {
      await client.close()
      await nfs.dispose()
    }
  })

  it('handles survive a restart; the write verifier changes; a handle from another fsid is STALE', async () => {
    const nfs = await startInProcessNfs()
    let client = await NfsTestClient.connect(nfs.port)
    try {
      const root = await client.mountRoot()
      const dir = (await client.mkdir(root, 'keep')).handle!
      const file = (await client.create(dir, 'kept.txt', {mode: 0, attributes: {mode: 0o644}})).handle!
      const before = await client.write(file, 0n, Buffer.from('survives'), 0)
      await client.close()
      await nfs.restart()
      client = await NfsTestClient.connect(nfs.port)
      assert.equal((await client.getattr(file)).attr?.size, 8n)
      assert.equal((await client.lookup(dir, 'kept.txt')).status, OK)
      const after = await client.write(file, 8n, Buffer.from('!'), 0)
      assert.notDeepEqual(after.verifier, before.verifier)
      const foreign = Buffer.from(file)
      foreign.writeBigUInt64BE(7n, 4)
      assert.equal((await client.getattr(foreign)).status, STALE)
    } finally {
      await client.close()
      await nfs.dispose()
    }
  })

  it('--allow refuses connections from other addresses', async () => {
    const nfs = await startInProcessNfs({allow: ['10.0.0.0/8']})
    try {
      const client = await RpcClient.connect(nfs.port)
      const reply = await client.call(NFS.prog, NFS.vers, 0, Buffer.alloc(0))
      assert.equal(reply.kind, 'closed', 'connection closed without a reply')
      await client.close()
    } finally {
      await nfs.dispose()
    }
  })
})

