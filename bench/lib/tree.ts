import {randomBytes} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {mkdir, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {once} from 'node:events'
import {seededRandom} from '../../test/helpers/seeded-random.js'

/**
 * A deterministic local tree for transfer benchmarks: small files spread over nested directories,
 * some medium and some large files, empty directories and symlinks. Sizes come from a seeded
 * generator, so the same options always give the same tree; contents are random bytes (not
 * compressible), with each file's index at its start so that no two files are equal.
 */

export interface TreeSpec {
  smallFiles: number
  /** Bytes, inclusive. */
  smallSize: [number, number]
  mediumFiles: number
  mediumSize: [number, number]
  largeFiles: number
  largeSize: number
  emptyDirectories: number
  symlinks: number
  /** Directories per level (two levels): small files go fanout × fanout ways. */
  fanout: number
  seed: number
}

export interface GeneratedTree {
  root: string
  files: number
  bytes: number
  directories: number
  symlinks: number
  /** The small files' relative paths and sizes, in creation order. */
  small: Array<{path: string; size: number}>
}

const BLOCK = 8 * 1024 * 1024

/** The bytes of file `index` of `size`: its index, then a window of one shared random block. */
export function fileContent(block: Buffer, index: number, size: number): Buffer {
  const content = Buffer.allocUnsafe(size)
  const header = Buffer.from(`file ${index}\n`)
  let offset = header.copy(content, 0, 0, Math.min(header.length, size))
  let from = (index * 4099) % block.length
  while (offset < size) {
    const copied = block.copy(content, offset, from, Math.min(block.length, from + size - offset))
    offset += copied
    from = 0
  }
  return content
}

export async function generateTree(root: string, spec: TreeSpec): Promise<GeneratedTree> {
  const random = seededRandom(spec.seed)
  const block = randomBytes(BLOCK)
  const between = ([low, high]: [number, number]): number => low + Math.floor(random() * (high - low + 1))
  const tree: GeneratedTree = {root, files: 0, bytes: 0, directories: 0, symlinks: 0, small: []}
  const directory = (index: number): string => {
    const slot = index % (spec.fanout * spec.fanout)
    return `d${String(Math.floor(slot / spec.fanout)).padStart(2, '0')}/e${String(slot % spec.fanout).padStart(2, '0')}`
  }
  for (let outer = 0; outer < spec.fanout; outer++) {
    for (let inner = 0; inner < spec.fanout; inner++) await mkdir(join(root, directory(outer * spec.fanout + inner)), {recursive: true})
  }
  tree.directories += spec.fanout + spec.fanout * spec.fanout

  let index = 0
  for (let file = 0; file < spec.smallFiles; file++, index++) {
    const size = between(spec.smallSize)
    const path = `${directory(file)}/small-${String(file).padStart(6, '0')}.dat`
    await writeFile(join(root, path), fileContent(block, index, size))
    tree.small.push({path, size})
    tree.files++
    tree.bytes += size
  }
  await mkdir(join(root, 'medium'))
  tree.directories++
  for (let file = 0; file < spec.mediumFiles; file++, index++) {
    const size = between(spec.mediumSize)
    await writeFile(join(root, 'medium', `medium-${String(file).padStart(3, '0')}.bin`), fileContent(block, index, size))
    tree.files++
    tree.bytes += size
  }
  await mkdir(join(root, 'large'))
  tree.directories++
  for (let file = 0; file < spec.largeFiles; file++, index++) {
    await writeLarge(join(root, 'large', `large-${file}.bin`), block, index, spec.largeSize)
    tree.files++
    tree.bytes += spec.largeSize
  }
  for (let empty = 0; empty < spec.emptyDirectories; empty++) {
    await mkdir(join(root, 'empty', `empty-${String(empty).padStart(3, '0')}`), {recursive: true})
  }
  if (spec.emptyDirectories > 0) tree.directories += spec.emptyDirectories + 1
  if (spec.symlinks > 0) await mkdir(join(root, 'links'))
  for (let link = 0; link < spec.symlinks; link++) {
    await symlink(`../${tree.small[link % Math.max(1, tree.small.length)]?.path ?? 'nowhere'}`, join(root, 'links', `link-${String(link).padStart(3, '0')}`))
  }
  if (spec.symlinks > 0) {
    tree.directories++
    tree.symlinks = spec.symlinks
  }
  return tree
}

/** Streams a large file in block-sized pieces, each starting with its offset. */
async function writeLarge(path: string, block: Buffer, index: number, size: number): Promise<void> {
  const output = createWriteStream(path)
  for (let offset = 0; offset < size; offset += BLOCK) {
    const piece = fileContent(block, index * 1_000_003 + offset, Math.min(BLOCK, size - offset))
    if (!output.write(piece)) await once(output, 'drain')
  }
  output.end()
  await once(output, 'finish')
}
