import {setTimeout as sleep} from 'node:timers/promises'

/** The operations lib/nfs-kernel-bench.sh times in the guest, for NFS and 9P mounts alike. */
export type Operation = 'ls-l-cold' | 'ls-l-warm' | 'stat' | 'read-1mib' | 'write-1mib' | 'write-seq' | 'read-seq'
export const OPERATIONS: readonly Operation[] = ['ls-l-cold', 'ls-l-warm', 'stat', 'read-1mib', 'write-1mib', 'write-seq', 'read-seq']

/** How a report names an operation, with the run's directory size and sequential size. */
export function operationName(operation: Operation, options: {files: number; seqMib: number}): string {
  return {
    'ls-l-cold': `ls -l ${options.files} files, cold`,
    'ls-l-warm': `ls -l ${options.files} files, warm`,
    stat: 'stat a file',
    'read-1mib': 'read 1 MiB',
    'write-1mib': 'write 1 MiB until in store',
    'write-seq': `write ${options.seqMib} MiB until in store`,
    'read-seq': `read ${options.seqMib} MiB`,
  }[operation]
}

const VISIBLE_TIMEOUT_MS = 120_000

/** Polls `check` until a written file is in the store, failing after two minutes. */
export async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + VISIBLE_TIMEOUT_MS
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not become visible within ${VISIBLE_TIMEOUT_MS / 1000} s`)
    await sleep(5)
  }
}
