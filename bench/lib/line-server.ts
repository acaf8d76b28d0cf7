import {createServer, type Server} from 'node:net'
import {createInterface} from 'node:readline'

/**
 * A TCP server on 127.0.0.1 that answers each line a client sends with the line `answer` gives, for
 * a kclient guest that asks the host something mid-run (the guest reaches it at $HOST:port).
 */
export async function answerLines(answer: (line: string) => Promise<string>): Promise<{port: number; close(): Promise<void>}> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => {})
    createInterface({input: socket}).on('line', (line) => {
      answer(line).then((reply) => socket.write(`${reply}\n`), (error: unknown) => socket.write(`error ${String(error)}\n`))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('line server has no TCP address')
  return {port: address.port, close: () => new Promise((resolve) => server.close(() => resolve()))}
}
