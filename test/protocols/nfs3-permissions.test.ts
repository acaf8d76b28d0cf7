import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import type {XdrWriter} from '../../src/protocols/rpc/xdr.js'
import {startInProcessNfs, type InProcessNfs} from '../helpers/nfs-server.js'
import {RpcClient, type AuthSys} from '../helpers/nfs-rpc-client.js'
import {NfsTestClient, readWcc, writeDirOp, writeSattr3, type Sattr3} from '../helpers/nfs-wire.js'

/**
 * Permission checks made by the server for every client (not only for clients that check for
 * themselves), against AUTH_SYS callers that are not the owner; and --squash.
 */

// nfsstat3 values, as RFC 1813 numbers them
const OK = 0
const PERM = 1
const ACCES = 13

const ROOT: AuthSys = {uid: 0, gid: 0}
const ALICE: AuthSys = {uid: 1000, gid: 1000, gids: [1000, 3000]}
const BOB: AuthSys = {uid: 2000, gid: 2000, gids: [2000]}

/** An NFS client speaking as someone, over a connection shared with the others. */
class As {
  readonly nfs: NfsTestClient

  constructor(rpc: RpcClient, auth: AuthSys | 'none') {
    this.nfs = new NfsTestClient(rpc, auth)
  }

  async setattr(handle: Buffer, changes: Sattr3): Promise<number> {
    return (await this.nfs.call(2, (w) => {
      w.opaque(handle)
      writeSattr3(w, changes)
      w.bool(false)
    })).status
  }

  async create(dir: Buffer, name: string, attributes: Sattr3 = {mode: 0o644}): Promise<{status: number; handle?: Buffer}> {
    return this.nfs.create(dir, name, {mode: 0, attributes})
  }

  async remove(dir: Buffer, name: string): Promise<number> {
    return (await this.nfs.call(12, (w) => writeDirOp(w, dir, name))).status
  }

  async rename(fromDir: Buffer, fromName: string, toDir: Buffer, toName: string): Promise<number> {
    return (await this.nfs.call(14, (w) => {
      writeDirOp(w, fromDir, fromName)
      writeDirOp(w, toDir, toName)
    })).status
  }

  async mknod(dir: Buffer, name: string, type: 4 | 7): Promise<number> {
    return (await this.nfs.call(11, (w: XdrWriter) => {
      writeDirOp(w, dir, name)
      w.uint32(type)
      writeSattr3(w, {mode: 0o644})
      if (type === 4) w.uint32(1).uint32(3)
    })).status
  }

  async attr(handle: Buffer): Promise<{mode: number; uid: number; gid: number}> {
    const {attr} = await this.nfs.getattr(handle)
    return {mode: attr!.mode, uid: attr!.uid, gid: attr!.gid}
  }
}

