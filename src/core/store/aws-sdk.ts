import type * as ClientS3 from '@aws-sdk/client-s3'
import type * as LibStorage from '@aws-sdk/lib-storage'
import type * as NodeHttpHandler from '@smithy/node-http-handler'
import {createRequire} from 'node:module'

/**
 * The AWS SDK's modules, loaded with `require`. They are CommonJS bundles, and an ESM `import` of
 * one first runs Node's CommonJS export scanner over its source to name the exports: for
 * @aws-sdk/client-s3 (a 270 KB bundle) and the HTTP handler that doubled the CPU spent loading
 * them at every start of a command (measured on Node 20: about 320 ms against 160 ms), the largest
 * part of a short command's start-up.
 */
const require = createRequire(import.meta.url)

export const clientS3 = require('@aws-sdk/client-s3') as typeof ClientS3
export const nodeHttpHandler = require('@smithy/node-http-handler') as typeof NodeHttpHandler

/** lib-storage only where a multipart upload runs. */
export function libStorage(): typeof LibStorage {
  return require('@aws-sdk/lib-storage') as typeof LibStorage
}
