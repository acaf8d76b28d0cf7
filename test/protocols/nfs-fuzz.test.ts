import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {XdrWriter} from '../../src/protocols/rpc/xdr.js'
import {RpcClient, type RpcReply} from '../helpers/nfs-rpc-client.js'
import {startServe, type ServeProcess} from '../helpers/nfs-serve.js'
import {MOUNT, NFS, NfsTestClient, writeDirOp, writeSattr3} from '../helpers/nfs-wire.js'
import {seededRandom} from '../helpers/seeded-random.js'

/**
 * Bad input against a running `zerofs serve`: malformed record marks, truncated, oversized and
 * mutated XDR, unknown programs/versions/procedures and garbage credentials. Every call gets the
 * right RPC error or its connection is closed; the process never dies, never answers SYSTEM_ERR or
 * NFS3ERR_SERVERFAULT (those mean a bug), and a healthy client is served throughout.
 */

const SYSTEM_ERR = 5
const NFS3ERR_SERVERFAULT = 10006

function callRecord(xid: number, prog: number, vers: number, proc: number, args: Buffer, cred?: {flavor: number; body: Buffer}): Buffer {
  const credential = cred ?? {flavor: 1, body: new XdrWriter().uint32(0).string('fuzz').uint32(0).uint32(0).uint32(0).toBuffer()}
  return new XdrWriter().uint32(xid).uint32(0).uint32(2).uint32(prog).uint32(vers).uint32(proc)
    .uint32(credential.flavor).opaque(credential.body).uint32(0).opaque(Buffer.alloc(0)).fixedOpaque(args).toBuffer()
}

