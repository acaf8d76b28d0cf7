import {S3RVER_CREDENTIALS, type S3rverHandle} from './s3rver.js'
import {isolatedEnv, runTool} from './run-tool.js'

/**
 * rclone against an s3rver with no config file: the remote `s3:` is described entirely by
 * RCLONE_CONFIG_S3_* variables. rclone checks for no updates and sends no telemetry on its own; the
 * bucket check is switched off so it never tries to create a bucket.
 */

export const RCLONE_REMOTE = 's3'

export function rcloneEnv(server: Pick<S3rverHandle, 'endpoint'>): NodeJS.ProcessEnv {
  return isolatedEnv({
    RCLONE_CONFIG: '/dev/null',
    RCLONE_CONFIG_S3_TYPE: 's3',
    RCLONE_CONFIG_S3_PROVIDER: 'Other',
    RCLONE_CONFIG_S3_ENV_AUTH: 'false',
    RCLONE_CONFIG_S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    RCLONE_CONFIG_S3_REGION: 'us-east-1',
    RCLONE_CONFIG_S3_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_S3_FORCE_PATH_STYLE: 'true',
    RCLONE_CONFIG_S3_NO_CHECK_BUCKET: 'true',
  })
}

/** `s3:bucket/path` */
export function rclonePath(bucket: string, path = ''): string {
  return `${RCLONE_REMOTE}:${bucket}${path ? `/${path.replace(/^\/+/, '')}` : ''}`
}

/** Runs `rclone ARGS…` and returns its stdout; throws with rclone's stderr on failure. */
export async function rclone(server: Pick<S3rverHandle, 'endpoint'>, args: readonly string[]): Promise<string> {
  const {stdout} = await runTool('rclone', args, {env: rcloneEnv(server)})
  return stdout
}

export interface RcloneLslEntry {
  path: string
  size: number
  /** Whole seconds since the epoch. */
  mtimeSec: number
  /** Nanoseconds within the second, as rclone prints them. */
  mtimeNsec: number
}

/** `rclone lsl REMOTE:PATH`, parsed: `     6 2017-07-14 02:40:00.250000000 dir/name` (printed in UTC by isolatedEnv). */
export async function rcloneLsl(server: Pick<S3rverHandle, 'endpoint'>, remotePath: string, args: readonly string[] = []): Promise<RcloneLslEntry[]> {
  const output = await rclone(server, ['lsl', ...args, remotePath])
  return output.split('\n').filter(Boolean).map((line) => parseLslLine(line))
}

function parseLslLine(line: string): RcloneLslEntry {
  const match = /^\s*(\d+) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{9}) (.*)$/.exec(line)
  if (!match) throw new Error(`unexpected rclone lsl line: ${JSON.stringify(line)}`)
  const [, size, wholeSeconds, nanoseconds, path] = match
  return {
    path,
    size: Number(size),
    mtimeSec: Date.parse(`${wholeSeconds.replace(' ', 'T')}Z`) / 1000,
    mtimeNsec: Number(nanoseconds),
  }
}
