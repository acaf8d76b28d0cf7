/** What the block device crash child writes, shared with the test that checks it. */
import type {StoreLocation} from './fs-stores.js'

export interface BlockdevCrashConfig {
  store: StoreLocation
  cacheDir: string
  scenario: 'flushed' | 'unflushed'
}

export const CRASH_DEVICE = {name: 'crashdisk', size: 1024 * 1024, chunkSize: 64 * 1024}

/** The bytes the child writes at `offset` (the parent checks them): spans chunk boundaries. */
export function crashPattern(round: number): Array<{offset: number; data: Buffer}> {
  return [0, 3, 7].map((chunk) => ({
    offset: chunk * CRASH_DEVICE.chunkSize + 1000,
    data: Buffer.alloc(CRASH_DEVICE.chunkSize, `round ${round} chunk ${chunk} `),
  }))
}
