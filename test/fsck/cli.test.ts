import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import type {Problem} from '../../src/core/fsck/problem.js'
import type {FsckSummary} from '../../src/core/fsck/summary.js'
import {S_IFLNK, S_IFREG} from '../../src/core/layout/mode.js'
import {FileStore} from '../../src/core/store/file-store.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {closedPort} from '../commands/seed.js'
import {describeOnStores} from '../core/fs-stores.js'
import {lines, runCli, type CliResult} from '../helpers/cli.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'
import {startWriter} from './fsck-world.js'

/** `zerofs fsck` as cron runs it: the built CLI, its output and its exit codes. */

const BUCKET = 'fsck-cli'

function assertExit(result: CliResult, code: number): void {
  assert.equal(result.code, code, `exit code ${code}; stdout:\n${result.stdout.toString()}\nstderr:\n${result.stderr}`)
}

/** A problem report: one stderr-free run whose stdout groups problems by kind and ends with the summary. */
function assertReport(result: CliResult, kinds: string[]): string[] {
  assert.equal(result.stderr, '')
  const output = lines(result.stdout)
  const headers = output.filter((line) => /^[a-z-]+: /.test(line)).map((line) => line.slice(0, line.indexOf(':')))
  assert.deepEqual(headers, kinds, `groups in order:\n${output.join('\n')}`)
  return output
}

describe('zerofs fsck on a local store', () => {
  let scratch: string
  let storeDir: string
  let cacheDir: string
  const fsck = (...args: string[]): Promise<CliResult> => runCli(['fsck', storeDir, '--cache-dir', cacheDir, ...args])

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-fsck-cli-'))
    storeDir = join(scratch, 'store')
    cacheDir = join(scratch, 'cache')
    await mkdir(storeDir)
    const store = new FileStore(storeDir)
    await store.put('docs/', Buffer.alloc(0), {contentType: 'application/x-directory', metadata: {mode: String(0o40755)}})
    await store.put('docs/readme.txt', Buffer.from('hello\n'), {metadata: {mode: String(S_IFREG | 0o644)}})
    await store.put('loose/file', Buffer.from('implicit parent\n'))
    await store.close()
  })
  after(async () => {
    await rm(scratch, {recursive: true, force: true})
  })

  it('is quiet on a clean run (notes do not count) and exits 0', async () => {
    const result = await fsck()
    assertExit(result, 0)
    assert.equal(result.stdout.length, 0)
    assert.equal(result.stderr, '')
  })

  it('-v prints the notes and the summary line of a clean run', async () => {
    const result = await fsck('-v')
    assertExit(result, 0)
    const output = assertReport(result, ['bucket-implicit-directory'])
    assert.ok(output.includes('  loose/: /loose has objects below it but no marker object'), output.join('\n'))
    assert.match(output[output.length - 1], /: 2 objects, 2 directories, no cache; no problems; 1 note$/)
  })

  it('reports stray staging files (exit 4), moves them to lost+found with --repair (exit 1), then is quiet (exit 0)', async () => {
    await mkdir(join(cacheDir, 'staging'), {recursive: true})
    await writeFile(join(cacheDir, 'staging', '4242'), 'acknowledged once')
    const check = await fsck()
    assertExit(check, 4)
    const output = assertReport(check, ['staging-stray-file'])
    assert.match(output[1], /^ {2}\/.*\/staging\/4242: the data of inode 4242, which has no journal entry: nothing would upload it$/)
    assert.match(output[2], /^ {2}advice: run fsck --repair: they are moved to lost\+found/)
    assert.match(output[output.length - 1], /1 problem \(0 errors, 1 warning\): 0 repaired, 1 left$/)

    const repair = await fsck('--repair')
    assertExit(repair, 1)
    const repaired = assertReport(repair, ['staging-stray-file'])
    assert.match(repaired[1], /moved to .*lost\+found\/staging-4242\.[^ ]+ \[repaired\]$/)
    assert.ok(!repaired.some((line) => line.includes('advice:')), 'no advice for what was repaired')

    const again = await fsck()
    assertExit(again, 0)
    assert.equal(again.stdout.length, 0)
  })

  it('--json gives {problems, summary}, notes included', async () => {
    const result = await fsck('--json')
    assertExit(result, 0)
    const report = JSON.parse(result.stdout.toString()) as {problems: Problem[]; summary: FsckSummary}
    assert.deepEqual(report.problems, [{
      kind: 'bucket-implicit-directory', severity: 'info', key: 'loose/', detail: '/loose has objects below it but no marker object', repaired: false,
    }])
    assert.equal(report.summary.exitCode, 0)
    assert.equal(report.summary.objects, 2)
    assert.equal(report.summary.cacheDir, cacheDir)
  })

  it('exits 8 with one line naming the file when the cache cannot be read', async () => {
    const brokenCache = join(scratch, 'broken-cache')
    await mkdir(brokenCache)
    await writeFile(join(brokenCache, 'meta.db'), 'this is not an SQLite database, not even close to one\n'.repeat(100))
    const result = await runCli(['fsck', storeDir, '--cache-dir', brokenCache])
    assertExit(result, 8)
    assert.equal(lines(result.stderr).length, 1, result.stderr)
    assert.match(result.stderr, /cannot read the cache database .*broken-cache\/meta\.db/)
  })

  it('exits 16 on usage errors', async () => {
    assertExit(await fsck('--older-than', 'soon'), 16)
    assertExit(await fsck('--no-such-flag'), 16)
    assertExit(await runCli(['fsck', join(storeDir, 'docs'), '--cache-dir', cacheDir]), 16)
  })

  it('--help shows examples and the exit codes', async () => {
    const result = await runCli(['fsck', '--help'])
    assertExit(result, 0)
    const help = result.stdout.toString()
    for (const expected of ['--repair', '--older-than', '--create-markers', 'EXAMPLES', '16  usage error', '8   operational error']) {
      assert.ok(help.includes(expected), `help mentions ${expected}`)
    }
  })
})

