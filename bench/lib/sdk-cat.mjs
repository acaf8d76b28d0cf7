// The floor of a Node.js S3 client for `cat`: a bare Node process that loads the SDK and streams one
// object to stdout, nothing else. bench/ls-cat runs it beside `zerofs cat` and `rclone cat`, so the
// share of the gap that any Node client pays (start-up, the HTTP stack) is measured, not guessed.
// Plain JavaScript, run by node itself: tsx's loader would add to the start-up being measured.
//
//   node bench/lib/sdk-cat.mjs ENDPOINT BUCKET KEY   (credentials from AWS_* in the environment)
import {GetObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {pipeline} from 'node:stream/promises'

const [endpoint, bucket, key] = process.argv.slice(2)
const client = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
})
const {Body} = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}))
await pipeline(Body, process.stdout)
client.destroy()
