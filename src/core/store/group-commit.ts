/**
 * Runs work in batches: what is submitted while a batch runs waits, and goes into the next batch
 * with everything else submitted meanwhile. N concurrent callers then share the fixed cost of a
 * batch (a synced commit) instead of paying it N times, and a lone caller waits for nothing.
 */
export class GroupCommit<T, R> {
  private waiting: Array<{item: T; resolve: (result: R) => void; reject: (error: unknown) => void}> = []
  private running = false

  /** `run` settles each item of a batch on its own, in the order given. */
  constructor(private readonly run: (items: T[]) => Promise<Array<PromiseSettledResult<R>>>) {}

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.waiting.push({item, resolve, reject})
      void this.drain()
    })
  }

  private async drain(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting
        this.waiting = []
        let results: Array<PromiseSettledResult<R>>
        try {
          results = await this.run(batch.map(({item}) => item))
        } catch (error) {
          for (const {reject} of batch) reject(error)
          continue
        }
        for (const [i, {resolve, reject}] of batch.entries()) {
          const result = results[i]
          if (result.status === 'fulfilled') resolve(result.value)
          else reject(result.reason)
        }
      }
    } finally {
      this.running = false
    }
  }
}
