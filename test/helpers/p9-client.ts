import {connect, type Socket} from 'node:net'

import {MAX_MSIZE, NOFID} from '../../src/protocols/p9/constants.js'
import {P9Framer} from '../../src/protocols/p9/framer.js'
import {decodeMessage, encodeMessage, type Body, type Message, type RequestName} from '../../src/protocols/p9/messages.js'

/** A minimal 9P client for tests: sends T-messages by tag and resolves with whatever answers that tag. */
export class P9TestClient {
  private readonly framer = new P9Framer(MAX_MSIZE)
  private readonly waiting = new Map<number, (reply: Message) => void>()
  private nextTag = 1
  /** Every reply in arrival order (names and tags), for tests of ordering. */
  readonly arrivals: Array<{name: string; tag: number}> = []
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.framer.push(chunk)) {
        const reply = decodeMessage(frame)
        this.arrivals.push({name: reply.name, tag: reply.tag})
        this.waiting.get(reply.tag)?.(reply)
        this.waiting.delete(reply.tag)
      }
    })
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('error', () => {})
  }

  static async connect(port: number): Promise<P9TestClient> {
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    return new P9TestClient(socket)
  }

  /** Tversion then Tattach of fid 0 as root. */
  static async attached(port: number, aname = ''): Promise<P9TestClient> {
    const client = await P9TestClient.connect(port)
    await client.call('Tversion', {msize: 65536 + 24, version: '9P2000.L'})
    await client.expect('Rattach', 'Tattach', {fid: 0, afid: NOFID, uname: 'root', aname, nUname: 0})
    return client
  }

  /** Sends a request and resolves with its reply (Rlerror included). */
  call<N extends RequestName>(name: N, body: Body<N>, tag = this.nextTag++): Promise<Message> {
    const reply = new Promise<Message>((resolve) => this.waiting.set(tag, resolve))
    this.socket.write(encodeMessage(name, tag, body))
    return reply
  }

  /** Sends a request and fails unless the reply is `replyName`. */
  async expect<N extends RequestName>(replyName: string, name: N, body: Body<N>): Promise<Message> {
    const reply = await this.call(name, body)
    if (reply.name !== replyName) throw new Error(`${name} answered ${reply.name} ${JSON.stringify(reply.body)}`)
    return reply
  }

  /** The errno an Rlerror carries (fails on any other reply). */
  async errno<N extends RequestName>(name: N, body: Body<N>): Promise<number> {
    const reply = await this.call(name, body)
    if (reply.name !== 'Rlerror') throw new Error(`${name} answered ${reply.name}, not Rlerror`)
    return reply.body.ecode
  }

  /** Sends bytes as they are; resolves with the reply to `tag` if one comes. */
  sendRaw(bytes: Buffer, tag: number): Promise<Message> {
    const reply = new Promise<Message>((resolve) => this.waiting.set(tag, resolve))
    this.socket.write(bytes)
    return reply
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  close(): void {
    this.socket.destroy()
  }
}
