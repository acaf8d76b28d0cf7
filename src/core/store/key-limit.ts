import {byteLength, KEY_MAX} from '../layout/keys.js'
import {parseStoreLocation} from './store-location.js'

/**
 * The longest key (in UTF-8 bytes, relative to the store root) a store can hold: S3's 1024 minus
 * the store's prefix in its bucket. FileStores keep S3's limit, so a tree that fits one fits both.
 */
export function maxKeyBytes(storeUrl: string): number {
  const location = parseStoreLocation(storeUrl)
  return location.kind === 's3' && location.prefix !== '' ? KEY_MAX - byteLength(`${location.prefix}/`) : KEY_MAX
}
