import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {after, before, describe, it} from 'node:test'

import {formatTime, modeString} from '../../src/commands/ls.js'
import {assertCliBuilt, lines, runCli, type CliResult} from '../helpers/cli.js'
import {startS3rver, type S3rverHandle} from '../helpers/s3rver.js'
import {assertFailure, assertSuccess} from './expect.js'
import {CLASH, closedPort, NOV_14, NOV_27_NOON, seedFileStore, seedS3, TREE} from './seed.js'

const BUCKET = 'zerofs-test'
const uid = String(process.getuid?.() ?? 0)
const gid = String(process.getgid?.() ?? 0)

interface JsonEntry {
  name: string
  path: string
  type: string
  size: number
  mode: number
  uid: number
  gid: number
  mtime: string
  target?: string
}

/** A seeded store reachable by the CLI: `location('/docs')` names a path in it. */
interface Fixture {
  location(path: string): string
  ls(...args: string[]): Promise<CliResult>
}

/** Fields of an `ls -l` line: mode, uid, gid, size, date, time, name[, '->', target]. */
function fields(line: string): string[] {
  return line.trim().split(/\s+/)
}

/** What every store must list the same way. */
function describeListing(name: string, fixture: () => Fixture): void {
  describe(`zerofs ls on ${name}`, () => {
    it('prints the names of a directory one per line, sorted, directories without a slash', async () => {
      const result = await fixture().ls(fixture().location('/docs'))
      assertSuccess(result)
      assert.deepEqual(lines(result.stdout), ['link', 'pipe', 'plain.txt', 'readme.txt', 'run.sh', 'sbin', 'tmp'])
    })

    it('hides .zerofs and shows implicit directories at the root', async () => {
      const result = await fixture().ls(fixture().location('/'))
      assertSuccess(result)
      const names = lines(result.stdout)
      assert.ok(!names.includes('.zerofs'), `.zerofs is hidden: ${names.join(' ')}`)
      for (const expected of ['blobs', 'docs', 'implicit', 'links']) assert.ok(names.includes(expected), `${expected} listed`)
    })

    it('-l shows s3fs attributes: mode string, uid, gid, size, mtime, name, symlink target', async () => {
      const result = await fixture().ls('-l', fixture().location('/docs'))
      assertSuccess(result)
      const byName = new Map(lines(result.stdout).map((line) => [fields(line)[6], fields(line)]))
      assert.deepEqual(byName.get('link'), ['lrwxrwxrwx', '1000', '100', '10', '2025-11-27', '12:00', 'link', '->', 'readme.txt'])
      assert.deepEqual(byName.get('pipe'), ['prw-r--r--', '1000', '100', '0', '2025-11-27', '12:00', 'pipe'])
      assert.deepEqual(byName.get('readme.txt'), ['-rw-r--r--', '1000', '100', '14', '2025-11-27', '12:00', 'readme.txt'])
      assert.deepEqual(byName.get('run.sh'), ['-rwxr-xr-x', '0', '0', '18', '2025-11-27', '12:00', 'run.sh'])
      assert.deepEqual(byName.get('sbin'), ['-rwsr-xr-x', '0', '0', '1', '2025-11-27', '12:00', 'sbin'])
      // No metadata: 0644 and the uid/gid of the process; mtime is the object's LastModified.
      assert.deepEqual(byName.get('plain.txt')?.slice(0, 4), ['-rw-r--r--', uid, gid, '19'])
      const tmp = byName.get('tmp')
      assert.deepEqual([tmp?.[0], tmp?.[1], tmp?.[2], tmp?.[4], tmp?.[5]], ['drwxrwxrwt', '0', '0', '2025-11-27', '12:00'])
      assert.equal(byName.size, 7)
    })

    it('-l shows a marker directory with its own attributes and an implicit one as 0755', async () => {
      const root = await fixture().ls('-l', fixture().location('/'))
      assertSuccess(root)
      const docs = lines(root.stdout).map(fields).find((line) => line[6] === 'docs')
      assert.deepEqual([docs?.[0], docs?.[1], docs?.[2], docs?.[4], docs?.[5]], ['drwxr-xr-x', '1000', '1000', '2023-11-14', '22:13'])
      const implicit = lines(root.stdout).map(fields).find((line) => line[6] === 'implicit')
      assert.equal(implicit?.[0], 'drwxr-xr-x')

      const inside = await fixture().ls(fixture().location('/implicit'))
      assertSuccess(inside)
      assert.deepEqual(lines(inside.stdout), ['a.txt', 'sub'])
    })

    it('--json returns {entries: [{name, path, type, size, mode, uid, gid, mtime, target?}]}', async () => {
      const result = await fixture().ls('--json', fixture().location('/docs'))
      assertSuccess(result)
      const {entries} = JSON.parse(result.stdout.toString()) as {entries: JsonEntry[]}
      assert.deepEqual(entries.map((entry) => entry.name), ['link', 'pipe', 'plain.txt', 'readme.txt', 'run.sh', 'sbin', 'tmp'])
      const byName = new Map(entries.map((entry) => [entry.name, entry]))
      assert.deepEqual(byName.get('readme.txt'), {
        name: 'readme.txt', path: '/docs/readme.txt', type: 'file', size: 14, mode: 0o100644, uid: 1000, gid: 100,
        mtime: new Date(NOV_27_NOON * 1000).toISOString(),
      })
      assert.deepEqual(byName.get('link'), {
        name: 'link', path: '/docs/link', type: 'symlink', size: 10, mode: 0o120777, uid: 1000, gid: 100,
        mtime: new Date(NOV_27_NOON * 1000).toISOString(), target: 'readme.txt',
      })
      assert.equal(byName.get('run.sh')?.mtime, new Date(NOV_27_NOON * 1000 + 750).toISOString())
      assert.equal(byName.get('pipe')?.type, 'fifo')
      assert.equal(byName.get('tmp')?.type, 'dir')
      assert.equal(byName.get('tmp')?.mode, 0o41777)
    })

    it('--json of an empty result is still one JSON object', async () => {
      const result = await fixture().ls('--json', fixture().location('/docs/tmp/scratch'))
      assertSuccess(result)
      const {entries} = JSON.parse(result.stdout.toString()) as {entries: JsonEntry[]}
      assert.deepEqual(entries.map((entry) => entry.path), ['/docs/tmp/scratch'])
    })

    it('-R lists subdirectories after their parent under "dir:" headings', async () => {
      const result = await fixture().ls('-R', fixture().location('/docs'))
      assertSuccess(result)
      assert.deepEqual(lines(result.stdout), [
        `${fixture().location('/docs')}:`,
        'link', 'pipe', 'plain.txt', 'readme.txt', 'run.sh', 'sbin', 'tmp',
        '',
        `${fixture().location('/docs/tmp')}:`,
        'scratch',
      ])
    })

    it('-R --json is flat: every entry carries its path', async () => {
      const result = await fixture().ls('-R', '--json', fixture().location('/implicit'))
      assertSuccess(result)
      const {entries} = JSON.parse(result.stdout.toString()) as {entries: JsonEntry[]}
      assert.deepEqual(entries.map((entry) => entry.path), ['/implicit/a.txt', '/implicit/sub', '/implicit/sub/b.txt'])
      assert.equal(entries[1].mode & 0o7777, 0o755)
    })

    it('listing a file prints that one file', async () => {
      const plain = await fixture().ls(fixture().location('/docs/readme.txt'))
      assertSuccess(plain)
      assert.deepEqual(lines(plain.stdout), [fixture().location('/docs/readme.txt')])
      const long = await fixture().ls('-l', fixture().location('/docs/link'))
      assertSuccess(long)
      assert.deepEqual(fields(lines(long.stdout)[0]).slice(-3), [fixture().location('/docs/link'), '->', 'readme.txt'])
    })

    it('--keys lists raw keys, .zerofs included; with -R every key below the prefix', async () => {
      const top = await fixture().ls('--keys', fixture().location('/'))
      assertSuccess(top)
      const keys = lines(top.stdout)
      for (const expected of ['.zerofs/', 'docs/', 'implicit/']) assert.ok(keys.includes(expected), `${expected} in ${keys.join(' ')}`)

      const deep = await fixture().ls('--keys', '-R', fixture().location('/docs/tmp'))
      assertSuccess(deep)
      assert.deepEqual(lines(deep.stdout), ['docs/tmp/', 'docs/tmp/scratch'])

      const json = await fixture().ls('--keys', '--json', fixture().location('/docs/tmp/'))
      assertSuccess(json)
      const parsed = JSON.parse(json.stdout.toString()) as {keys: {key: string; size: number}[]}
      assert.deepEqual(parsed.keys.map((entry) => [entry.key, entry.size]), [['docs/tmp/', 0], ['docs/tmp/scratch', 8]])
    })

    it('a missing path exits 2 with one line naming it', async () => {
      const result = await fixture().ls(fixture().location('/docs/nope'))
      assertFailure(result, new RegExp(`${escape(fixture().location('/docs/nope'))}: no such file or directory$`))
    })
  })
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

describe('zerofs ls', () => {
  let home: string
  let server: S3rverHandle
  let fileStore: string

  const s3Env = (): NodeJS.ProcessEnv => ({
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_DATA_HOME: join(home, 'data'),
  })
  const s3: Fixture = {
    location: (path) => `s3://${BUCKET}${path === '/' ? '' : path}`,
    ls: (...args) => runCli(['ls', ...args, '--endpoint', server.endpoint], {env: s3Env()}),
  }
  const file: Fixture = {
    location: (path) => (path === '/' ? fileStore : `${fileStore}${path}`),
    ls: (...args) => runCli(['ls', ...args], {env: {XDG_CACHE_HOME: join(home, 'cache'), XDG_DATA_HOME: join(home, 'data')}}),
  }

  before(async () => {
    assertCliBuilt()
    home = await mkdtemp(join(tmpdir(), 'zerofs-ls-'))
    fileStore = join(home, 'store')
    await mkdir(fileStore)
    server = await startS3rver([BUCKET])
    await seedS3(server, BUCKET, [...TREE, ...CLASH, ...['a', 'm', 'z'].map((name) => ({key: `order/${name}.txt`, body: name}))])
    await seedFileStore(fileStore, TREE)
  })

  after(async () => {
    await server?.stop()
    if (home) await rm(home, {recursive: true, force: true})
  })

  describeListing('S3 (s3rver)', () => s3)
  describeListing('a local store', () => file)

  describe('S3 only', () => {
    it('shows a key that is both a file and a directory as the directory; --keys shows both', async () => {
      const listing = await s3.ls(s3.location('/'))
      assertSuccess(listing)
      assert.equal(lines(listing.stdout).filter((name) => name === 'clash').length, 1)
      const clash = await s3.ls('--json', s3.location('/clash'))
      assertSuccess(clash)
      assert.deepEqual((JSON.parse(clash.stdout.toString()) as {entries: JsonEntry[]}).entries.map((entry) => entry.name), ['child.txt'])

      const keys = await s3.ls('--keys', '-R', s3.location('/clash'))
      assertSuccess(keys)
      assert.deepEqual(lines(keys.stdout), ['clash', 'clash/child.txt'])
    })

    it('a missing bucket exits 2 with one line naming the bucket', async () => {
      assertFailure(await s3.ls('s3://no-such-bucket/docs'), /no-such-bucket/)
    })

    // A name looked up before its directory is listed must still come in name order.
    it('keeps names sorted when some were looked up before the listing (--cache-dir)', async () => {
      const cacheDir = join(home, 'order-cache')
      const cat = await runCli(['cat', s3.location('/order/z.txt'), '--endpoint', server.endpoint, '--cache-dir', cacheDir], {env: s3Env()})
      assertSuccess(cat)
      const result = await s3.ls(s3.location('/order'), '--cache-dir', cacheDir)
      assertSuccess(result)
      assert.deepEqual(lines(result.stdout), ['a.txt', 'm.txt', 'z.txt'])
    })

    it('wrong credentials exit 2 with one line naming the bucket', async () => {
      const result = await runCli(['ls', s3.location('/docs'), '--endpoint', server.endpoint], {
        env: {...s3Env(), AWS_ACCESS_KEY_ID: 'wrong'},
      })
      assertFailure(result, new RegExp(BUCKET))
    })

    it('a dead endpoint exits 2 with one line naming the endpoint', async () => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`
      const result = await runCli(['ls', s3.location('/docs'), '--endpoint', endpoint], {env: s3Env()})
      assertFailure(result, new RegExp(escape(endpoint.replace('http://', ''))))
    })

    it('--debug adds the stack trace', async () => {
      const result = await s3.ls('s3://no-such-bucket/', '--debug')
      assert.equal(result.code, 2)
      assert.match(result.stderr, /^\s+at /m)
    })
  })

  describe('local stores', () => {
    it('finds the store root from a path inside it, and takes file:// URLs', async () => {
      const inside = await file.ls(join(fileStore, 'docs', 'tmp'))
      assertSuccess(inside)
      assert.deepEqual(lines(inside.stdout), ['scratch'])
      const url = await file.ls('-R', pathToFileURL(join(fileStore, 'docs', 'tmp')).href)
      assertSuccess(url)
      assert.deepEqual(lines(url.stdout), [`${join(fileStore, 'docs', 'tmp')}:`, 'scratch'])
    })

    it('a reader that goes away (| head) ends a long listing quietly', async () => {
      const many = join(fileStore, 'many')
      await mkdir(many)
      // Hand-placed files are objects too: the quickest way to a directory larger than a pipe buffer.
      await Promise.all(Array.from({length: 3000}, (_, index) => writeFile(join(many, `file-${String(index).padStart(5, '0')}`), '')))
      const result = await runCli(['ls', '-l', many], {env: {XDG_CACHE_HOME: join(home, 'cache')}, stdoutLimit: 100})
      assert.equal(result.stderr, '')
      assert.equal(result.code, 0)
      assert.match(result.stdout.toString(), /^-rw-r--r-- .* file-00000\n/)
    })

    it('lists a 255-byte name', async () => {
      const longName = 'n'.repeat(250) + '.txt1'
      await seedFileStore(fileStore, [{key: `long/${longName}`, body: 'x'}])
      const result = await file.ls(join(fileStore, 'long'))
      assertSuccess(result)
      assert.deepEqual(lines(result.stdout), [longName])
    })

    it('without a location lists the embedded default store, creating it: empty, exit 0', async () => {
      const data = join(home, 'fresh-data')
      const result = await runCli(['ls', '-l'], {env: {XDG_CACHE_HOME: join(home, 'cache'), XDG_DATA_HOME: data}})
      assertSuccess(result)
      assert.equal(result.stdout.length, 0)
      assert.ok(existsSync(join(data, 'zerofs', 'default')), 'the default store directory is created')
      const json = await runCli(['ls', '--json'], {env: {XDG_CACHE_HOME: join(home, 'cache'), XDG_DATA_HOME: data}})
      assertSuccess(json)
      assert.deepEqual(JSON.parse(json.stdout.toString()), {entries: []})
    })

    it('a missing directory exits 2 with one line naming it', async () => {
      const missing = join(home, 'no-such-dir')
      const result = await file.ls(missing)
      assertFailure(result, new RegExp(escape(missing)))
      assert.deepEqual(await readdir(home).then((names) => names.includes('no-such-dir')), false, 'ls creates nothing')
    })
  })
})

describe('ls rendering', () => {
  it('modeString spells every type and the special bits as ls -l does', () => {
    assert.equal(modeString('dir', 0o40755), 'drwxr-xr-x')
    assert.equal(modeString('file', 0o100644), '-rw-r--r--')
    assert.equal(modeString('symlink', 0o120777), 'lrwxrwxrwx')
    assert.equal(modeString('fifo', 0o10644), 'prw-r--r--')
    assert.equal(modeString('socket', 0o140755), 'srwxr-xr-x')
    assert.equal(modeString('chardev', 0o20620), 'crw--w----')
    assert.equal(modeString('blockdev', 0o60660), 'brw-rw----')
    assert.equal(modeString('file', 0o106755), '-rwsr-sr-x')
    assert.equal(modeString('file', 0o106644), '-rwSr-Sr--')
    assert.equal(modeString('dir', 0o41777), 'drwxrwxrwt')
    assert.equal(modeString('dir', 0o41776), 'drwxrwxrwT')
  })

  it('formatTime prints local time as YYYY-MM-DD HH:MM', () => {
    const time = new Date(2026, 10, 27, 9, 5, 59)
    assert.equal(formatTime(time), '2026-11-27 09:05')
    assert.match(formatTime(new Date(NOV_14 * 1000)), /^\d{4}-\d\d-\d\d \d\d:\d\d$/)
  })
})
