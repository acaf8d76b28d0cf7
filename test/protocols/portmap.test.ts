import assert from 'node:assert/strict'
import {createSocket} from 'node:dgram'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Portmapper} from '../../src/protocols/portmap/server.js'
import {allowList} from '../../src/protocols/rpc/allow-list.js'
import {XdrReader, XdrWriter} from '../../src/protocols/rpc/xdr.js'
import {silentLogger} from '../helpers/nfs-server.js'
import {startServe, type ServeProcess} from '../helpers/nfs-serve.js'
import {RpcClient, successBody} from '../helpers/nfs-rpc-client.js'
import {runTool} from '../helpers/run-tool.js'

// RFC 1833 §3, written out here independently of the server's constants
const PMAP = {prog: 100000, vers: 2}
const NULL = 0
const SET = 1
const UNSET = 2
const GETPORT = 3
const DUMP = 4
const CALLIT = 5
const TCP = 6
const UDP = 17
const NFS = 100003
const MOUNT = 100005
// accept_stat
const PROG_MISMATCH = 2
const PROC_UNAVAIL = 3
const GARBAGE_ARGS = 4

const NFS_PORT = 2049

interface Mapping {
  prog: number
  vers: number
  prot: number
  port: number
}

const mappingArgs = (m: Mapping) => (w: XdrWriter): void => {
  w.uint32(m.prog).uint32(m.vers).uint32(m.prot).uint32(m.port)
}

function readDump(body: XdrReader): Mapping[] {
  const list: Mapping[] = []
  while (body.bool()) list.push({prog: body.uint32(), vers: body.uint32(), prot: body.uint32(), port: body.uint32()})
  return list
}

/** One call in one datagram; resolves with the reply datagram's body after the accept_stat. */
async function udpCall(port: number, xid: number, proc: number, args: Buffer): Promise<{acceptStat: number; body: XdrReader}> {
  const socket = createSocket('udp4')
  try {
    const reply = new Promise<Buffer>((resolve) => socket.on('message', (message) => {
      if (message.readUInt32BE(0) === xid) resolve(message)
    }))
    const call = new XdrWriter().uint32(xid).uint32(0).uint32(2).uint32(PMAP.prog).uint32(PMAP.vers).uint32(proc)
      .uint32(0).opaque(Buffer.alloc(0)).uint32(0).opaque(Buffer.alloc(0)).fixedOpaque(args).toBuffer()
    socket.send(call, port, '127.0.0.1')
    const body = new XdrReader(await reply)
    body.uint32() // xid
    assert.equal(body.uint32(), 1, 'a REPLY')
    assert.equal(body.uint32(), 0, 'MSG_ACCEPTED')
    body.uint32()
    body.opaque()
    return {acceptStat: body.uint32(), body}
  } finally {
    socket.close()
  }
}

