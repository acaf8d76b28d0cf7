import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {link, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import type {MigrateResult} from '../../src/commands/migrate.js'
import type {VerifyResult} from '../../src/commands/verify.js'
import {S3Store} from '../../src/core/store/s3-store.js'
import {S3RVER_CREDENTIALS, startS3rver, type S3rverHandle} from '../helpers/s3rver.js'
import {runCommand} from './cli.js'
import {listKeys} from './worlds.js'

/**
 * `zerofs migrate` and `zerofs verify` as a user runs them, against a real s3rver: the text output
 * (lists, summary line), --json reports, status lines on a pipe, and the exit codes of the command
 * table: 0 done / identical, 1 entries failed / differences, 2 nothing could be done.
 */

const BUCKET = 'zerofs-commands'

describe('zerofs migrate and zerofs verify on the command line', () => {
  let server: S3rverHandle
  let scratch: string
  let source: string

  before(async () => {
    server = await startS3rver([BUCKET])
    scratch = await mkdtemp(join(tmpdir(), 'zerofs-commands-'))
    source = join(scratch, 'source')
    await mkdir(join(source, 'docs'), {recursive: true})
    await writeFile(join(source, 'docs/a.txt'), 'a\n')
    await writeFile(join(source, 'docs/b.txt'), 'bb\n')
    await link(join(source, 'docs/b.txt'), join(source, 'b-again.txt'))
    execFileSync('mkfifo', [join(source, 'pipe')])
  })

  after(async () => {
    await server?.stop()
    if (scratch) await rm(scratch, {recursive: true, force: true})
  })

  const zerofs = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCommand([...args, '--endpoint', server.endpoint, '--cache-dir', join(scratch, 'cache')], {env: {...server.env, ...env}})

  it('migrate prints what it skipped, the hard links and a summary, and exits 0', async () => {
    const result = await zerofs(['migrate', source, `s3://${BUCKET}/tree`])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(result.stdout.trim().split('\n').slice(0, 2), [
      'skipped pipe (fifo: sockets, FIFOs and devices are not migrated)',
      'hard links: b-again.txt = docs/b.txt (2 links, each name copied)',
    ])
    assert.match(result.stdout, /^copied 3 files \(8 B\), 1 directory, 0 symlinks; 0 entries unchanged; 1 special file skipped; 2 hard-linked names copied each on its own \(/m)
    // Not a terminal: a status line on stderr as each phase starts.
    assert.match(result.stderr, /^migrate: scan: /m)
    assert.match(result.stderr, /^migrate: copy: /m)
  })

  it('a second migrate copies nothing and says so; --no-progress prints no status', async () => {
    const result = await zerofs(['migrate', source, `s3://${BUCKET}/tree`, '--no-progress'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^nothing to copy: 4 entries already complete/m)
    assert.equal(result.stderr, '')
  })

  it('verify exits 0 for an identical tree, 1 with one line per difference', async () => {
    const same = await zerofs(['verify', source, `s3://${BUCKET}/tree`, '--mode', 'checksum', '--no-progress'])
    assert.equal(same.code, 0, same.stdout + same.stderr)
    assert.match(same.stdout, /^identical: 4 entries compared \(checksum, 8 B read, .*\); 4 objects unchanged since migrate wrote them \(attributes from its journal\); 1 special file not compared$/m)

    await writeFile(join(source, 'docs/c.txt'), 'new\n')
    const different = await zerofs(['verify', source, `s3://${BUCKET}/tree`, '--no-progress'])
    assert.equal(different.code, 1)
    const lines = different.stdout.trim().split('\n')
    assert.deepEqual(lines.slice(0, -1), ['* docs/ (mtime ' + lines[0].split('mtime ')[1], '+ docs/c.txt'])
    assert.match(lines.at(-1)!, /^differences: 1 only in source, 0 only in destination, 1 differ, 0 errors, 0 unverifiable; /)
  })

  it('--json gives the reports as data', async () => {
    const migrated = await zerofs(['migrate', source, `s3://${BUCKET}/tree`, '--json'])
    assert.equal(migrated.code, 0, migrated.stderr)
    const report = JSON.parse(migrated.stdout) as MigrateResult
    assert.deepEqual({files: report.copied.files, directories: report.copied.directories, unchanged: report.unchanged}, {files: 1, directories: 1, unchanged: 3})
    assert.deepEqual(report.specialFiles, [{path: 'pipe', reason: 'fifo: sockets, FIFOs and devices are not migrated'}])
    assert.deepEqual(report.hardLinkGroups, [['b-again.txt', 'docs/b.txt']])
    assert.deepEqual(report.failedEntries, [])

    await writeFile(join(source, 'docs/a.txt'), 'A\n')
    const verified = await zerofs(['verify', source, `s3://${BUCKET}/tree`, '--json', '--mode', 'checksum'])
    assert.equal(verified.code, 1)
    const findings = (JSON.parse(verified.stdout) as VerifyResult).findings
    assert.equal(findings.length, 1)
    assert.equal(findings[0].kind, 'differs')
    assert.equal(findings[0].path, 'docs/a.txt')
  })

  it('migrate exits 1 when an entry cannot be copied, after copying the rest', async () => {
    const awkward = join(scratch, 'awkward')
    await mkdir(awkward)
    await writeFile(join(awkward, 'fine.txt'), 'fine\n')
    await writeFile(Buffer.concat([Buffer.from(`${awkward}/`), Buffer.from([0x6e, 0xe9])]), 'latin-1 name\n')
    const result = await zerofs(['migrate', awkward, `s3://${BUCKET}/awkward`, '--no-progress'])
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stdout, /^invalid n\\xe9 \(the name is not valid UTF-8\)$/m)
    assert.match(result.stdout, /^copied 1 file .*; 1 name cannot be stored/m)
  })

  it('restores a tree from a bucket', async () => {
    const restored = join(scratch, 'restored')
    const result = await zerofs(['migrate', `s3://${BUCKET}/tree`, restored, '--no-progress'])
    assert.equal(result.code, 0, result.stderr)
    const verified = await zerofs(['verify', `s3://${BUCKET}/tree`, restored, '--mode', 'deep', '--no-progress'])
    assert.equal(verified.code, 0, verified.stdout)
  })

  describe('exit 2 with one line before copying anything', () => {
    const expectFatal = async (args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}, prefix = 'fatal'): Promise<void> => {
      const result = await runCommand(args, {env: {...server.env, ...env}})
      assert.equal(result.code, 2, result.stdout + result.stderr)
      assert.match(result.stderr, pattern)
      assert.equal(result.stderr.trim().split('\n').filter((line) => !/^migrate: |^verify: /.test(line)).length <= 2, true, result.stderr)
      const store = await S3Store.open(BUCKET, prefix, {endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS})
      try {
        assert.equal((await listKeys(store)).size, 0)
      } finally {
        await store.close()
      }
    }
    const cache = () => ['--cache-dir', join(scratch, 'fatal-cache')]

    it('a missing bucket', async () => {
      await expectFatal(['migrate', source, 's3://no-such-bucket/x', '--endpoint', server.endpoint, ...cache()], /bucket "no-such-bucket" does not exist/)
      await expectFatal(['verify', source, 's3://no-such-bucket/x', '--endpoint', server.endpoint], /bucket "no-such-bucket" does not exist/)
    })

    it('refused credentials', async () => {
      await expectFatal(['migrate', source, `s3://${BUCKET}/fatal`, '--endpoint', server.endpoint, ...cache()], /denied/, {AWS_ACCESS_KEY_ID: 'wrong'})
    })

    it('an unreachable endpoint', async () => {
      await expectFatal(['migrate', source, `s3://${BUCKET}/fatal`, '--endpoint', 'http://127.0.0.1:1', ...cache()], /cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:1/)
    })

    it('bad arguments', async () => {
      await expectFatal(['migrate', source, join(scratch, 'elsewhere'), ...cache()], /one of them must be a store/)
      await expectFatal(['migrate', join(scratch, 'missing'), `s3://${BUCKET}/fatal`, '--endpoint', server.endpoint, ...cache()], /cannot be read/)
      await expectFatal(['migrate', source, `s3://${BUCKET}/fatal`, '--endpoint', server.endpoint, '--bwlimit', 'fast', ...cache()], /invalid rate "fast"/)
      await expectFatal(['migrate', source, `s3://${BUCKET}/fatal`, '--endpoint', server.endpoint, '--exclude', '[a', ...cache()], /invalid pattern "\[a"/)
    })
  })

  it('--help shows the exit codes and examples', async () => {
    for (const command of ['migrate', 'verify']) {
      const result = await runCommand([command, '--help'])
      assert.equal(result.code, 0)
      assert.match(result.stdout, /EXAMPLES/)
      assert.match(result.stdout, /Exit codes: 0/)
    }
  })
})
