/**
 * Writes oclif.manifest.json at the package root (run by `npm run build`, after tsc). With the
 * manifest, oclif finds commands and their flags without importing every command module, so a
 * command loads only its own code: `zerofs ls` does not pay for the NFS server or the migrate engine,
 * and `zerofs --version` loads no command at all. oclif warns about a manifest whose version is not
 * the package's, so a stale one is noticed; the build writes it afresh every time.
 *
 *   node dist/cli/write-manifest.js
 */
import {Plugin} from '@oclif/core'
import {writeFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const file = `${root}oclif.manifest.json`

// The options `oclif manifest` uses: read the compiled commands, never an old manifest, and fail
// the build on a command that cannot be loaded rather than leave it out.
const plugin = new Plugin({root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true})
await plugin.load()
await writeFile(file, `${JSON.stringify(plugin.manifest, null, 2)}\n`)
process.stdout.write(`wrote ${file} (${Object.keys(plugin.manifest.commands).length} commands)\n`)