describe('NFSv3 permission checks for AUTH_SYS callers', () => {
  let nfs: InProcessNfs
  let rpc: RpcClient
  let root: As
  let alice: As
  let bob: As
  let top: Buffer

  /** Made by root, then given to `owner` with `mode`. */
  async function fileOf(owner: AuthSys, name: string, mode: number, dir = top): Promise<Buffer> {
    const created = await root.create(dir, name)
    assert.equal(created.status, OK, name)
    assert.equal((await root.nfs.write(created.handle!, 0n, Buffer.from(`${name}\n`))).status, OK)
    assert.equal(await root.setattr(created.handle!, {uid: owner.uid, gid: owner.gid, mode}), OK)
    return created.handle!
  }

  async function dirOf(owner: AuthSys, name: string, mode: number, dir = top): Promise<Buffer> {
    const made = await root.nfs.mkdir(dir, name)
    assert.equal(made.status, OK, name)
    assert.equal(await root.setattr(made.handle!, {uid: owner.uid, gid: owner.gid, mode}), OK)
    return made.handle!
  }

  before(async () => {
    nfs = await startInProcessNfs()
    rpc = await RpcClient.connect(nfs.port)
    root = new As(rpc, ROOT)
    alice = new As(rpc, ALICE)
    bob = new As(rpc, BOB)
    const mounted = await root.nfs.mountRoot()
    top = (await root.nfs.mkdir(mounted, 'perm', {mode: 0o777})).handle!
  })
  after(async () => {
    await rpc.close()
    await nfs.dispose()
  })

  it('chmod: only the owner (or root); someone outside the file\'s group loses the setgid bit', async () => {
    const file = await fileOf(ALICE, 'chmod.txt', 0o644)
    assert.equal(await bob.setattr(file, {mode: 0o777}), PERM)
    assert.equal(await alice.setattr(file, {mode: 0o600}), OK)
    assert.equal((await alice.attr(file)).mode, 0o600)
    assert.equal(await root.setattr(file, {mode: 0o640}), OK)
    assert.equal(await root.setattr(file, {gid: 5000}), OK)
    assert.equal(await alice.setattr(file, {mode: 0o2755}), OK)
    assert.equal((await alice.attr(file)).mode, 0o755, 'setgid dropped: alice is not in group 5000')
  })

  it('chown: only root gives a file away; the owner may change the group to one of its groups', async () => {
    const file = await fileOf(ALICE, 'chown.txt', 0o644)
    assert.equal(await alice.setattr(file, {uid: BOB.uid}), PERM)
    assert.equal(await bob.setattr(file, {gid: BOB.gid}), PERM)
    assert.equal(await alice.setattr(file, {uid: ALICE.uid}), OK, 'to itself is no change')
    assert.equal(await alice.setattr(file, {gid: 3000}), OK)
    assert.equal(await alice.setattr(file, {gid: 4000}), PERM)
    assert.deepEqual(await alice.attr(file), {mode: 0o644, uid: 1000, gid: 3000})
    assert.equal(await root.setattr(file, {uid: BOB.uid, gid: BOB.gid}), OK)
    assert.deepEqual(await root.attr(file), {mode: 0o644, uid: 2000, gid: 2000})
  })

  it('chown clears setuid, and setgid with group execute, of a regular file', async () => {
    const file = await fileOf(ALICE, 'setuid', 0o6755)
    assert.equal(await root.setattr(file, {uid: BOB.uid}), OK)
    assert.equal((await root.attr(file)).mode, 0o755)
  })

  it('utimes: explicit times need the owner; "now" needs the owner or write permission', async () => {
    const readable = await fileOf(ALICE, 'times-644', 0o644)
    const writable = await fileOf(ALICE, 'times-666', 0o666)
    const then = {sec: 1_500_000_000, nsec: 0}
    assert.equal(await bob.setattr(writable, {mtime: then}), PERM)
    assert.equal(await bob.setattr(writable, {atime: 'server', mtime: 'server'}), OK)
    assert.equal(await bob.setattr(readable, {atime: 'server', mtime: 'server'}), ACCES)
    assert.equal(await alice.setattr(readable, {mtime: then}), OK)
    assert.equal((await alice.nfs.getattr(readable)).attr!.mtime.sec, then.sec)
  })

  it('WRITE and truncate need write permission, but the owner may always write (a file created 0444 takes its data)', async () => {
    const readable = await fileOf(ALICE, 'data-644', 0o644)
    const writable = await fileOf(ALICE, 'data-666', 0o666)
    assert.equal((await bob.nfs.write(readable, 0n, Buffer.from('x'))).status, ACCES)
    assert.equal(await bob.setattr(readable, {size: 0n}), ACCES)
    assert.equal((await bob.nfs.write(writable, 0n, Buffer.from('x'))).status, OK)
    assert.equal(await bob.setattr(writable, {size: 0n}), OK)

    const created = await alice.create(top, 'readonly-from-birth', {mode: 0o444})
    assert.equal(created.status, OK)
    assert.equal((await alice.nfs.write(created.handle!, 0n, Buffer.from('first bytes'))).status, OK)
    assert.equal((await bob.nfs.write(created.handle!, 0n, Buffer.from('x'))).status, ACCES)
  })

  it('READ needs read (or execute) permission, except for the owner', async () => {
    const secret = await fileOf(ALICE, 'secret', 0o600)
    const program = await fileOf(ALICE, 'program', 0o711)
    assert.equal((await bob.nfs.read(secret, 0n, 100)).status, ACCES)
    assert.equal((await alice.nfs.read(secret, 0n, 100)).data?.toString(), 'secret\n')
    assert.equal((await bob.nfs.read(program, 0n, 100)).data?.toString(), 'program\n')
  })

  it('a directory without write permission refuses new entries, removals and renames; without x lookups; without r listings', async () => {
    const closed = await dirOf(ALICE, 'closed', 0o755)
    await fileOf(ALICE, 'inside', 0o666, closed)
    assert.equal((await bob.create(closed, 'new')).status, ACCES)
    assert.equal((await bob.nfs.mkdir(closed, 'sub')).status, ACCES)
    assert.equal(await bob.remove(closed, 'inside'), ACCES)
    assert.equal(await bob.rename(closed, 'inside', top, 'taken'), ACCES)
    assert.equal((await alice.create(closed, 'new')).status, OK)

    const unsearchable = await dirOf(ALICE, 'unsearchable', 0o744)
    await fileOf(ALICE, 'hidden', 0o644, unsearchable)
    assert.equal((await bob.nfs.lookup(unsearchable, 'hidden')).status, ACCES)
    assert.equal((await bob.nfs.readdir(unsearchable)).status, OK, 'r without x still lists names')
    const unreadable = await dirOf(ALICE, 'unreadable', 0o711)
    assert.equal((await bob.nfs.readdir(unreadable)).status, ACCES)
    assert.equal((await bob.nfs.readdir(unreadable, {plus: true})).status, ACCES)
    await fileOf(ALICE, 'known', 0o644, unreadable)
    assert.equal((await bob.nfs.lookup(unreadable, 'known')).status, OK, 'x without r still looks up a known name')
  })

  it('a failure body still carries the directory wcc data', async () => {
    const closed = await dirOf(ALICE, 'closed-wcc', 0o755)
    const {status, body} = await bob.nfs.call(12, (w) => writeDirOp(w, closed, 'whatever'))
    assert.equal(status, ACCES)
    const wcc = readWcc(body)
    assert.ok(wcc.before && wcc.after)
    assert.equal(body.remaining, 0)
  })

  it('a sticky directory keeps entries from everyone but their owner, the directory\'s owner and root', async () => {
    const sticky = await dirOf(ROOT, 'sticky', 0o1777)
    await fileOf(ALICE, 'alices', 0o666, sticky)
    await fileOf(BOB, 'bobs', 0o666, sticky)
    assert.equal(await bob.remove(sticky, 'alices'), PERM)
    assert.equal(await bob.rename(sticky, 'alices', sticky, 'mine-now'), PERM)
    assert.equal(await bob.rename(sticky, 'bobs', sticky, 'alices'), PERM, 'nor replace them')
    assert.equal(await bob.rename(sticky, 'bobs', sticky, 'bobs-renamed'), OK)
    assert.equal(await alice.remove(sticky, 'alices'), OK)
    assert.equal(await root.remove(sticky, 'bobs-renamed'), OK)
  })

  it('moving a directory to another parent needs write permission on it (its .. changes)', async () => {
    const from = await dirOf(ALICE, 'from', 0o755)
    const to = await dirOf(ALICE, 'to', 0o755)
    await dirOf(ALICE, 'frozen', 0o555, from)
    assert.equal(await alice.rename(from, 'frozen', to, 'frozen'), ACCES)
    assert.equal(await alice.rename(from, 'frozen', from, 'renamed-in-place'), OK)
  })

  it('device nodes only by root; FIFOs by anyone who may write the directory', async () => {
    assert.equal(await alice.mknod(top, 'alices-null', 4), PERM)
    assert.equal(await alice.mknod(top, 'alices-fifo', 7), OK)
    assert.equal(await root.mknod(top, 'roots-null', 4), OK)
  })

  it('new entries belong to the caller (sattr3 ids count only from root) and take a setgid directory\'s group', async () => {
    const mine = await alice.create(top, 'claimed-by-root', {mode: 0o644, uid: 0, gid: 0})
    assert.deepEqual(await alice.attr(mine.handle!), {mode: 0o644, uid: 1000, gid: 1000})
    const given = await root.create(top, 'given-away', {mode: 0o644, uid: 1000, gid: 3000})
    assert.deepEqual(await root.attr(given.handle!), {mode: 0o644, uid: 1000, gid: 3000})

    const team = await dirOf(ROOT, 'team', 0o2777)
    assert.equal(await root.setattr(team, {gid: 5000}), OK)
    const file = await alice.create(team, 'report')
    assert.deepEqual(await alice.attr(file.handle!), {mode: 0o644, uid: 1000, gid: 5000})
    const sub = await alice.nfs.mkdir(team, 'sub', {mode: 0o755})
    assert.deepEqual(await alice.attr(sub.handle!), {mode: 0o2755, uid: 1000, gid: 5000})
  })
})

