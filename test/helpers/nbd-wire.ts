import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {connect, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ChunkDevice} from '../../src/core/blockdev/chunk-device.js'
import {silentLogger} from '../../src/core/logger.js'
import {FileStore} from '../../src/core/store/file-store.js'
import {IHAVEOPT, NBD_FLAG_C_FIXED_NEWSTYLE, NBD_FLAG_C_NO_ZEROES, NBD_OPT_GO, NBD_REQUEST_MAGIC} from '../../src/protocols/nbd/constants.js'
import {NbdServer} from '../../src/protocols/nbd/server.js'
import {StreamReader} from '../../src/protocols/nbd/stream-reader.js'

/**
 * A raw NBD client for wire-level tests (every byte spelled out here, from the spec, not from the
 * server's encoders) and an in-process server on a FileStore to run it against.
 */

export interface OptionReply {
  option: number
  type: number
  data: Buffer
}

export interface SimpleReply {
  error: number
  handle: bigint
}

export class NbdWireClient {
  readonly reader: StreamReader
  readonly closed: Promise<void>

  private constructor(readonly socket: Socket) {
    this.reader = new StreamReader(socket)
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('error', () => undefined)
  }

  static async connect(port: number): Promise<NbdWireClient> {
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    return new NbdWireClient(socket)
  }

  /** Reads the greeting and sends the client flags (fixed newstyle, no zeroes). */
  async greet(): Promise<{flags: number}> {
    const greeting = await this.reader.read(18)
    if (greeting.toString('latin1', 0, 16) !== 'NBDMAGICIHAVEOPT') throw new Error('bad greeting')
    const flags = Buffer.alloc(4)
    flags.writeUInt32BE(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)
    this.socket.write(flags)
    return {flags: greeting.readUInt16BE(16)}
  }

  sendOption(option: number, data: Buffer = Buffer.alloc(0)): void {
    const header = Buffer.alloc(16)
    header.writeBigUInt64BE(IHAVEOPT, 0)
    header.writeUInt32BE(option, 8)
    header.writeUInt32BE(data.length, 12)
    this.socket.write(Buffer.concat([header, data]))
  }

  async optionReply(): Promise<OptionReply> {
    const header = await this.reader.read(20)
    if (header.readBigUInt64BE(0) !== 0x3e889045565a9n) throw new Error('bad option reply magic')
    return {option: header.readUInt32BE(8), type: header.readUInt32BE(12), data: await this.reader.read(header.readUInt32BE(16))}
  }

  /** NBD_OPT_GO for `name` with no information requests; the replies up to and including the final one. */
  async go(name: string): Promise<OptionReply[]> {
    this.sendOption(NBD_OPT_GO, infoRequestData(name))
    const replies: OptionReply[] = []
    for (;;) {
      const reply = await this.optionReply()
      replies.push(reply)
      if (reply.type !== 3) return replies
    }
  }

  request(type: number, handle: bigint, offset: bigint, length: number, options: {flags?: number; payload?: Buffer} = {}): void {
    const header = Buffer.alloc(28)
    header.writeUInt32BE(NBD_REQUEST_MAGIC, 0)
    header.writeUInt16BE(options.flags ?? 0, 4)
    header.writeUInt16BE(type, 6)
    header.writeBigUInt64BE(handle, 8)
    header.writeBigUInt64BE(offset, 16)
    header.writeUInt32BE(length, 24)
    this.socket.write(options.payload === undefined ? header : Buffer.concat([header, options.payload]))
  }

  async reply(): Promise<SimpleReply> {
    const header = await this.reader.read(16)
    if (header.readUInt32BE(0) !== 0x67446698) throw new Error('bad reply magic')
    return {error: header.readUInt32BE(4), handle: header.readBigUInt64BE(8)}
  }

  close(): void {
    this.socket.destroy()
  }
}

/** NBD_OPT_INFO/GO data: name length, name, number of information requests, the requests. */
export function infoRequestData(name: string, requests: number[] = []): Buffer {
  const bytes = Buffer.from(name)
  const data = Buffer.alloc(4 + bytes.length + 2 + 2 * requests.length)
  data.writeUInt32BE(bytes.length, 0)
  bytes.copy(data, 4)
  data.writeUInt16BE(requests.length, 4 + bytes.length)
  requests.forEach((request, i) => data.writeUInt16BE(request, 6 + bytes.length + 2 * i))
  return data
}

export interface InProcessNbd {
  port: number
  device: ChunkDevice
  server: NbdServer
  dispose(): Promise<void>
}

/** An NbdServer exporting one device `disk` (`size` bytes, 64 KiB chunks) on a temp FileStore. */
export async function startInProcessNbd(size: number): Promise<InProcessNbd> {
  const scratch = await mkdtemp(join(tmpdir(), 'zerofs-nbd-wire-'))
  await mkdir(join(scratch, 'store'))
  const store = new FileStore(join(scratch, 'store'))
  const device = await ChunkDevice.open({store, cacheDir: join(scratch, 'cache'), name: 'disk', size, chunkSize: 64 * 1024})
  const server = new NbdServer({exports: new Map([['disk', device]]), logger: silentLogger})
  const {port} = await server.listen(0, '127.0.0.1')
  return {
    port,
    device,
    server,
    async dispose() {
      await server.close()
      await device.close()
      await store.close()
      await rm(scratch, {recursive: true, force: true})
    },
  }
}
