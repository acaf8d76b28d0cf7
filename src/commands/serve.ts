import {Args, Flags} from '@oclif/core'

import type {Fs} from '../core/fs/fs.js'
import type {LogFields, Logger} from '../core/logger.js'
import {storeUrl} from '../core/store/open-store.js'
import {allowList} from '../protocols/rpc/allow-list.js'
import {ANONYMOUS_ID, SQUASH_MODES, type Squash} from '../protocols/rpc/squash.js'
import {BaseCommand} from '../cli/base-command.js'
import {parseListenAddress} from '../cli/listen-address.js'
import {parseP9Address, startP9} from '../cli/serve-9p.js'
import {nbdFlags, startNbd} from '../cli/serve-nbd.js'
import {startNfs} from '../cli/serve-nfs.js'

const DEFAULT_NFS_ADDRESS = '127.0.0.1:2049'

/** The largest uid or gid AUTH_SYS carries. */
const MAX_ID = 2 ** 32 - 1

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.')
}

export default class Serve extends BaseCommand {
  static override hidden = false
  static override summary = 'Serve a store over NFSv3, 9P2000.L and/or NBD until SIGINT or SIGTERM.'
  static override description = `NFSv3 and MOUNT v3 share one TCP port, so a client needs no rpcbind: \
mount -t nfs -o vers=3,proto=tcp,port=PORT,mountport=PORT,nolock HOST:/ /mnt. For clients that cannot name \
ports (Windows, appliances, a plain mount HOST:/ /mnt), --portmap runs a portmapper pointing at that port. \
--9p serves 9P2000.L (the Linux v9fs client, QEMU guests) on a TCP address or a unix socket; --nbd serves \
block devices (--nbd-device NAME=SIZE) kept as chunk objects under .zerofs/nbd/NAME/ of the store. \
The whole store is exported as / (sub-directories can be mounted too); s3://BUCKET/PREFIX serves only PREFIX. \
With no protocol flag, NFS listens on ${DEFAULT_NFS_ADDRESS}; --9p or --nbd without --nfs serve only those. \
Without STORE the embedded default store is served. Permissions are checked against the caller's AUTH_SYS \
ids (after --squash) or 9P attach uid. On SIGINT/SIGTERM the server stops accepting, finishes the calls in \
flight, uploads everything staged (files and dirty chunks) and exits 0; it exits 1 when it cannot start.`

  static override examples = [
    {description: 'Serve the embedded default store on 127.0.0.1:2049.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Serve a bucket to one subnet.', command: '<%= config.bin %> <%= command.id %> s3://backups --nfs 0.0.0.0:2049 --allow 10.1.0.0/16'},
    {description: 'Mount it (Linux).', command: 'mount -t nfs -o vers=3,proto=tcp,port=2049,mountport=2049,nolock 127.0.0.1:/ /mnt/backups'},
    {description: 'Also answer portmapper queries (port 111 needs root), so clients need no port options; map root to nobody.', command: '<%= config.bin %> <%= command.id %> s3://backups --nfs 0.0.0.0:2049 --portmap 0.0.0.0:111 --allow 10.1.0.0/16 --squash root'},
    {description: 'Mount it through the portmapper (Linux).', command: 'mount -t nfs -o vers=3,nolock SERVER:/ /mnt/backups'},
    {description: 'Serve 9P2000.L only (the Linux v9fs client, QEMU guests); add --nfs to serve both.', command: '<%= config.bin %> <%= command.id %> s3://backups --9p 127.0.0.1:5640'},
    {description: 'Mount it over 9P (Linux).', command: 'mount -t 9p -o trans=tcp,port=5640,version=9p2000.L,uname=root 127.0.0.1 /mnt/backups'},
    {description: 'Serve a 10 GiB block device over NBD.', command: '<%= config.bin %> <%= command.id %> s3://disks --nbd 127.0.0.1:10809 --nbd-device vm1=10G'},
    {description: 'Attach it (Linux).', command: 'nbd-client -N vm1 127.0.0.1 10809 /dev/nbd0'},
  ]

  static override args = {
    store: Args.string({description: 's3://BUCKET[/PREFIX], file:///DIR or a local directory. Default: the embedded store.'}),
  }

