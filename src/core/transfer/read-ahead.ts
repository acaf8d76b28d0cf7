/**
 * Pulls up to `limit` items of an async iterable ahead of its consumer, so that a slow producer (a
 * listing fetched page by page, a directory walk waiting on lstat) works while the consumer does
 * something else, such as waiting on the other side of a merge. Holds at most `limit` items.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]()
  let buffer: T[] = []
  let head = 0
  let finished = false
  let stopped = false
  let failure: {error: unknown} | undefined
  let itemArrived: (() => void) | undefined
  let spaceFreed: (() => void) | undefined
  const wakeConsumer = (): void => {
    itemArrived?.()
    itemArrived = undefined
  }

  const pump = (async () => {
    try {
      while (!stopped) {
        if (buffer.length - head >= limit) {
          await new Promise<void>((resolve) => {
            spaceFreed = resolve
          })
          continue
        }
        const next = await iterator.next()
        if (next.done) break
        buffer.push(next.value)
        wakeConsumer()
      }
    } catch (error) {
      failure = {error}
    } finally {
      finished = true
      wakeConsumer()
    }
  })()

  try {
    for (;;) {
      if (head < buffer.length) {
        const item = buffer[head++]
        if (head > 1024 && head * 2 > buffer.length) {
          buffer = buffer.slice(head)
          head = 0
        }
        spaceFreed?.()
        spaceFreed = undefined
        yield item
        continue
      }
      if (failure !== undefined) throw failure.error
      if (finished) return
      await new Promise<void>((resolve) => {
        itemArrived = resolve
      })
    }
  } finally {
    stopped = true
    spaceFreed?.()
    await pump
    if (!finished || failure === undefined) await iterator.return?.()
  }
}
