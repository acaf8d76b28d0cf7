import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmod, chown, lchown, link, lstat, lutimes, mkdir, readdir, readFile, readlink, symlink, utimes, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

/**
 * The tree the transfer tests migrate: modes, owners, sub-second mtimes, a private 0700 directory,
 * empty directories, symlinks (relative, absolute, dangling, to a directory), a FIFO, hard links,
 * unicode names, names whose key order differs from a per-directory sort, and a file large enough
 * for a multipart upload with 5 MiB parts.
 */

export const OWNER = {uid: 1234, gid: 5678}
export const LARGE_FILE = 'media/large.bin'
export const LARGE_SIZE = 12 * 1024 * 1024 + 12345

interface Spec {
  path: string
  kind: 'dir' | 'file' | 'symlink'
  mode?: number
  content?: string | Buffer
  target?: string
  mtime?: number
  owner?: {uid: number; gid: number}
}

/** Directories come before their contents; their mtimes are set last, deepest first. */
const SPECS: Spec[] = [
  {path: 'docs', kind: 'dir', mode: 0o750, mtime: 1_600_000_100, owner: OWNER},
  {path: 'docs/readme.txt', kind: 'file', mode: 0o640, content: 'read me\n', mtime: 1_600_000_000.123456, owner: OWNER},
  {path: 'docs/run.sh', kind: 'file', mode: 0o755, content: '#!/bin/sh\necho hi\n', mtime: 1_500_000_000.25},
  {path: 'docs/empty.txt', kind: 'file', mode: 0o600, content: '', mtime: 1_400_000_000},
  {path: 'private', kind: 'dir', mode: 0o700, mtime: 1_500_000_000, owner: OWNER},
  {path: 'private/secret.txt', kind: 'file', mode: 0o600, content: 'top secret\n', mtime: 1_500_000_001, owner: OWNER},
  {path: 'readonly', kind: 'dir', mode: 0o555, mtime: 1_450_000_000},
  {path: 'readonly/fixed.txt', kind: 'file', mode: 0o444, content: 'fixed\n', mtime: 1_450_000_000},
  {path: 'empty-dir', kind: 'dir', mode: 0o755, mtime: 1_300_000_000},
  {path: 'deep', kind: 'dir', mode: 0o755, mtime: 1_300_000_001},
  {path: 'deep/a', kind: 'dir', mode: 0o711, mtime: 1_300_000_002},
  {path: 'deep/a/b', kind: 'dir', mode: 0o755, mtime: 1_300_000_003},
  {path: 'deep/a/b/leaf.txt', kind: 'file', mode: 0o644, content: 'leaf\n', mtime: 1_300_000_004},
  {path: 'sort', kind: 'dir', mode: 0o755, mtime: 1_300_000_005},
  {path: 'sort/a-b.txt', kind: 'file', mode: 0o644, content: 'dash\n', mtime: 1_300_000_006},
  {path: 'sort/a.txt', kind: 'file', mode: 0o644, content: 'dot\n', mtime: 1_300_000_007},
  {path: 'sort/a', kind: 'dir', mode: 0o755, mtime: 1_300_000_008},
  {path: 'sort/a/inside.txt', kind: 'file', mode: 0o644, content: 'inside\n', mtime: 1_300_000_009},
  {path: 'sort/a0', kind: 'file', mode: 0o644, content: 'zero\n', mtime: 1_300_000_010},
  {path: 'ünïcødé', kind: 'dir', mode: 0o755, mtime: 1_300_000_011},
  {path: 'ünïcødé/日本語.txt', kind: 'file', mode: 0o644, content: 'こんにちは\n', mtime: 1_300_000_012},
  {path: 'ünïcødé/café crème.txt', kind: 'file', mode: 0o644, content: 'au lait\n', mtime: 1_300_000_013},
  {path: 'links', kind: 'dir', mode: 0o755, mtime: 1_300_000_014},
  {path: 'links/relative', kind: 'symlink', target: '../docs/readme.txt', mtime: 1_300_000_015},
  {path: 'links/absolute', kind: 'symlink', target: '/etc/hostname', mtime: 1_300_000_016},
  {path: 'links/dangling', kind: 'symlink', target: 'nowhere/at/all', mtime: 1_300_000_017, owner: OWNER},
  {path: 'links/to-dir', kind: 'symlink', target: '../docs', mtime: 1_300_000_018},
  {path: 'hard', kind: 'dir', mode: 0o755, mtime: 1_300_000_019},
  {path: 'hard/first.bin', kind: 'file', mode: 0o644, content: 'linked twice\n', mtime: 1_300_000_020},
  {path: 'media', kind: 'dir', mode: 0o755, mtime: 1_300_000_021},
  {path: LARGE_FILE, kind: 'file', mode: 0o644, mtime: 1_300_000_022},
]