describe('the portmapper (PMAP v2)', () => {
  let portmapper: Portmapper
  let port: number
  let client: RpcClient

  const getport = async (wanted: Omit<Mapping, 'port'>): Promise<number> =>
    successBody(await client.call(PMAP.prog, PMAP.vers, GETPORT, mappingArgs({...wanted, port: 0}))).uint32()
  const dump = async (): Promise<Mapping[]> => readDump(successBody(await client.call(PMAP.prog, PMAP.vers, DUMP, Buffer.alloc(0))))

  before(async () => {
    portmapper = new Portmapper({
      services: [{prog: NFS, vers: 3, port: NFS_PORT}, {prog: MOUNT, vers: 3, port: NFS_PORT}],
      logger: silentLogger,
    })
    port = (await portmapper.listen(0, '127.0.0.1')).port
    client = await RpcClient.connect(port)
  })
  after(async () => {
    await client.close()
    await portmapper.close()
  })

  it('answers NULL, and DUMP lists itself on TCP and UDP and NFS and MOUNT v3 on TCP', async () => {
    assert.equal(successBody(await client.call(PMAP.prog, PMAP.vers, NULL, Buffer.alloc(0))).remaining, 0)
    assert.deepEqual(await dump(), [
      {prog: PMAP.prog, vers: 2, prot: TCP, port},
      {prog: PMAP.prog, vers: 2, prot: UDP, port},
      {prog: NFS, vers: 3, prot: TCP, port: NFS_PORT},
      {prog: MOUNT, vers: 3, prot: TCP, port: NFS_PORT},
    ])
  })

  it('GETPORT finds a program by version and protocol, any version of it on that protocol, else 0', async () => {
    assert.equal(await getport({prog: NFS, vers: 3, prot: TCP}), NFS_PORT)
    assert.equal(await getport({prog: MOUNT, vers: 3, prot: TCP}), NFS_PORT)
    assert.equal(await getport({prog: PMAP.prog, vers: 2, prot: UDP}), port)
    // The client then learns from the server's own PROG_MISMATCH which versions it has.
    assert.equal(await getport({prog: NFS, vers: 4, prot: TCP}), NFS_PORT)
    assert.equal(await getport({prog: NFS, vers: 3, prot: UDP}), 0, 'NFS is not served over UDP')
    assert.equal(await getport({prog: 100021, vers: 4, prot: TCP}), 0, 'no lock manager')
  })

  it('refuses SET and UNSET (FALSE) and keeps its table', async () => {
    const before = await dump()
    const evil = {prog: 100021, vers: 4, prot: TCP, port: 4045}
    assert.equal(successBody(await client.call(PMAP.prog, PMAP.vers, SET, mappingArgs(evil))).bool(), false)
    assert.equal(successBody(await client.call(PMAP.prog, PMAP.vers, UNSET, mappingArgs({prog: NFS, vers: 3, prot: TCP, port: 0}))).bool(), false)
    assert.deepEqual(await dump(), before)
  })

  it('answers CALLIT with PROC_UNAVAIL, rpcbind v3/v4 with PROG_MISMATCH 2..2, short arguments with GARBAGE_ARGS', async () => {
    const callit = await client.call(PMAP.prog, PMAP.vers, CALLIT, (w) => w.uint32(NFS).uint32(3).uint32(0).opaque(Buffer.alloc(0)))
    assert.equal(callit.kind === 'accepted' && callit.acceptStat, PROC_UNAVAIL)
    for (const vers of [3, 4]) {
      const reply = await client.call(PMAP.prog, vers, GETPORT, Buffer.alloc(0))
      assert.ok(reply.kind === 'accepted' && reply.acceptStat === PROG_MISMATCH)
      assert.deepEqual([reply.body.uint32(), reply.body.uint32()], [2, 2])
    }
    const garbage = await client.call(PMAP.prog, PMAP.vers, GETPORT, Buffer.alloc(8))
    assert.equal(garbage.kind === 'accepted' && garbage.acceptStat, GARBAGE_ARGS)
  })

  it('answers over UDP on the same port, and ignores datagrams that are not calls', async () => {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve) => socket.send(Buffer.from('not an RPC message'), port, '127.0.0.1', () => resolve()))
    socket.close()
    const reply = await udpCall(port, 0x1234, GETPORT, new XdrWriter().uint32(MOUNT).uint32(3).uint32(TCP).uint32(0).toBuffer())
    assert.equal(reply.acceptStat, 0)
    assert.equal(reply.body.uint32(), NFS_PORT)
    const listed = await udpCall(port, 0x1235, DUMP, Buffer.alloc(0))
    assert.equal(readDump(listed.body).length, 4)
  })

  it('with --allow, refuses TCP connections and ignores datagrams from other addresses', async () => {
    const guarded = new Portmapper({services: [], allow: allowList(['10.0.0.0/8']), logger: silentLogger})
    const guardedPort = (await guarded.listen(0, '127.0.0.1')).port
    try {
      const refused = await RpcClient.connect(guardedPort)
      const reply = await refused.call(PMAP.prog, PMAP.vers, NULL, Buffer.alloc(0))
      assert.equal(reply.kind, 'closed')
      // A datagram from loopback gets nothing back. Checked by sending it, then making a round trip
      // through the open portmapper from the same socket and letting the guarded one finish.
      const socket = createSocket('udp4')
      const replies: number[] = []
      socket.on('message', (message) => replies.push(message.readUInt32BE(0)))
      const nullCall = (xid: number): Buffer => new XdrWriter().uint32(xid).uint32(0).uint32(2).uint32(PMAP.prog).uint32(PMAP.vers)
        .uint32(NULL).uint32(0).opaque(Buffer.alloc(0)).uint32(0).opaque(Buffer.alloc(0)).toBuffer()
      const openReplied = new Promise<void>((resolve) => socket.on('message', (message) => message.readUInt32BE(0) === 8 && resolve()))
      socket.send(nullCall(7), guardedPort, '127.0.0.1')
      socket.send(nullCall(8), port, '127.0.0.1')
      await openReplied
      await guarded.close()
      await new Promise((resolve) => setImmediate(resolve))
      socket.close()
      assert.deepEqual(replies, [8])
    } finally {
      await guarded.close()
    }
  })
})

