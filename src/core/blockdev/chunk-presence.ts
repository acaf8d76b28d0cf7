/** Which chunks have an object in the store: one bit per chunk (32 KiB for a TiB of 4 MiB chunks). */
export class ChunkPresence {
  private readonly bits: Uint8Array

  constructor(chunks: number) {
    this.bits = new Uint8Array(Math.ceil(chunks / 8))
  }

  has(index: number): boolean {
    return (this.bits[index >> 3] & (1 << (index & 7))) !== 0
  }

  set(index: number, present: boolean): void {
    if (index >> 3 >= this.bits.length) return
    if (present) this.bits[index >> 3] |= 1 << (index & 7)
    else this.bits[index >> 3] &= ~(1 << (index & 7))
  }
}
