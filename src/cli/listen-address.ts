import {isIP} from 'node:net'

/** A TCP listen address, as --nfs, --portmap and --9p take it. */
export interface ListenAddress {
  host: string
  port: number
}

/** `127.0.0.1:2049`, `[::1]:2049`, `0.0.0.0:2049`. */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value)
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  if (host === undefined || isIP(host) === 0 || !Number.isInteger(port) || port > 65535) {
    throw new Error(`expected ADDRESS:PORT (e.g. 127.0.0.1:2049 or [::1]:2049), got ${value}`)
  }
  return {host, port}
}

/** `[::1]` for IPv6, as a host goes into a mount line or a log. */
export function shownHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address
}
