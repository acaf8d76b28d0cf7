import type {Server} from 'node:net'

/** Binds a TCP server and resolves with the address and port it got (port 0 picks a free one). */
export function listenTcp(server: Server, port: number, host: string): Promise<{address: string; port: number}> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const address = server.address()
      if (address === null || typeof address === 'string') {
        reject(new Error(`no TCP address after listening on ${host}:${port}`))
        return
      }
      resolve({address: address.address, port: address.port})
    })
  })
}