describe('zerofs serve --portmap, in a network namespace of its own (port 111 is free there)', {timeout: 3 * 60_000}, () => {
  let scratch: string
  let serve: ServeProcess

  const tool = (command: string, args: string[]) => {
    const [wrapped, wrappedArgs] = serve.inNetwork(command, args)
    return runTool(wrapped, wrappedArgs)
  }

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-portmap-'))
    await mkdir(join(scratch, 'store'))
    await writeFile(join(scratch, 'hello.txt'), 'through the portmapper\n')
    serve = await startServe([join(scratch, 'store'), '--cache-dir', join(scratch, 'cache'), '--nfs', '127.0.0.1:2049', '--portmap', '127.0.0.1:111'], {isolatedNetwork: true})
  })
  after(async () => {
    await serve?.stop('SIGKILL')
    await rm(scratch, {recursive: true, force: true})
  })

  it('rpcinfo -p lists the portmapper, NFS v3 and MOUNT v3; rpcinfo pings each through it', async () => {
    assert.match(serve.log(), /portmapper on 127\.0\.0\.1:111 \(TCP and UDP\) points at port 2049/)
    const listed = (await tool('rpcinfo', ['-p', '127.0.0.1'])).stdout
    const rows = listed.trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/).slice(0, 4).join(' '))
    assert.deepEqual(rows, ['100000 2 tcp 111', '100000 2 udp 111', '100003 3 tcp 2049', '100005 3 tcp 2049'])
    assert.match((await tool('rpcinfo', ['-t', '127.0.0.1', 'nfs', '3'])).stdout, /program 100003 version 3 ready and waiting/)
    assert.match((await tool('rpcinfo', ['-t', '127.0.0.1', 'mountd', '3'])).stdout, /program 100005 version 3 ready and waiting/)
    assert.match((await tool('rpcinfo', ['-u', '127.0.0.1', 'portmapper', '2'])).stdout, /program 100000 version 2 ready and waiting/)
    // rpcbind v3/v4 DUMP falls back to v2 after PROG_MISMATCH
    assert.match((await tool('rpcinfo', ['-s', '127.0.0.1'])).stdout, /100003\s+3\s+tcp\s+nfs/)
  })

  it('libnfs finds NFS and MOUNT through it (URLs without ports)', async () => {
    // auto-traverse-mounts=0: libnfs would otherwise try to mount every EXPORT entry below the URL's directory
    const url = 'nfs://127.0.0.1/hello.txt?version=3&auto-traverse-mounts=0'
    await tool('nfs-cp', [join(scratch, 'hello.txt'), url])
    assert.equal((await tool('nfs-cat', [url])).stdout, 'through the portmapper\n')
  })
})

