// Runs s3rver in its own process (so a crash of s3rver cannot take the tests with it) and prints
// its port as one JSON line. Must run with --openssl-legacy-provider: s3rver's continuation tokens use DES.
const S3rver = require('s3rver')

const [directory, buckets = 'zerofs-test'] = process.argv.slice(2)
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.split(',').filter(Boolean).map((name) => ({name})),
})
server.run().then(
  (address) => process.stdout.write(JSON.stringify({port: address.port}) + '\n'),
  (error) => {
    process.stderr.write(String(error && error.stack) + '\n')
    process.exit(1)
  },
)
process.on('SIGTERM', () => server.close().finally(() => process.exit(0)))
