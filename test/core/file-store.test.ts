import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {FileStore} from '../../src/core/store/file-store.js'
import {describeStoreContract} from './store-contract.js'

describeStoreContract('FileStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'zerofs-filestore-'))
  return {store: new FileStore(dir), cleanup: () => rm(dir, {recursive: true, force: true})}
}, {uploadPartCopy: true, abortMultipart: true, listMultipartUploads: true, longNames: true, multipartEtagSuffix: true})
