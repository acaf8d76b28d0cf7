import {mkdir, readdir, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {chunkName, parseChunkName} from './layout.js'

/**
 * Which chunks of a device hold writes the store does not have yet: one empty marker file per
 * dirty chunk, made before the chunk's local file is first changed and removed only once what it
 * holds is uploaded. A marker without a chunk file means the chunk is to be deleted from the store
 * (a trim). After a crash, the next open finds the markers and uploads their chunks.
 */
export class DirtyJournal {
  constructor(private readonly dir: string) {}

  async open(): Promise<void> {
    await mkdir(this.dir, {recursive: true})
  }

  async mark(index: number): Promise<void> {
    await writeFile(join(this.dir, chunkName(index)), '')
  }

  async clear(index: number): Promise<void> {
    try {
      await unlink(join(this.dir, chunkName(index)))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }

  /** The chunk indexes with a marker (a few: the dirty part of a bounded cache). */
  async list(): Promise<number[]> {
    return listChunkFiles(this.dir)
  }
}

/** The chunk indexes named by the files of a directory (none when it does not exist). */
export async function listChunkFiles(dir: string): Promise<number[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return names.map(parseChunkName).filter((index) => index !== undefined)
}
