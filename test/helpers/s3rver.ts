import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

export const S3RVER_CREDENTIALS = {accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER'}

export interface S3rverHandle {
  endpoint: string
  port: number
  /** The directory s3rver keeps its objects in. */
  directory: string
  /** Environment for a child `zerofs`, rclone or aws process talking to this server. */
  env: NodeJS.ProcessEnv
  process: ChildProcess
  stop(): Promise<void>
}

/** Starts a real s3rver on a free 127.0.0.1 port in its own process, with the given buckets. */
export async function startS3rver(buckets: string[] = ['zerofs-test']): Promise<S3rverHandle> {
  const directory = await mkdtemp(join(tmpdir(), 'zerofs-s3rver-'))
  const script = fileURLToPath(new URL('s3rver-process.cjs', import.meta.url))
  const child = spawn(process.execPath, ['--openssl-legacy-provider', script, directory, buckets.join(',')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({input: child.stdout!})
    lines.once('line', (line) => resolve((JSON.parse(line) as {port: number}).port))
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening`)))
  })
  const endpoint = `http://127.0.0.1:${port}`
  return {
    endpoint,
    port,
    directory,
    process: child,
    env: {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: endpoint,
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGKILL')
        await exited
      }
      await rm(directory, {recursive: true, force: true})
    },
  }
}
