import type {RpcLogger} from '../rpc/dispatcher.js'
import {RpcServer} from '../rpc/server.js'
import {RpcUdpServer} from '../rpc/udp-server.js'
import {IPPROTO_TCP, IPPROTO_UDP, PMAP_PROG, PMAP_VERS} from './constants.js'
import type {PortmapContext} from './context.js'
import type {Mapping} from './mapping.js'
import {portmapProgram} from './program.js'

/** A program version served over TCP on a port: what the portmapper points clients at. */
export interface Service {
  prog: number
  vers: number
  port: number
}

export interface PortmapperOptions {
  services: readonly Service[]
  /** Refuses clients from addresses it returns false for. */
  allow?: (address: string) => boolean
  logger: RpcLogger
}

/**
 * A portmapper (PMAP v2) for clients that cannot be told ports: it answers over TCP and UDP on one
 * port (111 by convention) with a fixed table of zerofs's own services, and registers nothing.
 */
export class Portmapper {
  private readonly table: Mapping[]
  private readonly tcp: RpcServer
  private readonly udp: RpcUdpServer
  private listening = false

  constructor(options: PortmapperOptions) {
    this.table = options.services.map((service) => ({...service, prot: IPPROTO_TCP}))
    const context: PortmapContext = {mappings: this.table, logger: options.logger}
    const programs = [portmapProgram(context)]
    this.tcp = new RpcServer({programs, allow: options.allow, logger: options.logger})
    this.udp = new RpcUdpServer({programs, allow: options.allow, logger: options.logger})
  }

  /** The table as DUMP reports it. */
  get mappings(): readonly Mapping[] {
    return this.table
  }

  /** Binds TCP, then UDP on the same port number (so port 0 picks one free port for both). */
  async listen(port: number, host: string): Promise<{address: string; port: number}> {
    const bound = await this.tcp.listen(port, host)
    try {
      await this.udp.listen(bound.port, host)
    } catch (error) {
      await this.tcp.close()
      throw error
    }
    this.listening = true
    this.table.unshift(
      {prog: PMAP_PROG, vers: PMAP_VERS, prot: IPPROTO_TCP, port: bound.port},
      {prog: PMAP_PROG, vers: PMAP_VERS, prot: IPPROTO_UDP, port: bound.port},
    )
    return bound
  }

  async close(): Promise<void> {
    if (!this.listening) return
    this.listening = false
    await Promise.all([this.tcp.close(), this.udp.close()])
  }
}
