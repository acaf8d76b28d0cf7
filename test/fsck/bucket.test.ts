import assert from 'node:assert/strict'
import {it} from 'node:test'
import {S_IFDIR, S_IFLNK, S_IFREG} from '../../src/core/layout/mode.js'
import {allKeys, describeOnStores, readObject, type FsWorld} from '../core/fs-stores.js'
import {assertClean, assertKinds, assertRepairCycle, counting, ofKind, runFsck, type FsckResult} from './fsck-world.js'

const fileMode = {mode: String(S_IFREG | 0o644)}
const markerOptions = {metadata: {mode: String(S_IFDIR | 0o755)}, contentType: 'application/x-directory'}

/**
 * User data problems: reported with exit 4, left as they are by --repair (exit 4 again, every
 * object untouched), and reported again by the next run.
 */
async function assertLeftAlone(world: FsWorld, kind: FsckResult['problems'][number]['kind'], options: {deep?: boolean} = {}): Promise<FsckResult> {
  const before = await allKeys(world.store)
  const check = await runFsck(world, options)
  assertKinds(check, [kind])
  assert.equal(check.summary.exitCode, 4)
  const repair = await runFsck(world, {...options, repair: true})
  assertKinds(repair, [kind])
  assert.ok(counting(repair).every((problem) => !problem.repaired), 'a user\'s object is never changed')
  assert.equal(repair.summary.exitCode, 4, 'problems left')
  assert.deepEqual(await allKeys(world.store), before)
  assert.deepEqual(ofKind(await runFsck(world, options), kind), ofKind(check, kind), 'reported again')
  return check
}

