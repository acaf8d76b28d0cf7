import {Args, Flags} from '@oclif/core'
import {pipeline} from 'node:stream/promises'

import {fsError} from '../core/errors.js'
import {BaseCommand} from '../cli/base-command.js'

export default class Cat extends BaseCommand {
  static override summary = 'Stream a file of a store to stdout.'
  static override description = `Binary-safe, streamed with read-ahead. Symlinks are followed as cat on a mount would \
(targets resolve inside the store; more than 40 levels fail with ELOOP). A reader that stops early \
(| head) ends the command quietly with exit code 0.`

  static override examples = [
    {description: 'A file of a bucket on a custom endpoint.', command: '<%= config.bin %> <%= command.id %> s3://photos/2024/notes.txt --endpoint http://127.0.0.1:9000'},
    {description: '100 bytes from offset 4096.', command: '<%= config.bin %> <%= command.id %> s3://photos/2024/raw.bin --offset 4096 --length 100 | xxd'},
    {description: 'A file of a local store.', command: '<%= config.bin %> <%= command.id %> /srv/zerofs/projects/README'},
  ]

  static override checkStoreOnFailure = true

  static override args = {
    location: Args.string({
      description: 's3://BUCKET/PATH, file:///DIR/PATH or a local path (the store is the nearest ancestor holding .zerofs).',
      required: true,
    }),
  }

  static override flags = {
    offset: Flags.integer({min: 0, default: 0, summary: 'Start at this byte.'}),
    length: Flags.integer({min: 0, summary: 'Stop after this many bytes. Default: to the end.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Cat)
    const {fs, located} = await this.openFs(args.location, flags)
    const attr = await fs.resolve(located.path, {follow: true})
    if (attr.type === 'dir') throw fsError('EISDIR', 'read', located.path)
    // end: false leaves stdout open for oclif's final flush; EPIPE from `| head` is handled by BaseCommand.
    await pipeline(fs.readStream(attr.ino, {offset: flags.offset, length: flags.length}), process.stdout, {end: false})
  }
}
