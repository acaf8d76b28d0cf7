import {createSocket, type Socket} from 'node:dgram'
import {isIPv6} from 'node:net'

import {RpcDispatcher, type RpcLogger} from './dispatcher.js'
import type {RpcProgram} from './program.js'

export interface RpcUdpServerOptions {
  programs: RpcProgram[]
  /** Ignores datagrams from addresses it returns false for. */
  allow?: (address: string) => boolean
  logger: RpcLogger
}

/** The largest datagram answered; RPC over UDP carries one message per datagram, no record marking. */
const MAX_DATAGRAM = 8800

/**
 * ONC RPC over UDP (RFC 5531 §11 applies to streams only): each datagram is one call, each reply one
 * datagram back to its sender. Meant for small programs such as the portmapper, whose clients
 * (mount.nfs, rpcinfo, Windows) often ask over UDP first.
 */
export class RpcUdpServer {
  private readonly dispatcher: RpcDispatcher
  private socket?: Socket
  private readonly inFlight = new Set<Promise<void>>()

  constructor(private readonly options: RpcUdpServerOptions) {
    this.dispatcher = new RpcDispatcher(options.programs, options.logger)
  }

  listen(port: number, host: string): Promise<{address: string; port: number}> {
    const socket = createSocket({type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false})
    this.socket = socket
    socket.on('message', (message, sender) => {
      if (this.options.allow && !this.options.allow(sender.address)) {
        this.options.logger.debug(`ignored a datagram from ${sender.address}:${sender.port}: not in --allow`)
        return
      }
      if (message.length > MAX_DATAGRAM) return
      const done = this.dispatcher.dispatch(message, {remoteAddress: sender.address, remotePort: sender.port})
        .then((reply) => {
          const datagram = reply === 'drop' ? undefined : Buffer.concat(reply)
          if (datagram && datagram.length <= MAX_DATAGRAM) socket.send(datagram, sender.port, sender.address)
        })
        .finally(() => this.inFlight.delete(done))
      this.inFlight.add(done)
    })
    socket.on('error', (error) => this.options.logger.debug(`UDP ${host}:${port}: ${error.message}`))
    return new Promise((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(port, host, () => {
        socket.off('error', reject)
        const address = socket.address()
        resolve({address: address.address, port: address.port})
      })
    })
  }

  /** Stops receiving and lets the calls in flight send their replies. */
  async close(): Promise<void> {
    const socket = this.socket
    if (!socket) return
    socket.removeAllListeners('message')
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
    await new Promise<void>((resolve) => socket.close(() => resolve()))
    this.socket = undefined
  }
}
