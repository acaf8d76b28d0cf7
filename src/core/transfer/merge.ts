import {compareKeys} from '../store/key-order.js'
import {TransferError} from './errors.js'
import {readAhead} from './read-ahead.js'

/** Entries each side may be ahead of the merge: about one listing page. */
const READ_AHEAD = 1000

/** One key of two merged walks: present on the left (source), on the right (destination), or both. */
export interface Paired<L, R> {
  key: string
  left?: L
  right?: R
}

/**
 * Merges two walks sorted by key (S3's byte order) into one walk of pairs, holding one entry of each
 * side at a time. A side that goes backwards would make the merge report false differences, so it
 * fails the merge instead.
 */
export async function* mergeByKey<L extends {key: string}, R extends {key: string}>(
  left: AsyncIterable<L>,
  right: AsyncIterable<R>,
  names: {left: string; right: string} = {left: 'the source', right: 'the destination'},
): AsyncGenerator<Paired<L, R>> {
  // Each side runs ahead of the merge, so that one side's listing pages or lstat calls overlap
  // with the other's instead of taking turns.
  const leftWalk = ordered(readAhead(left, READ_AHEAD), names.left)
  const rightWalk = ordered(readAhead(right, READ_AHEAD), names.right)
  try {
    let l = await leftWalk.next()
    let r = await rightWalk.next()
    while (!l.done || !r.done) {
      const order = l.done ? 1 : r.done ? -1 : compareKeys(l.value.key, r.value.key)
      if (order < 0) {
        yield {key: l.value!.key, left: l.value}
        l = await leftWalk.next()
      } else if (order > 0) {
        yield {key: r.value!.key, right: r.value}
        r = await rightWalk.next()
      } else {
        yield {key: l.value!.key, left: l.value, right: r.value}
        l = await leftWalk.next()
        r = await rightWalk.next()
      }
    }
  } finally {
    await Promise.all([leftWalk.return(undefined), rightWalk.return(undefined)])
  }
}

async function* ordered<T extends {key: string}>(walk: AsyncIterable<T>, name: string): AsyncGenerator<T> {
  let previous: string | undefined
  for await (const entry of walk) {
    if (previous !== undefined && compareKeys(previous, entry.key) >= 0) {
      throw new TransferError('Failed', `${name} listed "${entry.key}" after "${previous}": out of key order, so it cannot be compared`)
    }
    previous = entry.key
    yield entry
  }
}