export const HARD_LINK = 'hard/second.bin'
export const FIFO = 'special/pipe'

export async function makeFixtureTree(root: string): Promise<void> {
  await mkdir(root, {recursive: true})
  for (const spec of SPECS) {
    const path = join(root, spec.path)
    if (spec.kind === 'dir') await mkdir(path)
    else if (spec.kind === 'symlink') await symlink(spec.target!, path)
    else await writeFile(path, spec.path === LARGE_FILE ? largeContent() : spec.content!)
  }
  await link(join(root, 'hard/first.bin'), join(root, HARD_LINK))
  await mkdir(join(root, 'special'))
  execFileSync('mkfifo', [join(root, FIFO)])
  // Attributes after all contents exist, directories deepest first, so that nothing moves their mtimes again.
  for (const spec of [...SPECS].reverse()) {
    const path = join(root, spec.path)
    if (spec.owner) await (spec.kind === 'symlink' ? lchown : chown)(path, spec.owner.uid, spec.owner.gid)
    if (spec.mode !== undefined) await chmod(path, spec.mode)
    if (spec.mtime !== undefined) await (spec.kind === 'symlink' ? lutimes : utimes)(path, spec.mtime, spec.mtime)
  }
}

/** Deterministic bytes that differ part to part, so that a misplaced part changes the digest. */
export function largeContent(): Buffer {
  if (large === undefined) {
    large = Buffer.alloc(LARGE_SIZE)
    for (let offset = 0; offset < LARGE_SIZE; offset += 32) createHash('sha256').update(String(offset)).digest().copy(large, offset)
  }
  return large
}

let large: Buffer | undefined

export interface SnapshotEntry {
  type: 'dir' | 'file' | 'symlink' | 'other'
  mode: number
  uid: number
  gid: number
  size: number
  mtime: {sec: number; nsec: number}
  target?: string
  sha256?: string
}

/**
 * Everything a restore must bring back, read independently of zerofs: per path, type, mode, owner,
 * size, mtime, symlink target and content hash. Directories' own mtimes are included.
 */
export async function snapshotTree(root: string, options: {skip?: (path: string) => boolean} = {}): Promise<Record<string, SnapshotEntry>> {
  const snapshot: Record<string, SnapshotEntry> = {}
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const relative = prefix ? `${prefix}/${name}` : name
      if (options.skip?.(relative)) continue
      const path = join(dir, name)
      const stats = await lstat(path, {bigint: true})
      const type = stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : 'other'
      snapshot[relative] = {
        type,
        mode: Number(stats.mode),
        uid: Number(stats.uid),
        gid: Number(stats.gid),
        size: type === 'dir' ? 0 : Number(stats.size),
        mtime: {sec: Number(stats.mtimeNs / 1_000_000_000n), nsec: Number(stats.mtimeNs % 1_000_000_000n)},
        ...(type === 'symlink' ? {target: await readlink(path)} : {}),
        ...(type === 'file' ? {sha256: createHash('sha256').update(await readFile(path)).digest('hex')} : {}),
      }
      if (type === 'dir') await walk(path, relative)
    }
  }
  await walk(root, '')
  return snapshot
}

/**
 * Asserts two snapshots describe the same tree. Times may differ by up to 2 µs: a restore sets them
 * through utimes, which takes seconds as a double.
 */
export function assertSameTree(actual: Record<string, SnapshotEntry>, expected: Record<string, SnapshotEntry>): void {
  const strip = (snapshot: Record<string, SnapshotEntry>): Record<string, Omit<SnapshotEntry, 'mtime'>> =>
    Object.fromEntries(Object.entries(snapshot).map(([path, {mtime: _mtime, ...rest}]) => [path, rest]))
  assert.deepEqual(strip(actual), strip(expected))
  for (const [path, entry] of Object.entries(expected)) {
    const other = actual[path].mtime
    const difference = Math.abs((other.sec - entry.mtime.sec) * 1e9 + other.nsec - entry.mtime.nsec)
    assert.ok(difference <= 2000, `${path}: mtime ${other.sec}.${other.nsec} instead of ${entry.mtime.sec}.${entry.mtime.nsec}`)
  }
}