  static override flags = {
    nfs: Flags.string({summary: `NFSv3 + MOUNT v3 listen address (default ${DEFAULT_NFS_ADDRESS}).`, helpValue: 'ADDR:PORT'}),
    'read-only': Flags.boolean({summary: 'Refuse every change (NFS3ERR_ROFS, 9P EROFS, NBD read-only exports answering EPERM).'}),
    portmap: Flags.string({summary: 'Also run a portmapper (TCP and UDP) that points at the NFS port. Off by default; port 111 needs root.', helpValue: 'ADDR:PORT'}),
    allow: Flags.string({summary: 'Accept clients only from this address or CIDR (repeatable). Default: everyone who can reach the address.', multiple: true, helpValue: 'CIDR'}),
    squash: Flags.option({
      options: SQUASH_MODES,
      default: 'none' as const,
      summary: 'Map root (uid and gid 0), or every caller, to --anon-uid/--anon-gid; none trusts the ids clients send.',
    })(),
    'anon-uid': Flags.integer({summary: 'The uid squashed and AUTH_NONE callers act as.', default: ANONYMOUS_ID, min: 0, max: MAX_ID}),
    'anon-gid': Flags.integer({summary: 'The gid squashed and AUTH_NONE callers act as.', default: ANONYMOUS_ID, min: 0, max: MAX_ID}),
    '9p': Flags.string({summary: 'Also serve 9P2000.L on this TCP address or unix socket; alone, NFS is not started.', helpValue: 'ADDR:PORT|unix:PATH'}),
    ...nbdFlags,
    'log-level': Flags.option({options: ['info', 'debug'] as const, default: 'info', summary: 'debug logs every call with its xid.'})(),
  }

  /** Failures to start exit 1 (design.md's command table). */
  static override errorExitCode = 1

  static override takesWholeStore = true

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Serve)
    const p9Address = flags['9p'] === undefined ? undefined : parseP9Address(flags['9p'])
    const nbdAddress = flags.nbd === undefined ? undefined : parseListenAddress(flags.nbd)
    // With no protocol flag NFS starts on its default; --9p or --nbd without --nfs serve only those.
    const nfsWanted = flags.nfs !== undefined || (p9Address === undefined && nbdAddress === undefined)
    const listen = parseListenAddress(flags.nfs ?? DEFAULT_NFS_ADDRESS)
    const portmap = flags.portmap === undefined ? undefined : parseListenAddress(flags.portmap)
    const allow = flags.allow ?? []
    if (allow.length > 0) allowList(allow) // refuses a malformed CIDR before anything is opened
    const squash: Squash = {mode: flags.squash, anonUid: flags['anon-uid'], anonGid: flags['anon-gid']}
    const logger = this.logger(flags['log-level'] === 'debug')
    for (const host of [listen.host, ...(portmap ? [portmap.host] : [])]) {
      if (!isLoopback(host) && allow.length === 0) {
        logger.warn(`listening on ${host}, which is not loopback, without --allow: every host that can reach it may mount the store`)
      }
    }

    // The store (and the Fs) are closed by BaseCommand when run() returns; closing uploads what is staged.
    const {store, located} = await this.openStore(args.store, flags)
    if (located.path !== '/') {
      this.error(`serve exports a whole store: give ${located.store}, not a directory inside it (${located.path}); clients can mount that directory (HOST:${located.path})`, {exit: 1})
    }
    const running: Array<() => Promise<void>> = []
    let fs: Fs | undefined
    try {
      if (nbdAddress) {
        const nbd = await startNbd({store, name: located.store, cacheDir: this.cacheDir(located, flags)}, flags, nbdAddress, logger)
        running.push(() => nbd.stop())
      }
      if (nfsWanted || p9Address) fs = await this.openFsOn(store, located, flags, {readOnly: flags['read-only'], logger})
      if (fs && nfsWanted) {
        const storeOptions = {storeUrl: storeUrl(located.store), storeName: located.store}
        const nfs = await startNfs(fs, {listen, portmap, allow, squash, readOnly: flags['read-only'], ...storeOptions}, logger)
        running.push(() => nfs.close())
      }
      if (fs && p9Address) {
        const p9 = await startP9(fs, p9Address, logger, located.store)
        running.push(() => p9.close())
      }
      const signal = await stopSignal()
      const pending = [...(nbdAddress ? ['dirty chunks'] : []), ...(fs ? ['staged data'] : [])]
      logger.info(`${signal}: finishing calls in flight, uploading ${pending.join(' and ')}`)
    } finally {
      // Last started, first stopped: the protocols stop taking calls, then NBD flushes its devices.
      for (const stop of running.reverse()) await stop()
    }
    await fs?.flushAll()
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
