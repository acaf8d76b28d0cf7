import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {S3RVER_CREDENTIALS, type S3rverHandle} from './s3rver.js'
import {isolatedEnv, runTool} from './run-tool.js'

/**
 * The AWS CLI (v1) against an s3rver, isolated from any AWS config on the machine: credentials from
 * the environment, no config files, no instance-metadata lookups.
 */

export function awsEnv(): NodeJS.ProcessEnv {
  return isolatedEnv({
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  })
}

/** Runs `aws --endpoint-url E s3api ARGS… --output json` and returns the parsed answer (undefined when empty). */
export async function awsS3api(server: Pick<S3rverHandle, 'endpoint'>, args: readonly string[]): Promise<unknown> {
  const {stdout} = await runTool('aws', ['--endpoint-url', server.endpoint, 's3api', ...args, '--output', 'json'], {env: awsEnv()})
  return stdout.trim() ? JSON.parse(stdout) : undefined
}

export interface AwsPutObject {
  bucket: string
  key: string
  body: string | Buffer
  /** Names without `x-amz-meta-`, e.g. `{mode: '33188', mtime: '1600000000'}`. */
  metadata?: Record<string, string>
  contentType?: string
}

/** `aws s3api put-object`, the body passed through a temporary file as the CLI wants it. */
export async function awsPutObject(server: Pick<S3rverHandle, 'endpoint'>, object: AwsPutObject): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'zerofs-aws-'))
  try {
    const bodyPath = join(dir, 'body')
    await writeFile(bodyPath, object.body)
    const args = ['put-object', '--bucket', object.bucket, '--key', object.key, '--body', bodyPath]
    if (object.metadata) args.push('--metadata', JSON.stringify(object.metadata))
    if (object.contentType) args.push('--content-type', object.contentType)
    await awsS3api(server, args)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

export interface AwsHead {
  ContentLength: number
  ContentType?: string
  LastModified: string
  ETag: string
  Metadata?: Record<string, string>
}

export async function awsHeadObject(server: Pick<S3rverHandle, 'endpoint'>, bucket: string, key: string): Promise<AwsHead> {
  return await awsS3api(server, ['head-object', '--bucket', bucket, '--key', key]) as AwsHead
}
