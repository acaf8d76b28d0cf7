import type {Command} from '@oclif/core'
import {resolve} from 'node:path'

import type {ObjectStore} from '../core/store/object-store.js'
import {openStore, type StoreOptions} from '../core/store/open-store.js'
import type {Endpoint} from '../core/transfer/endpoint.js'
import {isTransferError} from '../core/transfer/errors.js'
import {GlobSyntaxError} from '../core/transfer/glob.js'
import {PathFilter, type FilterRules} from '../core/transfer/path-filter.js'
import {storeOptions, type BaseFlags} from './base-command.js'

/**
 * Input the user can correct (a bad size, rate or glob, two local directories, a source that is no
 * directory) ends as oclif's usage errors do: `Error: …` on stderr, exit 2, no stack.
 */
export async function usageErrorsOf<T>(command: Command, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof RangeError || error instanceof GlobSyntaxError || isTransferError(error, 'Usage')) command.error(error.message, {exit: 2})
    throw error
  }
}

/** The filter rules, once their globs are known to compile. */
export function checkedFilter(rules: FilterRules): FilterRules {
  void new PathFilter(rules)
  return rules
}

/**
 * The SRC and DST of migrate and verify: a URL (s3://, file://) names a store, opened with the
 * store flags; anything else is a local directory tree. Stores are closed by `close()`.
 */
export class Endpoints {
  private stores: ObjectStore[] = []

  async open(location: string, flags: BaseFlags & {jobs: number}): Promise<Endpoint> {
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(location)) return {kind: 'local', dir: resolve(location)}
    const store = await openStore(location, storeOptionsOf(flags))
    this.stores.push(store)
    return {kind: 'store', store}
  }

  async close(): Promise<void> {
    const stores = this.stores
    this.stores = []
    await Promise.allSettled(stores.map((store) => store.close()))
  }
}

/** The store flags as the core takes them, with sockets enough for every job's parts. */
function storeOptionsOf(flags: BaseFlags & {jobs: number}): StoreOptions {
  return {...storeOptions(flags), maxSockets: Math.max(64, flags.jobs * 4)}
}