describe('malformed RPC and XDR against a running server', {timeout: 10 * 60_000}, () => {
  let scratch: string
  let serve: ServeProcess
  /** A second server, read-only, on the same store and cache. */
  let readOnly: ServeProcess
  let healthy: NfsTestClient
  let root: Buffer
  let file: Buffer
  /** One valid argument body per NFS procedure 1..21. */
  let validArgs: Map<number, Buffer>

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-nfs-fuzz-'))
    await mkdir(join(scratch, 'store'))
    serve = await startServe([join(scratch, 'store'), '--cache-dir', join(scratch, 'cache')], {
      env: {XDG_CACHE_HOME: join(scratch, 'xdg-cache'), XDG_DATA_HOME: join(scratch, 'xdg-data')},
    })
    readOnly = await startServe([join(scratch, 'store'), '--cache-dir', join(scratch, 'cache'), '--read-only'], {
      env: {XDG_CACHE_HOME: join(scratch, 'xdg-cache'), XDG_DATA_HOME: join(scratch, 'xdg-data')},
    })
    healthy = await NfsTestClient.connect(serve.port)
    root = await healthy.mountRoot()
    file = (await healthy.create(root, 'file', {mode: 0, attributes: {mode: 0o644}})).handle!
    await healthy.write(file, 0n, Buffer.from('healthy data'), 2)
    const dir = (await healthy.mkdir(root, 'dir')).handle!
    const args = (write: (w: XdrWriter) => void): Buffer => {
      const writer = new XdrWriter()
      write(writer)
      return writer.toBuffer()
    }
    validArgs = new Map([
      [1, args((w) => w.opaque(file))],
      [2, args((w) => { w.opaque(file); writeSattr3(w, {mode: 0o644, mtime: 'server'}); w.bool(false) })],
      [3, args((w) => writeDirOp(w, root, 'file'))],
      [4, args((w) => w.opaque(file).uint32(0x3f))],
      [5, args((w) => w.opaque(file))],
      [6, args((w) => w.opaque(file).uint64(0n).uint32(4096))],
      [7, args((w) => w.opaque(file).uint64(0n).uint32(12).uint32(0).opaque(Buffer.from('healthy data')))],
      [8, args((w) => { writeDirOp(w, dir, 'fuzzed'); w.uint32(0); writeSattr3(w, {mode: 0o600}) })],
      [9, args((w) => { writeDirOp(w, dir, 'subdir'); writeSattr3(w, {mode: 0o755}) })],
      [10, args((w) => { writeDirOp(w, dir, 'link'); writeSattr3(w); w.string('target') })],
      [11, args((w) => { writeDirOp(w, dir, 'pipe'); w.uint32(7); writeSattr3(w) })],
      [12, args((w) => writeDirOp(w, dir, 'fuzzed'))],
      [13, args((w) => writeDirOp(w, dir, 'subdir'))],
      [14, args((w) => { writeDirOp(w, dir, 'link'); writeDirOp(w, dir, 'link2') })],
      [15, args((w) => { w.opaque(file); writeDirOp(w, dir, 'hard') })],
      [16, args((w) => w.opaque(root).uint64(0n).fixedOpaque(Buffer.alloc(8)).uint32(4096))],
      [17, args((w) => w.opaque(root).uint64(0n).fixedOpaque(Buffer.alloc(8)).uint32(1024).uint32(8192))],
      [18, args((w) => w.opaque(root))],
      [19, args((w) => w.opaque(root))],
      [20, args((w) => w.opaque(root))],
      [21, args((w) => w.opaque(file).uint64(0n).uint32(0))],
    ])
  })

  after(async () => {
    await healthy?.close()
    await serve?.stop('SIGKILL')
    await readOnly?.stop('SIGKILL')
    await rm(scratch, {recursive: true, force: true})
  })

  /** The process lives and answers a well-behaved client correctly (the fuzzing may rewrite `file` itself). */
  async function assertHealthy(): Promise<void> {
    assert.equal(serve.child.exitCode, null, `zerofs serve died:\n${serve.log()}`)
    assert.equal(readOnly.child.exitCode, null, `zerofs serve --read-only died:\n${readOnly.log()}`)
    assert.equal((await healthy.getattr(root)).attr?.type, 2)
    assert.equal((await healthy.read(file, 0n, 100)).status, 0)
    assert.ok((await healthy.list(root)).some((entry) => entry.name === 'file'))
  }

  function assertNoBug(reply: RpcReply, what: string): void {
    if (reply.kind !== 'accepted') return
    assert.notEqual(reply.acceptStat, SYSTEM_ERR, `${what}: SYSTEM_ERR`)
    if (reply.acceptStat === 0 && reply.body.remaining >= 4) {
      assert.notEqual(reply.body.uint32(), NFS3ERR_SERVERFAULT, `${what}: NFS3ERR_SERVERFAULT`)
    }
  }

  it('answers unknown programs, versions and procedures with PROG_UNAVAIL, PROG_MISMATCH and PROC_UNAVAIL', async () => {
    const client = await RpcClient.connect(serve.port)
    const expect = async (prog: number, vers: number, proc: number, acceptStat: number, mismatch?: [number, number]) => {
      const reply = await client.call(prog, vers, proc, Buffer.alloc(0))
      assert.ok(reply.kind === 'accepted' && reply.acceptStat === acceptStat, `${prog}/${vers}/${proc}`)
      if (mismatch) assert.deepEqual([reply.body.uint32(), reply.body.uint32()], mismatch)
    }
    await expect(100000, 2, 0, 1)
    await expect(NFS.prog, 2, 0, 2, [3, 3])
    await expect(NFS.prog, 4, 0, 2, [3, 3])
    await expect(MOUNT.prog, 1, 0, 2, [3, 3])
    await expect(NFS.prog, 3, 22, 3)
    await expect(NFS.prog, 3, 0xffffffff, 3)
    await expect(MOUNT.prog, 3, 6, 3)
    await client.close()
    await assertHealthy()
  })

  it('denies garbage credentials with AUTH_ERROR and a wrong RPC version with RPC_MISMATCH', async () => {
    const client = await RpcClient.connect(serve.port)
    const cases: Array<{flavor: number; body: Buffer}> = [
      {flavor: 99, body: Buffer.alloc(0)},
      {flavor: 6, body: Buffer.alloc(40)},
      {flavor: 1, body: Buffer.from([1, 2, 3])},
      {flavor: 1, body: new XdrWriter().uint32(0).uint32(1000).toBuffer()},
      {flavor: 1, body: new XdrWriter().uint32(0).string('h').uint32(0).uint32(0).uint32(17).toBuffer()},
      {flavor: 1, body: Buffer.concat([new XdrWriter().uint32(0).string('h').uint32(0).uint32(0).uint32(0).toBuffer(), Buffer.alloc(4)])},
    ]
    let xid = 1000
    for (const cred of cases) {
      const reply = await client.exchange(++xid, callRecord(xid, NFS.prog, 3, 0, Buffer.alloc(0), cred))
      assert.ok(reply.kind === 'denied' && reply.rejectStat === 1, `AUTH_ERROR for flavor ${cred.flavor}`)
      assert.equal(reply.body.uint32(), 1, 'AUTH_BADCRED')
    }
    const tooLong = new XdrWriter().uint32(++xid).uint32(0).uint32(2).uint32(NFS.prog).uint32(3).uint32(0)
      .uint32(1).uint32(401).fixedOpaque(Buffer.alloc(401)).uint32(0).uint32(0).toBuffer()
    const denied = await client.exchange(xid, tooLong)
    assert.ok(denied.kind === 'denied' && denied.rejectStat === 1, 'a 401-byte credential is refused')
    const wrongVersion = callRecord(++xid, NFS.prog, 3, 0, Buffer.alloc(0))
    wrongVersion.writeUInt32BE(3, 8)
    const mismatch = await client.exchange(xid, wrongVersion)
    assert.ok(mismatch.kind === 'denied' && mismatch.rejectStat === 0)
    assert.deepEqual([mismatch.body.uint32(), mismatch.body.uint32()], [2, 2])
    await client.close()
    await assertHealthy()
  })

  it('closes the connection on malformed record marks, and only that connection', async () => {
    const fragment = (last: boolean, length: number): Buffer => Buffer.from([(last ? 0x80 : 0) | (length >>> 24), (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff])
    const streams: Array<[string, Buffer]> = [
      ['a last fragment of 2 GiB', fragment(true, 0x7fffffff)],
      ['a huge non-last fragment', Buffer.concat([fragment(false, 0x7fffffff), Buffer.alloc(8)])],
      ['fragments adding up past the record cap', Buffer.concat(Array.from({length: 4}, () => Buffer.concat([fragment(false, 0x80000), Buffer.alloc(0x80000)])))],
      ['a record too short for an xid', Buffer.concat([fragment(true, 2), Buffer.from([0xab, 0xcd])])],
      ['a REPLY sent to the server', Buffer.concat([fragment(true, 8), Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])])],
    ]
    for (const [what, stream] of streams) {
      const client = await RpcClient.connect(serve.port)
      client.sendRaw(stream)
      await client.closed
      assert.ok(client.isClosed, what)
      await assertHealthy()
    }
  })

  /** Rounds of truncated, blown-up, bit-flipped and random arguments to the given procedures. */
  async function fuzzArguments(port: number, procedures: number[], seed: number, rounds: number): Promise<void> {
    const next = seededRandom(seed)
    let client = await RpcClient.connect(port)
    let xid = 5000
    for (let round = 0; round < rounds; round++) {
      const proc = procedures[Math.floor(next() * procedures.length)]
      const valid = validArgs.get(proc)!
      let args: Buffer
      const kind = round % 4
      if (kind === 0) {
        args = valid.subarray(0, Math.floor(next() * valid.length)) // truncated
      } else if (kind === 1) {
        args = Buffer.from(valid) // a length word blown up
        const at = Math.floor(next() * Math.max(1, valid.length / 4)) * 4
        if (at + 4 <= args.length) args.writeUInt32BE(next() < 0.5 ? 0xffffffff : 0x7ffffff0 + Math.floor(next() * 16), at)
      } else if (kind === 2) {
        args = Buffer.from(valid) // random bit flips
        for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) {
          const at = Math.floor(next() * args.length)
          args[at] ^= 1 << Math.floor(next() * 8)
        }
      } else {
        args = Buffer.from(Array.from({length: Math.floor(next() * 200)}, () => Math.floor(next() * 256))) // noise
      }
      if (client.isClosed) client = await RpcClient.connect(port)
      const reply = await client.exchange(++xid, callRecord(xid, NFS.prog, 3, proc, args))
      assertNoBug(reply, `round ${round}, procedure ${proc}, args ${args.toString('hex')}`)
      if (round % 100 === 0) await assertHealthy()
    }
    await client.close()
    await assertHealthy()
  }

  const allProcedures = Array.from({length: 21}, (_, index) => index + 1)

  it('answers mangled arguments of every procedure but WRITE and SETATTR without a bug, and keeps serving', async () => {
    // Mangled WRITE offsets and SETATTR sizes are legal up to 5 TiB: the sparse files they make
    // would be uploaded in full. They are fuzzed against the read-only server below.
    await fuzzArguments(serve.port, allProcedures.filter((proc) => proc !== 2 && proc !== 7), 20250101, 2500)
  })

  it('answers mangled arguments of every procedure on a read-only export without a bug', async () => {
    await fuzzArguments(readOnly.port, allProcedures, 4242, 1500)
  })

  it('survives random records from many connections at once', async () => {
    const next = seededRandom(7)
    const clients = await Promise.all(Array.from({length: 8}, () => RpcClient.connect(serve.port)))
    for (let round = 0; round < 200; round++) {
      const client = clients[round % clients.length]
      const noise = Buffer.from(Array.from({length: 4 + Math.floor(next() * 120)}, () => Math.floor(next() * 256)))
      client.sendRecord(noise)
    }
    await Promise.all(clients.map((client) => client.close()))
    await assertHealthy()
  })
})