describe('zerofs fsck on s3rver', () => {
  let server: S3rverHandle
  let scratch: string
  const fsck = (...args: string[]): Promise<CliResult> =>
    runCli(['fsck', `s3://${BUCKET}`, '--endpoint', server.endpoint, '--cache-dir', join(scratch, 'cache'), ...args], {env: server.env})

  before(async () => {
    server = await startS3rver([BUCKET])
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-fsck-cli-'))
    const store = await S3Store.open(BUCKET, '', {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS})
    await store.put('a', Buffer.from('file a'), {metadata: {mode: String(S_IFREG | 0o644)}})
    await store.put('a/b', Buffer.from('below a'), {metadata: {mode: String(S_IFREG | 0o644)}})
    await store.put('link', Buffer.alloc(0), {metadata: {mode: String(S_IFLNK | 0o777)}})
    await store.close()
  })
  after(async () => {
    await server.stop()
    await rm(scratch, {recursive: true, force: true})
  })

  it('reports user-data problems grouped by kind with advice, and --repair leaves them (exit 4)', async () => {
    for (const args of [[], ['--repair']]) {
      const result = await fsck(...args)
      assertExit(result, 4)
      const output = assertReport(result, ['bucket-name-conflict', 'bucket-empty-symlink'])
      assert.deepEqual(output.slice(0, 4), [
        'bucket-name-conflict: a file and a directory with the same name (the directory is shown) (1 warning)',
        '  a: the file /a is hidden by the directory /a/ of the same name',
        '  advice: rename the file with an S3 tool (aws s3 mv, rclone moveto); until then it is reachable only with zerofs ls --keys',
        '',
      ])
      assert.match(output[output.length - 1], new RegExp(`^s3://${BUCKET}: 3 objects, 1 directory, no cache; 2 problems \\(0 errors, 2 warnings\\): 0 repaired, 2 left$`))
    }
  })

  it('checks only the prefix of s3://BUCKET/PREFIX (a store scoped to it)', async () => {
    const store = await S3Store.open(BUCKET, 'clean', {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS})
    await store.put('fine', Buffer.from('fine'), {metadata: {mode: String(S_IFREG | 0o644)}})
    await store.close()
    const result = await runCli(['fsck', `s3://${BUCKET}/clean/`, '-v', '--endpoint', server.endpoint, '--cache-dir', join(scratch, 'cache-clean')], {env: server.env})
    assertExit(result, 0)
    assert.match(result.stdout.toString(), new RegExp(`^s3://${BUCKET}/clean: 1 object, 0 directories, no cache; no problems`, 'm'))
  })

  it('exits 8 with one line naming the endpoint when the server is unreachable', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`
    const result = await runCli(['fsck', `s3://${BUCKET}`, '--endpoint', endpoint, '--cache-dir', join(scratch, 'cache')], {env: server.env})
    assertExit(result, 8)
    assert.equal(lines(result.stderr).length, 1, result.stderr)
    assert.ok(result.stderr.includes(endpoint), result.stderr)
  })
})

describeOnStores('zerofs fsck beside a live owner', (newWorld) => {
  it('checks beside it quietly (exit 0) and refuses --repair naming its PID (exit 8)', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const writer = await startWriter(world, 'staged-writes')
    t.after(() => writer.kill())
    const location = world.location.kind === 'file' ? world.location.dir : ''
    const fsck = (...args: string[]): Promise<CliResult> => runCli(['fsck', location, '--cache-dir', world.cacheDir, ...args])
    const check = await fsck()
    assertExit(check, 0)
    assert.equal(check.stdout.length, 0)
    const notes = await fsck('-v')
    assert.ok(lines(notes.stdout).some((line) => line.includes(`zerofs process ${writer.pid} owns this cache`)), notes.stdout.toString())
    const repair = await fsck('--repair')
    assertExit(repair, 8)
    assert.equal(lines(repair.stderr).length, 1, repair.stderr)
    assert.match(repair.stderr, new RegExp(`is in use by zerofs process ${writer.pid} .*stop it before fsck --repair`))
  })
}, ['file'])
