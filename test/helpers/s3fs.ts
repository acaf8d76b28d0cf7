import {spawn} from 'node:child_process'
import {chmod, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {S3RVER_CREDENTIALS, type S3rverHandle} from './s3rver.js'
import {isolatedEnv, runTool} from './run-tool.js'

/**
 * A bucket mounted with s3fs (FUSE; needs /dev/fuse and root) on a temporary directory. s3fs runs in
 * the foreground as our child, so it can never outlive the test: `unmount()` always ends it.
 *
 * Options that s3rver needs: path-style requests, and `nomultipart` because s3fs changes the
 * metadata of a multipart-sized file with UploadPartCopy, which s3rver lacks (chmod then fails with EIO).
 */

export interface S3fsMount {
  /** The mount point. */
  dir: string
  /** Unmounts (flushing everything s3fs still holds), waits for s3fs to exit, removes the temp dirs. */
  unmount(): Promise<void>
}

export interface MountOptions {
  /** Mount only this prefix of the bucket (`bucket:/prefix`). */
  prefix?: string
  /** More `-o` options, e.g. `['ro']`. */
  options?: string[]
}

const MOUNT_TIMEOUT_MS = 20_000

export async function mountS3fs(server: Pick<S3rverHandle, 'endpoint'>, bucket: string, options: MountOptions = {}): Promise<S3fsMount> {
  const work = await mkdtemp(join(tmpdir(), 'zerofs-s3fs-'))
  const dir = join(work, 'mnt')
  const passwdFile = join(work, 'passwd')
  await mkdir(dir)
  await writeFile(passwdFile, `${S3RVER_CREDENTIALS.accessKeyId}:${S3RVER_CREDENTIALS.secretAccessKey}\n`, {mode: 0o600})
  await chmod(passwdFile, 0o600) // s3fs refuses a passwd file that others can read, whatever the umask
  const mountOptions = [
    `url=${server.endpoint}`,
    'use_path_request_style',
    `passwd_file=${passwdFile}`,
    'nomultipart',
    'dbglevel=warn',
    ...(options.options ?? []),
  ]
  const source = options.prefix ? `${bucket}:/${options.prefix.replace(/^\/+|\/+$/g, '')}` : bucket
  const child = spawn('s3fs', [source, dir, '-f', '-o', mountOptions.join(',')], {
    env: isolatedEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  child.stderr.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8000)
  })
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  const failedToStart = new Promise<Error>((resolve) => {
    child.once('error', (error) => resolve(new Error(`s3fs could not start (npm run setup:test installs it): ${error.message}`)))
    void exited.then(() => resolve(new Error(`s3fs exited before mounting: ${log.trim()}`)))
  })

  const cleanUp = async (): Promise<void> => {
    if (await isMounted(dir)) {
      await runTool('fusermount', ['-u', dir], {allowFailure: true})
      if (await isMounted(dir)) await runTool('fusermount', ['-u', '-z', dir], {allowFailure: true})
    }
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      // s3fs exits by itself once unmounted; one that hangs is killed after a grace period.
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(killer)
    }
    await rm(work, {recursive: true, force: true})
  }

  const deadline = Date.now() + MOUNT_TIMEOUT_MS
  while (!(await isMounted(dir))) {
    const failure = await Promise.race([failedToStart, sleep(50).then(() => undefined)])
    if (failure || Date.now() > deadline) {
      await cleanUp()
      throw failure ?? new Error(`s3fs did not mount ${bucket} within ${MOUNT_TIMEOUT_MS} ms: ${log.trim()}`)
    }
  }
  return {dir, unmount: cleanUp}
}

/** Whether a FUSE filesystem is mounted exactly at `dir` (from /proc/self/mountinfo, field 5). */
async function isMounted(dir: string): Promise<boolean> {
  const mountInfo = await readFile('/proc/self/mountinfo', 'utf8')
  return mountInfo.split('\n').some((line) => {
    const fields = line.split(' ')
    return fields[4] === dir && line.includes(' - fuse')
  })
}
