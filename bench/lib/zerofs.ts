import {fileURLToPath} from 'node:url'
import type {S3rverHandle} from '../../test/helpers/s3rver.js'
import {isolatedEnv} from '../../test/helpers/run-tool.js'

/** The built CLI as users run it (`node bin/run.js`); `assertCliBuilt` (test/helpers/cli.ts) checks it is built. */
export const ZEROFS_BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

/** The server's credentials and region, nothing from the host's AWS config. */
export function zerofsEnv(server: Pick<S3rverHandle, 'env'>): NodeJS.ProcessEnv {
  return isolatedEnv(server.env)
}
