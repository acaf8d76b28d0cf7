import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {it} from 'node:test'
import {MetaCache} from '../../src/core/cache/meta-cache.js'
import {ROOT_INO} from '../../src/core/fs/types.js'
import {S_IFDIR, S_IFREG} from '../../src/core/layout/mode.js'
import type {CrashChildConfig} from './fs-crash-child.js'
import {allKeys, describeOnStores, readObject, type FsWorld} from './fs-stores.js'

const childScript = fileURLToPath(new URL('fs-crash-child.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

/** Runs the child until it reports ready, kills it with SIGKILL, and returns every line it reported. */
async function runAndKill(world: FsWorld, scenario: CrashChildConfig['scenario']): Promise<Array<Record<string, unknown>>> {
  const config: CrashChildConfig = {store: world.location, cacheDir: world.cacheDir, scenario}
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', childScript, JSON.stringify(config)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const lines: Array<Record<string, unknown>> = []
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({input: child.stdout!}).on('line', (line) => {
        const message = JSON.parse(line) as Record<string, unknown>
        lines.push(message)
        if (message.ready) resolve()
      })
      child.once('exit', (code) => reject(new Error(`the child exited with ${code} before it was ready`)))
    })
  } finally {
    child.kill('SIGKILL')
    await exited
  }
  return lines
}

describeOnStores('fs: crash recovery', (newWorld) => {
  it('uploads acknowledged, unsynced writes of a killed process at the next open', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await world.store.put('existing.txt', Buffer.from('abcdefgh'), {metadata: {mode: String(S_IFREG | 0o644), uid: '1000', gid: '1000'}})
    const [report] = await runAndKill(world, 'staged-writes')
    const inos = report.inos as Record<string, string>
    assert.deepEqual(await allKeys(world.store), ['docs/', 'existing.txt'], 'nothing was uploaded before the kill')

    const fs = await world.open()
    const expected = (i: number): Buffer => {
      const data = Buffer.from(`acknowledged ${i} `.repeat(1000))
      data.write('!', 5)
      return data
    }
    for (let i = 0; i < 3; i++) {
      const key = `docs/file${i}.txt`
      assert.ok((await readObject(world.store, key)).equals(expected(i)), key)
      const head = (await world.store.head(key))!
      assert.equal(head.metadata.mode, String(S_IFREG | 0o640))
      assert.equal(head.metadata.uid, '1000')
      assert.match(head.metadata.sha256, /^[0-9a-f]{64}$/)
      assert.equal((await fs.resolve(`/${key}`)).ino, BigInt(inos[`file${i}.txt`]), 'inode numbers survive the crash')
    }
    assert.equal((await readObject(world.store, 'existing.txt')).toString(), 'abXXefgh')
    assert.equal((await world.store.head('existing.txt'))!.metadata.mode, String(S_IFREG | 0o600))
    await fs.close()
    const cache = MetaCache.open(world.cacheDir, {owner: false})
    assert.deepEqual(cache.staging.inos(), [])
    cache.close()
  })

  it('finishes a directory rename interrupted by a crash at the next open', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    const marker = {metadata: {mode: String(S_IFDIR | 0o755)}, contentType: 'application/x-directory'}
    await world.store.put('old/', Buffer.alloc(0), marker)
    await world.store.put('old/sub/', Buffer.alloc(0), marker)
    for (const name of ['a', 'b', 'c', 'd', 'sub/e']) await world.store.put(`old/${name}`, Buffer.from(name), {metadata: {mode: String(S_IFREG | 0o600)}})
    const lines = await runAndKill(world, 'directory-rename')
    const dirIno = BigInt(lines.find((line) => line.dir !== undefined)!.dir as string)
    assert.ok((await allKeys(world.store, 'old/')).length === 7, 'the sources were still there at the kill')

    const fs = await world.open()
    assert.deepEqual(await allKeys(world.store), ['new/', 'new/a', 'new/b', 'new/c', 'new/d', 'new/sub/', 'new/sub/e'])
    assert.equal((await world.store.head('new/sub/e'))!.metadata.mode, String(S_IFREG | 0o600))
    assert.equal((await fs.lookup(ROOT_INO, 'new')).ino, dirIno)
    assert.equal((await fs.read((await fs.resolve('/new/sub/e')).ino, 0, 10)).data.toString(), 'sub/e')
    await assert.rejects(fs.lookup(ROOT_INO, 'old'))
  })

  it('finishes a file rename interrupted between the copy and the delete at the next open', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await world.store.put('docs/', Buffer.alloc(0), {metadata: {mode: String(S_IFDIR | 0o755)}, contentType: 'application/x-directory'})
    await world.store.put('docs/draft.txt', Buffer.from('the text'), {metadata: {mode: String(S_IFREG | 0o640), uid: '1000', gid: '1000'}})
    await world.store.put('docs/final.txt', Buffer.from('an older final'), {metadata: {mode: String(S_IFREG | 0o644)}})
    const lines = await runAndKill(world, 'file-rename')
    const fileIno = BigInt(lines.find((line) => line.file !== undefined)!.file as string)
    assert.deepEqual(await allKeys(world.store), ['docs/', 'docs/draft.txt', 'docs/final.txt'], 'the crash left both names')
    assert.equal((await readObject(world.store, 'docs/final.txt')).toString(), 'the text', 'the copy was done')

    const fs = await world.open()
    assert.deepEqual(await allKeys(world.store), ['docs/', 'docs/final.txt'])
    assert.equal((await world.store.head('docs/final.txt'))!.metadata.mode, String(S_IFREG | 0o640))
    const docs = await fs.lookup(ROOT_INO, 'docs')
    assert.equal((await fs.lookup(docs.ino, 'final.txt')).ino, fileIno, 'the file keeps its inode number')
    assert.equal((await fs.read(fileIno, 0, 100)).data.toString(), 'the text')
    await assert.rejects(fs.lookup(docs.ino, 'draft.txt'), (error: Error & {code?: string}) => error.code === 'ENOENT')
    await fs.close()
    const cache = MetaCache.open(world.cacheDir, {owner: false})
    assert.deepEqual(cache.renames.pending(), [], 'the journal entry is closed')
    cache.close()
  })
})