describe('--squash', () => {
  const ANON = {uid: 4000, gid: 4001}

  /**
   * A server squashing `mode`, with a world-writable `open` directory made through the core (the
   * store root belongs to the serving process, so no squashed caller could make one).
   */
  async function withServer(mode: 'root' | 'all', test: (top: Buffer, open: Buffer, rpc: RpcClient) => Promise<void>): Promise<void> {
    const nfs = await startInProcessNfs({squash: {mode, anonUid: ANON.uid, anonGid: ANON.gid}})
    const rpc = await RpcClient.connect(nfs.port)
    try {
      await nfs.fs.mkdir(nfs.fs.root, 'open', {mode: 0o777, uid: 0, gid: 0})
      const client = new NfsTestClient(rpc, ROOT)
      const top = await client.mountRoot()
      await test(top, (await client.lookup(top, 'open')).handle!, rpc)
    } finally {
      await rpc.close()
      await nfs.dispose()
    }
  }

  it('root: uid 0 and gid 0 act as the anonymous ids, others as themselves', async () => {
    await withServer('root', async (top, open, rpc) => {
      const root = new As(rpc, {uid: 0, gid: 0, gids: [0]})
      const alice = new As(rpc, ALICE)
      const wheel = new As(rpc, {uid: 1500, gid: 0})
      assert.equal((await root.create(top, 'x')).status, ACCES, 'the store root is 0755 and not the anonymous id\'s')
      assert.equal(await root.setattr(top, {mode: 0o777}), PERM)
      const made = await root.create(open, 'by-root')
      assert.deepEqual(await root.attr(made.handle!), {mode: 0o644, uid: ANON.uid, gid: ANON.gid})
      const byAlice = await alice.create(open, 'by-alice')
      assert.deepEqual(await alice.attr(byAlice.handle!), {mode: 0o644, uid: 1000, gid: 1000})
      const byWheel = await wheel.create(open, 'by-wheel')
      assert.deepEqual(await wheel.attr(byWheel.handle!), {mode: 0o644, uid: 1500, gid: ANON.gid})
      assert.equal(await root.setattr(byAlice.handle!, {mode: 0o600}), PERM, 'squashed root owns nothing of alice\'s')
    })
  })

  it('all: everyone acts as the anonymous ids; AUTH_NONE too', async () => {
    await withServer('all', async (_top, open, rpc) => {
      const alice = new As(rpc, ALICE)
      const made = await alice.create(open, 'by-alice')
      assert.deepEqual(await alice.attr(made.handle!), {mode: 0o644, uid: ANON.uid, gid: ANON.gid})
      const anonymous = new As(rpc, 'none')
      const byNobody = await anonymous.create(open, 'by-nobody')
      assert.deepEqual(await anonymous.attr(byNobody.handle!), {mode: 0o644, uid: ANON.uid, gid: ANON.gid})
      assert.equal(await alice.remove(open, 'by-nobody'), OK, 'the same anonymous owner')
    })
  })
})
