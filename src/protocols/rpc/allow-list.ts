import {BlockList, isIP} from 'node:net'

/**
 * `--allow CIDR`: which client addresses may connect. Accepts `10.0.0.0/8`, `fd00::/8`, or a single
 * address. IPv4 clients seen on a dual-stack socket (`::ffff:10.1.2.3`) match IPv4 rules.
 */
export function allowList(cidrs: readonly string[]): (address: string) => boolean {
  const rules = new BlockList()
  for (const cidr of cidrs) {
    const [address, prefix, ...rest] = cidr.split('/')
    const family = isIP(address)
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix)
    if (family === 0 || rest.length > 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32) || prefix === '') {
      throw new Error(`not an address or CIDR: ${cidr}`)
    }
    rules.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4')
  }
  return (address) => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
    if (mapped) return rules.check(mapped[1], 'ipv4')
    const family = isIP(address)
    return family !== 0 && rules.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }
}
