import assert from 'node:assert/strict'
import {mkdtemp, rm, stat, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {it} from 'node:test'

import {fromNanoseconds} from '../../src/core/layout/timestamp.js'
import {utimesSeconds} from '../../src/core/transfer/utimes-seconds.js'

it('a time set through utimes and read back sets the same time again (restores re-run without drifting)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'zerofs-utimes-'))
  t.after(() => rm(dir, {recursive: true, force: true}))
  const file = join(dir, 'f')
  await writeFile(file, '')
  const read = async () => fromNanoseconds((await stat(file, {bigint: true})).mtimeNs)
  // Times near today's (the double's rounding is largest) and at microsecond boundaries, where
  // plain seconds + nsec / 1e9 lost a microsecond now and then.
  for (const sec of [1_795_801_014, 2_000_000_000, 1_300_000_000, 0]) {
    for (const nsec of [0, 1, 999, 1000, 828_326_000, 828_328_003, 999_999_000, 999_999_999]) {
      await utimes(file, utimesSeconds({sec, nsec}), utimesSeconds({sec, nsec}))
      const first = await read()
      assert.deepEqual(first, {sec, nsec: Math.floor(nsec / 1000) * 1000}, `${sec}.${nsec}: kept to the microsecond`)
      for (let again = 0; again < 5; again++) {
        await utimes(file, utimesSeconds(first), utimesSeconds(first))
        assert.deepEqual(await read(), first, `${sec}.${nsec}: run ${again + 2}`)
      }
    }
  }
})
