import {createServer, type Server} from 'node:net'
import {createInterface} from 'node:readline'

/**
 * Listens on 127.0.0.1 for a kclient guest's "kill" line and answers "restarted" once `onKill` has
 * brought a new server up ("failed" when it could not): how a guest script asks the host to kill -9
 * and restart the server it uses.
 */
export async function handshakeServer(onKill: () => Promise<void>): Promise<{server: Server; port: number}> {
  const server = createServer((socket) => {
    createInterface({input: socket}).once('line', (line) => {
      if (line !== 'kill') {
        socket.end('unexpected\n')
        return
      }
      onKill().then(() => socket.end('restarted\n'), (error: unknown) => {
        process.stdout.write(`# restart failed: ${String(error)}\n`)
        socket.end('failed\n')
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no handshake address')
  return {server, port: address.port}
}
