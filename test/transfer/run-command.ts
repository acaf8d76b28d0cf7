/**
 * Runs `zerofs migrate|verify …` from the source tree, as bin/run.js runs the built CLI:
 * `node --import tsx test/transfer/run-command.ts migrate SRC DST …`. The transfer tests spawn it so
 * that they exercise the commands' real parsing, help, output and exit codes without `npm run build`
 * (the shared dist/ may be rebuilt by another process at any moment).
 */
import {Config, flush, handle, run} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const root = fileURLToPath(new URL('../..', import.meta.url))
// The package's own configuration, with the commands found in transfer-commands.ts instead of
// dist/ (oclif would otherwise import every built command to make its manifest).
const pjson = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {oclif: Record<string, unknown>}
const commands = {strategy: 'explicit', target: './test/transfer/transfer-commands.ts', identifier: 'default'}
const config = await Config.load({root, pjson: {...pjson, oclif: {...pjson.oclif, commands}}} as Parameters<typeof Config.load>[0])
try {
  await run(process.argv.slice(2), config)
  await flush()
} catch (error) {
  await handle(error as Error)
}
