import {randomBytes} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {pipeline} from 'node:stream/promises'

const MIB = 1024 * 1024

/** Streams `bytes` random bytes into a local file (the source of sequential writes). */
export async function randomFile(path: string, bytes: number): Promise<void> {
  await pipeline(async function* () {
    for (let left = bytes; left > 0; left -= MIB) yield randomBytes(Math.min(MIB, left))
  }, createWriteStream(path))
}
