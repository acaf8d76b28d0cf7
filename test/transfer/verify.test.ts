import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {appendFile, chmod, chown, lutimes, mkdir, rm, symlink, unlink, utimes, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {before, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import type {ObjectStore} from '../../src/core/store/object-store.js'
import {Verification} from '../../src/core/transfer/verification.js'
import {findingLine, type Finding, type VerifyMode, type VerifyOptions, type VerifyReport} from '../../src/core/transfer/verify-types.js'
import {describeOnStores, runMigration} from './worlds.js'

/**
 * The verify engine against both stores: identical after a migration in every mode; each kind of
 * difference found and described; content changes behind equal sizes and mtimes found by checksum
 * and deep modes only; attributes another tool never recorded counted apart; objects without a
 * usable checksum listed as unverifiable; --one-way.
 */

const MTIME = 1_600_000_000

async function verify(options: Omit<VerifyOptions, 'onFinding'>): Promise<{report: VerifyReport; lines: string[]; findings: Finding[]}> {
  const findings: Finding[] = []
  const report = await new Verification({...options, onFinding: (finding) => {
    findings.push(finding)
  }}).run()
  return {report, lines: findings.map(findingLine), findings}
}

describeOnStores('verify a tree against a store', (world) => {
  let source: string

  before(async () => {
    source = join(world().scratch, 'source')
    await mkdir(join(source, 'dir'), {recursive: true})
    for (const name of ['same.txt', 'size.txt', 'mtime.txt', 'mode.txt', 'owner.txt', 'content.txt', 'typed', 'dir/inner.txt']) {
      await writeFile(join(source, name), `${name} bytes\n`)
      await utimes(join(source, name), MTIME, MTIME)
    }
    await symlink('abcd', join(source, 'link'))
    await lutimes(join(source, 'link'), MTIME, MTIME)
    execFileSync('mkfifo', [join(source, 'pipe')])
    await utimes(join(source, 'dir'), MTIME, MTIME)
    const {report} = await runMigration({source: {kind: 'local', dir: source}, destination: {kind: 'store', store: world().store}, cacheDir: world().cacheDir})
    assert.equal(report.failed, 0)
  })

  const against = (mode: VerifyMode, extra: Partial<VerifyOptions> = {}) =>
    verify({source: {kind: 'local', dir: source}, destination: {kind: 'store', store: world().store}, mode, ...extra})

  it('finds a migrated tree identical in every mode; special files are not compared', async () => {
    for (const mode of ['fast', 'checksum', 'deep'] as const) {
      const {report, lines} = await against(mode)
      assert.deepEqual(lines, [], `${mode}: ${lines.join('\n')}`)
      assert.deepEqual({identical: report.identicalTrees, compared: report.compared, skipped: report.skippedSpecial}, {identical: true, compared: 10, skipped: 1})
    }
    assert.ok((await against('deep')).report.bytesHashed > 0)
  })

  it('reports each kind of difference on its own line, in key order', async () => {
    await writeFile(join(source, 'new.txt'), 'only here\n')
    await world().store.put('extra.txt', Buffer.from('only there\n'))
    await appendFile(join(source, 'size.txt'), 'more')
    await utimes(join(source, 'size.txt'), MTIME, MTIME)
    await utimes(join(source, 'mtime.txt'), MTIME + 60, MTIME + 60)
    await chmod(join(source, 'mode.txt'), 0o600)
    await chown(join(source, 'owner.txt'), 4321, 8765)
    await unlink(join(source, 'link'))
    await symlink('wxyz', join(source, 'link'))
    await lutimes(join(source, 'link'), MTIME, MTIME)
    await unlink(join(source, 'typed'))
    await symlink('typed bytes\n', join(source, 'typed'))
    await chmod(join(source, 'dir'), 0o700)
    await writeFile(join(source, Buffer.from([0x78, 0xff]).toString('latin1')), 'x')
    await rm(join(source, Buffer.from([0x78, 0xff]).toString('latin1')))
    await writeFile(Buffer.concat([Buffer.from(`${source}/`), Buffer.from([0x62, 0x61, 0x64, 0xff])]), 'x')

    const {report, lines} = await against('fast')
    const expected = [
      /^\* dir\/ \(mode 0700 ≠ 0755\)$/,
      /^- extra\.txt$/,
      /^\* link \(target "wxyz" ≠ "abcd"\)$/,
      /^\* mode\.txt \(mode 0600 ≠ 0644\)$/,
      /^\* mtime\.txt \(mtime 2020-09-13T12:27:40Z ≠ 2020-09-13T12:26:40Z\)$/,
      /^\+ new\.txt$/,
      /^\* owner\.txt \(uid 4321 ≠ 0; gid 8765 ≠ 0\)$/,
      /^\* size\.txt \(size 19 ≠ 15\)$/,
      /^\* typed \(type symlink ≠ file\)$/,
    ]
    const ordered = lines.filter((line) => !line.startsWith('!'))
    assert.equal(ordered.length, expected.length, lines.join('\n'))
    expected.forEach((pattern, index) => assert.match(ordered[index], pattern))
    assert.deepEqual(lines.filter((line) => line.startsWith('!')), ['! bad\\xff (the name is not valid UTF-8 (in ' + source + '))'])
    assert.deepEqual({onlyInSource: report.onlyInSource, onlyInDestination: report.onlyInDestination, differing: report.differing, errors: report.errors, identicalTrees: report.identicalTrees},
      {onlyInSource: 1, onlyInDestination: 1, differing: 7, errors: 1, identicalTrees: false})

    const oneWay = await against('fast', {oneWay: true})
    assert.ok(!oneWay.lines.some((line) => line.startsWith('-')))
    assert.equal(oneWay.report.onlyInDestination, 0)
  })

  it('finds content changed behind an equal size and mtime with checksum and deep, not fast', async () => {
    const store = world().store
    const head = (await store.head('content.txt'))!
    const {sha256: _sha256, ...attributes} = head.metadata
    await store.put('content.txt', Buffer.from('CONTENT.TXT bytes\n'.slice(0, head.size)), {metadata: attributes})
    const only = (lines: string[]) => lines.filter((line) => line.includes('content.txt'))
    assert.deepEqual(only((await against('fast')).lines), [])
    assert.deepEqual(only((await against('checksum')).lines), ['* content.txt (content differs (local bytes against the x-amz-meta-sha256))'])
    assert.deepEqual(only((await against('deep')).lines), ['* content.txt (content differs (SHA-256 of both contents))'])
  })

  it('counts attributes another tool never recorded apart from differences', async () => {
    const store = world().store
    const path = join(source, 'rclone.txt')
    await writeFile(path, 'written by rclone\n')
    await utimes(path, MTIME, MTIME)
    // What rclone writes: its mtime (float seconds) and nothing about mode or owner.
    await store.put('rclone.txt', Buffer.from('written by rclone\n'), {metadata: {mtime: `${MTIME}.0000001`}})
    const {report, lines} = await against('checksum')
    assert.ok(!lines.some((line) => line.includes('rclone.txt')), lines.join('\n'))
    assert.deepEqual(report.notRecorded, {mtime: 0, mode: 1, uid: 1, gid: 1})
  })
})

describeOnStores('verify with the migration journal', (world) => {
  it('describes objects unchanged since migrate wrote them from its journal, and notices any rewrite', async () => {
    const source = join(world().scratch, 'journaled')
    await mkdir(join(source, 'sub'), {recursive: true})
    for (const name of ['one.txt', 'two.txt', 'sub/three.txt']) await writeFile(join(source, name), `${name}\n`)
    await symlink('one.txt', join(source, 'link'))
    const {store} = await world().freshStore('journaled')
    const cacheDir = join(world().scratch, 'journal-cache')
    await runMigration({source: {kind: 'local', dir: source}, destination: {kind: 'store', store}, cacheDir})
    const options = {source: {kind: 'local', dir: source}, destination: {kind: 'store', store}, mode: 'checksum', journalDir: cacheDir} as const

    const trusted = await verify(options)
    assert.deepEqual(trusted.lines, [])
    // Files and directories; a symlink is always read for its target.
    assert.deepEqual({fromJournal: trusted.report.fromJournal, compared: trusted.report.compared}, {fromJournal: 4, compared: 5})

    // Another tool writes the same bytes with another mode: the same ETag, a new LastModified
    // (which s3rver keeps to the second, and does not move on an in-place copy: hence a PUT, later).
    await sleep(1100)
    const {sha256: _sha256, ...metadata} = (await store.head('two.txt'))!.metadata
    await store.put('two.txt', Buffer.from('two.txt\n'), {metadata: {...metadata, mode: String(0o100600)}})
    const rewritten = await verify(options)
    assert.deepEqual(rewritten.lines, ['* two.txt (mode 0644 ≠ 0600)'])
    assert.equal(rewritten.report.fromJournal, 3)
    assert.equal((await verify({...options, journalDir: undefined})).report.fromJournal, 0)
  })
})

describeOnStores('verify lists objects without a usable checksum as unverifiable', (world) => {
  it('a multipart object with neither SHA-256 nor part size is unverifiable; with its part size it is checked', async () => {
    const source = join(world().scratch, 'multipart')
    await mkdir(source)
    const store = world().store
    const part = Buffer.alloc(5 * 1024 * 1024, 1)
    for (const [name, recordPartSize] of [['bare.bin', false], ['sized.bin', true]] as const) {
      await writeFile(join(source, name), Buffer.concat([part, Buffer.from('tail')]))
      await utimes(join(source, name), MTIME, MTIME)
      const metadata = {mode: String(0o100644), uid: '0', gid: '0', mtime: String(MTIME), ...(recordPartSize ? {'part-size': String(part.length)} : {})}
      const uploadId = await store.createMultipartUpload(name, {metadata})
      const etags = [await store.uploadPart(name, uploadId, 1, part), await store.uploadPart(name, uploadId, 2, Buffer.from('tail'))]
      await store.completeMultipartUpload(name, uploadId, etags.map((etag, index) => ({partNumber: index + 1, etag})))
    }
    const {report, lines} = await verify({source: {kind: 'local', dir: source}, destination: {kind: 'store', store}, mode: 'checksum'})
    assert.deepEqual(lines, ['? bare.bin (multipart ETag ' + (await store.head('bare.bin'))!.etag + ' without a recorded part size, and no x-amz-meta-sha256)'])
    assert.deepEqual({unverifiable: report.unverifiable, identical: report.identical, identicalTrees: report.identicalTrees}, {unverifiable: 1, identical: 1, identicalTrees: false})
  })
}, ['file'])

export type {ObjectStore}
