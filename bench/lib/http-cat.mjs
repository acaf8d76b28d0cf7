// The floor of any Node.js client for `cat`: a bare Node process that streams one object to stdout
// with node:http alone (no SDK, no signing: s3rver serves unsigned GETs). What stays between it and
// rclone is Node's start-up and HTTP stack, which no Node client escapes.
//
//   node bench/lib/http-cat.mjs URL
import {get} from 'node:http'
import {pipeline} from 'node:stream/promises'

get(process.argv[2], (response) => {
  if (response.statusCode !== 200) throw new Error(`GET ${process.argv[2]}: HTTP ${response.statusCode}`)
  pipeline(response, process.stdout).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
})
