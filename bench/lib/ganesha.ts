import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {freePort} from './free-port.js'

/**
 * nfs-ganesha (Debian's ganesha.nfsd, FSAL VFS) exporting a local directory over NFSv3 on
 * 127.0.0.1, as the reference NFS server of bench/nfs. ganesha will not start without rpcbind to
 * register with; when none runs, one is started that serves only its unix socket (a private
 * netconfig through a mount namespace), never the network, as ../shared/kclient/selftest does.
 */

export interface Ganesha {
  /** The exported directory; NFS clients mount this path. */
  exportPath: string
  nfsPort: number
  mountPort: number
  stop(): Promise<void>
}

const RPCBIND_SOCKET = '/run/rpcbind.sock'
const START_TIMEOUT_MS = 60_000

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1')
    probe.once('error', () => resolve(false))
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
  })
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  return exited.finally(() => clearTimeout(killer))
}

async function startPrivateRpcbind(work: string): Promise<ChildProcess | undefined> {
  if (existsSync(RPCBIND_SOCKET)) return undefined // one runs already: ganesha registers there
  const netconfig = join(work, 'netconfig')
  await writeFile(netconfig, 'local tpi_cots_ord - loopback - - -\n')
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /etc/netconfig && exec rpcbind -f', '-', netconfig], {
    stdio: 'ignore',
  })
  for (let waited = 0; !existsSync(RPCBIND_SOCKET); waited += 100) {
    if (waited > 10_000 || child.exitCode !== null) throw new Error('rpcbind (for ganesha) did not start')
    await sleep(100)
  }
  return child
}

async function removeRpcbindState(): Promise<void> {
  for (const path of [RPCBIND_SOCKET, '/run/rpcbind.lock']) await rm(path, {force: true})
  const state = '/run/rpcbind'
  for (const file of await readdir(state).catch(() => [] as string[])) {
    if (file.endsWith('.xdr')) await rm(join(state, file), {force: true})
  }
}

/** Starts ganesha exporting `exportPath` (which must exist) read-write, without root squash. */
export async function startGanesha(exportPath: string): Promise<Ganesha> {
  const work = await mkdtemp(join(tmpdir(), 'zerofs-bench-ganesha-'))
  const rpcbind = await startPrivateRpcbind(work)
  const [nfsPort, mountPort, nlmPort, rquotaPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const config = join(work, 'ganesha.conf')
  await writeFile(config, `NFS_CORE_PARAM {
    Protocols = 3; Bind_addr = 127.0.0.1; Enable_UDP = false;
    NFS_Port = ${nfsPort}; MNT_Port = ${mountPort}; NLM_Port = ${nlmPort}; Rquota_Port = ${rquotaPort};
    Enable_NLM = false; Enable_RQUOTA = false;
}
NFS_KRB5 { Active_krb5 = false; }
NFSv4 { Graceless = true; }
EXPORT {
    Export_Id = 1; Path = ${exportPath}; Pseudo = /bench; Protocols = 3; Transports = TCP;
    Access_Type = RW; Squash = No_Root_Squash; SecType = sys; FSAL { Name = VFS; }
}
`)
  const log = join(work, 'ganesha.log')
  const ganesha = spawn('ganesha.nfsd', ['-F', '-f', config, '-L', log, '-p', join(work, 'ganesha.pid')], {stdio: 'ignore'})
  const stop = async (): Promise<void> => {
    await stopChild(ganesha)
    if (rpcbind) {
      await stopChild(rpcbind)
      await removeRpcbindState()
    }
    await rm(work, {recursive: true, force: true})
  }
  for (let waited = 0; !(await accepts(nfsPort)); waited += 200) {
    if (waited > START_TIMEOUT_MS || ganesha.exitCode !== null) {
      await stop()
      throw new Error(`ganesha did not start listening on 127.0.0.1:${nfsPort}`)
    }
    await sleep(200)
  }
  return {exportPath, nfsPort, mountPort, stop}
}
