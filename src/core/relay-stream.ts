import {Readable, finished} from 'node:stream'

export interface RelayOptions {
  /** Most bytes handed on; a source that sends more is cut (destroyed) there. */
  limit?: number
  /** What a failure of the source, or of opening it, becomes. */
  mapError?: (error: unknown) => Error
  /** Bytes buffered ahead of the reader before the source is paused. */
  highWaterMark?: number
}

/**
 * A Readable that hands on the chunks of a source stream, one given now or still being opened, as
 * they arrive: no copy and no transform stage (a Transform or PassThrough per layer cost a 256 MiB
 * `zerofs cat` about 100 ms of CPU). Its failures are mapped, destroying it destroys the source,
 * and a source that sends nothing beyond the limit ends by itself, so a keep-alive socket under it
 * is reused.
 */
export function relayStream(source: Readable | Promise<Readable>, options: RelayOptions = {}): Readable {
  const mapError = options.mapError ?? ((error: unknown) => error as Error)
  let remaining = options.limit ?? Number.POSITIVE_INFINITY
  let input: Readable | undefined
  let cut = false
  const output = new Readable({
    highWaterMark: options.highWaterMark,
    read() {
      input?.resume()
    },
    destroy(error, callback) {
      input?.destroy()
      callback(error)
    },
  })

  const attach = (stream: Readable): void => {
    if (output.destroyed) {
      stream.destroy()
      return
    }
    input = stream
    stream.on('data', (chunk: Buffer) => {
      if (chunk.length > remaining) {
        if (remaining > 0) output.push(chunk.subarray(0, remaining))
        remaining = 0
        cut = true
        stream.destroy()
        output.push(null)
        return
      }
      remaining -= chunk.length
      if (!output.push(chunk)) stream.pause()
    })
    finished(stream, (error) => {
      if (cut || output.destroyed) return
      if (error) output.destroy(mapError(error))
      else output.push(null)
    })
  }

  if (source instanceof Readable) attach(source)
  else source.then(attach, (error: unknown) => output.destroy(mapError(error)))
  return output
}
