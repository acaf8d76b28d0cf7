/**
 * `zerofs serve ARGS...` from the TypeScript sources in a child process (startServe), independent
 * of whether and when `dist/` was built: `node --import tsx test/helpers/nfs-serve-main.ts ARGS...`.
 */
import {fileURLToPath} from 'node:url'

import Serve from '../../src/commands/serve.js'

await Serve.run(process.argv.slice(2), fileURLToPath(new URL('../..', import.meta.url)))
