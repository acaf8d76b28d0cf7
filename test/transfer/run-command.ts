/**
 * Runs `zerofs migrate` or `zerofs verify` from the source tree in this process, as bin/run.js runs
 * the built ones: `node --import tsx test/transfer/run-command.ts migrate SRC DST …`. The transfer
 * tests spawn it so that they exercise the commands' real parsing, output and exit codes without
 * needing `npm run build` (the shared dist/ may be rebuilt by another process at any moment).
 */
import {flush, handle} from '@oclif/core'
import {fileURLToPath} from 'node:url'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const root = fileURLToPath(new URL('../..', import.meta.url))
const commands = {
  migrate: () => import('../../src/commands/migrate.js'),
  verify: () => import('../../src/commands/verify.js'),
}

const [id, ...argv] = process.argv.slice(2)
if (id !== 'migrate' && id !== 'verify') throw new Error(`run-command: unknown command "${id}"`)
const {default: command} = await commands[id]()
try {
  // Each command's own static run (the union of the two classes has no callable signature).
  await (command.run as (argv: string[], root: string) => Promise<unknown>).call(command, argv, root)
  await flush()
} catch (error) {
  await handle(error as Error)
}
