import {Args, Flags} from '@oclif/core'
import {createHash} from 'node:crypto'
import {isIP} from 'node:net'

import type {LogFields, Logger} from '../core/logger.js'
import {storeUrl} from '../core/store/open-store.js'
import {createNfsServer} from '../protocols/nfs3/server.js'
import {allowList} from '../protocols/rpc/allow-list.js'
import {BaseCommand} from './base-command.js'

const DEFAULT_NFS_ADDRESS = '127.0.0.1:2049'

export interface ListenAddress {
  host: string
  port: number
}

/** `127.0.0.1:2049`, `[::1]:2049`, `0.0.0.0:2049`. */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value)
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  if (host === undefined || isIP(host) === 0 || !Number.isInteger(port) || port > 65535) {
    throw new Error(`expected ADDRESS:PORT (e.g. 127.0.0.1:2049 or [::1]:2049), got ${value}`)
  }
  return {host, port}
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.')
}

/** The fsid of NFS handles and attributes: the same store gives the same fsid on every start. */
export function fsidOf(url: string): bigint {
  return createHash('sha256').update(url).digest().readBigUInt64BE(0)
}

export default class Serve extends BaseCommand {
  static override hidden = false
  static override summary = 'Serve a store over NFSv3 until SIGINT or SIGTERM.'
  static override description = `NFSv3 and MOUNT v3 share one TCP port, so a client needs no rpcbind: \
mount -t nfs -o vers=3,proto=tcp,port=PORT,mountport=PORT,nolock HOST:/ /mnt. The whole store is exported \
as / (sub-directories can be mounted too). With no protocol flag, NFS listens on ${DEFAULT_NFS_ADDRESS}; \
without STORE the embedded default store is served. On SIGINT/SIGTERM the server stops accepting, finishes \
the calls in flight, uploads everything staged and exits 0.`

  static override examples = [
    {description: 'Serve the embedded default store on 127.0.0.1:2049.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Serve a bucket to one subnet.', command: '<%= config.bin %> <%= command.id %> s3://backups --nfs 0.0.0.0:2049 --allow 10.1.0.0/16'},
    {description: 'Mount it (Linux).', command: 'mount -t nfs -o vers=3,proto=tcp,port=2049,mountport=2049,nolock 127.0.0.1:/ /mnt/backups'},
  ]

  static override args = {
    store: Args.string({description: 's3://BUCKET[/PREFIX], file:///DIR or a local directory. Default: the embedded store.'}),
  }

  static override flags = {
    nfs: Flags.string({summary: `NFSv3 + MOUNT v3 listen address (default ${DEFAULT_NFS_ADDRESS}).`, helpValue: 'ADDR:PORT'}),
    'read-only': Flags.boolean({summary: 'Refuse every change (NFS3ERR_ROFS).'}),
    allow: Flags.string({summary: 'Accept clients only from this address or CIDR (repeatable). Default: everyone who can reach the address.', multiple: true, helpValue: 'CIDR'}),
    'log-level': Flags.option({options: ['info', 'debug'] as const, default: 'info', summary: 'debug logs every call with its xid.'})(),
  }

  /** Failures to start exit 1 (design.md's command table). */
  static override errorExitCode = 1

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Serve)
    const listen = parseListenAddress(flags.nfs ?? DEFAULT_NFS_ADDRESS)
    const allow = flags.allow ?? []
    allowList(allow) // refuses a malformed CIDR before anything is opened
    const logger = this.logger(flags['log-level'] === 'debug')
    if (!isLoopback(listen.host) && allow.length === 0) {
      logger.warn(`listening on ${listen.host}, which is not loopback, without --allow: every host that can reach it may mount the store`)
    }

    // The Fs (and the store) are closed by BaseCommand when run() returns; closing uploads what is staged.
    const {fs, located} = await this.openFs(args.store, flags, {readOnly: flags['read-only'], logger})
    const server = createNfsServer({fs, fsid: fsidOf(storeUrl(located.store)), readOnly: flags['read-only'], allow, logger})
    const bound = await server.listen(listen.port, listen.host)
    const shown = bound.address.includes(':') ? `[${bound.address}]` : bound.address
    logger.info(`serving ${located.store} over NFSv3 on ${shown}:${bound.port}${flags['read-only'] ? ' (read-only)' : ''}`)
    logger.info(`mount -t nfs -o vers=3,proto=tcp,port=${bound.port},mountport=${bound.port},nolock ${shown}:/ MOUNTPOINT`)

    const signal = await stopSignal()
    logger.info(`${signal}: finishing calls in flight, uploading staged data`)
    await server.close()
    await fs.flushAll()
    logger.info('stopped cleanly')
  }

  /** Lines on stderr (the core's and the server's), so stdout stays free; debug lines only when asked for. */
  private logger(debug: boolean): Logger {
    const line = (level: string, message: string, fields?: LogFields): void => {
      const details = fields === undefined ? '' : ` ${JSON.stringify(fields, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}`
      process.stderr.write(`${new Date().toISOString()} ${level} ${message}${details}\n`)
    }
    return {
      debug: (message, fields) => {
        if (debug) line('debug', message, fields)
      },
      info: (message, fields) => line('info', message, fields),
      warn: (message, fields) => line('warn', message, fields),
      error: (message, fields) => line('error', message, fields),
    }
  }
}

/** Resolves with the first SIGINT or SIGTERM; a second one while shutting down exits at once with 1. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop).off('SIGTERM', stop)
      process.once('SIGINT', () => process.exit(1)).once('SIGTERM', () => process.exit(1))
      resolve(signal)
    }
    process.on('SIGINT', stop).on('SIGTERM', stop)
  })
}
