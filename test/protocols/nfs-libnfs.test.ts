import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {fileStoreView, s3BucketView, type BucketView} from '../helpers/nfs-bucket-view.js'
import {startServe, type ServeProcess} from '../helpers/nfs-serve.js'
import {runTool} from '../helpers/run-tool.js'
import {startS3rver, type S3rverHandle} from '../helpers/s3rver.js'

/**
 * libnfs's userspace client (nfs-cp, nfs-ls, nfs-cat from Debian's libnfs-utils) against
 * `zerofs serve` on a file store and on s3rver. NFS and MOUNT share the port; libnfs is told both.
 * `auto-traverse-mounts=0`: libnfs would otherwise mount "" for a file at the export root.
 */

function url(port: number, path: string): string {
  return `nfs://127.0.0.1${path}?nfsport=${port}&mountport=${port}&version=3&auto-traverse-mounts=0`
}

for (const kind of ['file', 's3'] as const) {
  describe(`libnfs nfs-cp, nfs-ls, nfs-cat against zerofs serve (${kind} store)`, {timeout: 5 * 60_000}, () => {
    let scratch: string
    let s3: S3rverHandle | undefined
    let serve: ServeProcess
    let view: BucketView
    const payload = randomBytes(3 * 1024 * 1024 + 123)

    before(async () => {
      scratch = await mkdtemp(join(tmpdir(), `zerofs-libnfs-${kind}-`))
      const env = {XDG_CACHE_HOME: join(scratch, 'xdg-cache'), XDG_DATA_HOME: join(scratch, 'xdg-data')}
      if (kind === 'file') {
        await mkdir(join(scratch, 'store'))
        serve = await startServe([join(scratch, 'store'), '--cache-dir', join(scratch, 'cache')], {env})
        view = fileStoreView(join(scratch, 'store'))
      } else {
        s3 = await startS3rver(['zerofs-test'])
        serve = await startServe(['s3://zerofs-test', '--cache-dir', join(scratch, 'cache')], {env: {...env, ...s3.env}})
        view = s3BucketView(s3.endpoint, 'zerofs-test')
      }
      await writeFile(join(scratch, 'payload.bin'), payload)
      // A directory another tool wrote: a marker and an object below it.
      await view.put('dir/', Buffer.alloc(0))
      await view.put('dir/inner.txt', Buffer.from('written by another tool\n'))
    })

    after(async () => {
      await serve?.stop('SIGKILL')
      await view?.close()
      await s3?.stop()
      await rm(scratch, {recursive: true, force: true})
    })

    it('nfs-cp uploads a 3 MiB file that becomes one plain object in the bucket', async () => {
      const copied = await runTool('nfs-cp', [join(scratch, 'payload.bin'), url(serve.port, '/payload.bin')])
      assert.match(copied.stdout, /copied 3145851 bytes/)
      const object = await view.head('payload.bin')
      assert.equal(object?.size, payload.length)
      assert.ok((await view.body('payload.bin')).equals(payload))
    })

    it('nfs-cat streams it back byte for byte', async () => {
      const cat = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = []
        const child = spawn('nfs-cat', [url(serve.port, '/payload.bin')], {stdio: ['ignore', 'pipe', 'inherit']})
        child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
        child.once('error', reject)
        child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`nfs-cat exited with ${code}`))))
      })
      assert.ok(cat.equals(payload))
    })

    it('nfs-cp downloads it again', async () => {
      await runTool('nfs-cp', [url(serve.port, '/payload.bin'), join(scratch, 'back.bin')])
      assert.ok((await readFile(join(scratch, 'back.bin'))).equals(payload))
    })

    it('nfs-ls lists names, sizes and modes; -R walks directories; .zerofs stays hidden', async () => {
      await writeFile(join(scratch, 'small.txt'), 'small\n')
      await runTool('nfs-cp', [join(scratch, 'small.txt'), url(serve.port, '/small.txt')])
      const listing = await runTool('nfs-ls', [url(serve.port, '/')])
      const lines = listing.stdout.trim().split('\n')
      const byName = new Map(lines.map((line) => [line.trim().split(/\s+/).at(-1), line]))
      assert.deepEqual([...byName.keys()].sort(), ['dir', 'payload.bin', 'small.txt'])
      assert.match(byName.get('dir')!, /^d/)
      assert.match(byName.get('payload.bin')!, /^-rw/)
      assert.match(byName.get('payload.bin')!, /\s3145851\s/)
      assert.match(byName.get('small.txt')!, /\s6\s/)
      const recursive = await runTool('nfs-ls', ['-R', url(serve.port, '/')])
      assert.doesNotMatch(recursive.stdout, /\.zerofs/)
      assert.match(recursive.stdout, /small\.txt/)
      assert.match(recursive.stdout, /dir\/inner\.txt/)
      const inner = await runTool('nfs-cat', [url(serve.port, '/dir/inner.txt')])
      assert.equal(inner.stdout, 'written by another tool\n')
    })
  })
}
