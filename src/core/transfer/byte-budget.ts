/**
 * Bytes of memory the jobs of a run may hold at once (file contents read for a single PUT, parts
 * buffered by a multipart upload), so that memory stays bounded however many jobs run and however
 * large the files are. Takers are served in order; one that asks for more than the whole budget
 * gets all of it, alone.
 */
export class ByteBudget {
  private available: number
  private readonly waiting: Array<{bytes: number; grant: () => void}> = []

  constructor(readonly total: number) {
    this.available = total
  }

  /** Resolves once `bytes` are reserved, with the function that gives them back. */
  async reserve(bytes: number): Promise<() => void> {
    const wanted = Math.min(bytes, this.total)
    if (this.waiting.length === 0 && wanted <= this.available) {
      this.available -= wanted
    } else {
      await new Promise<void>((grant) => this.waiting.push({bytes: wanted, grant}))
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.available += wanted
      this.grantWaiting()
    }
  }

  private grantWaiting(): void {
    while (this.waiting.length > 0 && this.waiting[0].bytes <= this.available) {
      const next = this.waiting.shift()!
      this.available -= next.bytes
      next.grant()
    }
  }
}
