import {closeSync, openSync, readSync} from 'node:fs'
import {parentPort} from 'node:worker_threads'

import {ContentDigest} from './content.js'
import type {HashReply, HashRequest} from './file-hasher.js'

/** One thread of FileHasher: reads a file with blocking reads (this thread has nothing else to do) and hashes it. */

const READ_BYTES = 1024 * 1024
const buffer = Buffer.allocUnsafe(READ_BYTES)

function hashFile(request: HashRequest): HashReply {
  const digest = new ContentDigest(request.reference)
  let bytes = 0
  const fd = openSync(request.path, 'r')
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, READ_BYTES, null)
      if (read === 0) break
      digest.update(buffer.subarray(0, read))
      bytes += read
    }
  } finally {
    closeSync(fd)
  }
  return {id: request.id, digest: digest.digest(), bytes}
}

parentPort!.on('message', ({cost, requests}: {cost: number; requests: HashRequest[]}) => {
  const replies = requests.map((request): HashReply => {
    try {
      return hashFile(request)
    } catch (error) {
      const {message, code} = error as NodeJS.ErrnoException
      return {id: request.id, error: {message, code}}
    }
  })
  parentPort!.postMessage({cost, replies})
})