describeOnStores('fsck: the bucket', (newWorld, kind) => {
  it('bucket-invalid-attributes: metadata that does not parse is reported (zero-byte objects and markers; every object with deep)', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await world.store.put('flag', Buffer.alloc(0), {metadata: {mode: 'rw-r--r--', uid: '1000'}})
    await world.store.put('dir/', Buffer.alloc(0), {metadata: {mode: String(S_IFREG | 0o644)}, contentType: 'application/x-directory'})
    await world.store.put('dir/data', Buffer.from('content'), {metadata: {...fileMode, uid: 'alice', mtime: 'yesterday'}})
    await world.store.put('fine', Buffer.from('content'), {metadata: fileMode})
    const check = await assertLeftAlone(world, 'bucket-invalid-attributes')
    assert.deepEqual(ofKind(check, 'bucket-invalid-attributes').map((problem) => [problem.key, problem.detail]).sort(), [
      ['dir/', '/dir: mode="33188" does not parse as a directory mode'],
      ['flag', '/flag: mode="rw-r--r--" does not parse as a file mode'],
    ])
    const deep = await assertLeftAlone(world, 'bucket-invalid-attributes', {deep: true})
    assert.equal(ofKind(deep, 'bucket-invalid-attributes').find((problem) => problem.key === 'dir/data')?.detail,
      '/dir/data: mtime="yesterday", uid="alice" do not parse')
    assert.equal(ofKind(deep, 'bucket-invalid-attributes').length, 3)
  })

  it('bucket-empty-symlink: a symbolic link with an empty body is reported and left', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await world.store.put('links/', Buffer.alloc(0), markerOptions)
    await world.store.put('links/empty', Buffer.alloc(0), {metadata: {mode: String(S_IFLNK | 0o777)}})
    await world.store.put('links/fine', Buffer.from('../target'), {metadata: {mode: String(S_IFLNK | 0o777)}})
    const check = await assertLeftAlone(world, 'bucket-empty-symlink')
    assert.deepEqual(ofKind(check, 'bucket-empty-symlink').map((problem) => problem.key), ['links/empty'])
  })

  it('bucket-implicit-directory: noted, not counted; --create-markers writes markers with default attributes', async (t) => {
    const world = await newWorld()
    t.after(() => world.dispose())
    await world.store.put('implicit/deeper/file', Buffer.from('x'), {metadata: fileMode})
    await world.store.put('explicit/', Buffer.alloc(0), markerOptions)
    await world.store.put('explicit/file', Buffer.from('x'), {metadata: fileMode})
    const fs = await world.open()
    assert.equal((await fs.resolve('/implicit')).type, 'dir')
    await fs.close()

    const check = await runFsck(world)
    assertClean(check)
    assert.deepEqual(ofKind(check, 'bucket-implicit-directory').map((problem) => problem.key), ['implicit/', 'implicit/deeper/'])
    const created = await runFsck(world, {createMarkers: true, repair: true})
    assertClean(created)
    assert.ok(ofKind(created, 'bucket-implicit-directory').every((problem) => problem.repaired))
    const head = await world.store.head('implicit/deeper/')
    assert.equal(head?.metadata.mode, String(S_IFDIR | 0o755))
    assert.equal(head?.contentType, 'application/x-directory')
    const again = await runFsck(world)
    assertClean(again)
    assert.deepEqual(ofKind(again, 'bucket-implicit-directory'), [])
    assert.deepEqual(again.problems.filter((problem) => problem.kind.startsWith('cache-')), [], 'the cache knows the new markers')
  })

  if (kind === 'file') {
    it('bucket-stale-upload: uploads older than --older-than are reported and aborted by --repair; younger ones are left', async (t) => {
      const world = await newWorld()
      t.after(() => world.dispose())
      const uploadId = await world.store.createMultipartUpload('big.bin')
      await world.store.uploadPart('big.bin', uploadId, 1, Buffer.alloc(1024, 1))
      assertClean(await runFsck(world), 'an upload younger than 24h may still be running')
      const [check, repair] = await assertRepairCycle(world, ['bucket-stale-upload'], {olderThanMs: 0})
      assert.match(ofKind(check, 'bucket-stale-upload')[0].detail, new RegExp(`upload id ${uploadId}`))
      assert.match(ofKind(repair, 'bucket-stale-upload')[0].detail, /aborted$/)
      const left = []
      for await (const upload of world.store.listMultipartUploads()) left.push(upload)
      assert.deepEqual(left, [])
    })

    it('holds 255-byte names: valid POSIX names, not reported', async (t) => {
      const world = await newWorld()
      t.after(() => world.dispose())
      const name = 'n'.repeat(255)
      await world.store.put(`${name}/`, Buffer.alloc(0), markerOptions)
      await world.store.put(`${name}/${'é'.repeat(127)}`, Buffer.from('x'), {metadata: fileMode})
      const result = await runFsck(world)
      assertClean(result)
      assert.equal(result.summary.objects, 1)
    })
  }

  if (kind === 's3') {
    it('bucket-uploads-unlisted: a server that cannot list multipart uploads is noted, not counted', async (t) => {
      const world = await newWorld()
      t.after(() => world.dispose())
      const result = await runFsck(world, {olderThanMs: 0})
      assertClean(result)
      assert.equal(ofKind(result, 'bucket-uploads-unlisted')[0]?.severity, 'info')
    })

    // s3rver keeps trailing "." and ".." components (it normalises the others away; the FileStore refuses them all).
    it('bucket-invalid-key: keys that cannot be POSIX paths are reported and left', async (t) => {
      const world = await newWorld()
      t.after(() => world.dispose())
      await world.store.put('dots/..', Buffer.from('up'))
      await world.store.put('dots/.', Buffer.from('here'))
      await world.store.put('dots/fine', Buffer.from('fine'))
      const check = await assertLeftAlone(world, 'bucket-invalid-key')
      assert.deepEqual(ofKind(check, 'bucket-invalid-key').map((problem) => [problem.key, problem.detail]), [
        ['dots/.', 'the key has a "." or ".." path component'],
        ['dots/..', 'the key has a "." or ".." path component'],
      ])
      assert.equal((await readObject(world.store, 'dots/..')).toString(), 'up')
    })

    // A FileStore cannot hold a file and a directory of one name.
    it('bucket-name-conflict: a file hidden by a directory of its name is reported once and left', async (t) => {
      const world = await newWorld()
      t.after(() => world.dispose())
      for (const key of ['a', 'a.txt', 'a-b/c', 'a/b', 'a/c', 'b', 'b-c/d', 'c/', 'c']) await world.store.put(key, Buffer.from(key), {metadata: fileMode})
      const check = await assertLeftAlone(world, 'bucket-name-conflict')
      assert.deepEqual(ofKind(check, 'bucket-name-conflict').map((problem) => problem.key), ['a', 'c'])
      assert.match(ofKind(check, 'bucket-name-conflict')[0].detail, /the file \/a is hidden by the directory \/a\/ of the same name/)
    })
  }
})
