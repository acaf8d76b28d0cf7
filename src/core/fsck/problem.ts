/**
 * What fsck finds: one Problem per thing that is wrong, each of a named kind. The kind says what
 * part of zerofs it concerns (the cache, the staging area, the bucket), how bad it usually is, and
 * what an operator can do about it when `--repair` cannot.
 */

export type Severity = 'error' | 'warning' | 'info'

export type ProblemGroup = 'cache' | 'staging' | 'bucket'

export type ProblemKind =
  | 'cache-integrity'
  | 'cache-schema'
  | 'cache-orphan'
  | 'cache-cycle'
  | 'cache-rename-pending'
  | 'cache-missing-object'
  | 'cache-differs'
  | 'cache-stale-listing'
  | 'staging-not-uploaded'
  | 'staging-missing-file'
  | 'staging-stray-file'
  | 'staging-lost-entry'
  | 'nbd-dirty-chunks'
  | 'bucket-invalid-key'
  | 'bucket-name-conflict'
  | 'bucket-invalid-attributes'
  | 'bucket-empty-symlink'
  | 'bucket-implicit-directory'
  | 'bucket-stale-upload'
  | 'bucket-uploads-unlisted'
  | 'nbd-invalid-manifest'
  | 'nbd-chunk-beyond-size'
  | 'nbd-chunk-wrong-size'

export interface Problem {
  kind: ProblemKind
  severity: Severity
  /** The store key it concerns (bucket problems). */
  key?: string
  /** The path it concerns: `/a/b` inside the store, or a file of the cache directory. */
  path?: string
  detail: string
  repaired: boolean
}

export interface ProblemKindInfo {
  group: ProblemGroup
  /** One line: what this kind of problem is. */
  title: string
  /** What to do when it is left (not repaired). */
  advice: string
}

/** Every kind, in the order reports list them (cache, staging, bucket). */
export const PROBLEM_KINDS: Readonly<Record<ProblemKind, ProblemKindInfo>> = {
  'cache-integrity': {
    group: 'cache',
    title: 'the cache database is damaged',
    advice: 'run fsck --repair: it moves the damaged cache into lost+found in the cache directory and a fresh one is built',
  },
  'cache-schema': {
    group: 'cache',
    title: 'the cache has an older schema',
    advice: 'nothing to do: the next zerofs that opens the cache (or fsck --repair) migrates it',
  },
  'cache-orphan': {
    group: 'cache',
    title: 'cache entries whose parent directory entry is missing',
    advice: 'run fsck --repair: the entries are forgotten and found again in the bucket',
  },
  'cache-cycle': {
    group: 'cache',
    title: 'cache entries whose parent links form a cycle',
    advice: 'run fsck --repair: the entries are forgotten and found again in the bucket',
  },
  'cache-rename-pending': {
    group: 'cache',
    title: 'an interrupted rename: the entry (a directory\'s keys) may be under two names in the bucket',
    advice: 'run fsck --repair (or start zerofs serve): the rename is finished',
  },
  'cache-missing-object': {
    group: 'cache',
    title: 'cache entries for objects the bucket does not have',
    advice: 'run fsck --repair: the entries are forgotten',
  },
  'cache-differs': {
    group: 'cache',
    title: 'cache entries that disagree with the bucket',
    advice: 'run fsck --repair: the entries are refreshed from the bucket',
  },
  'cache-stale-listing': {
    group: 'cache',
    title: 'cached directory listings that miss entries of the bucket',
    advice: 'run fsck --repair: the listings are read again at the next access',
  },
  'staging-not-uploaded': {
    group: 'staging',
    title: 'acknowledged writes not yet in the bucket',
    advice: 'run fsck --repair (or start zerofs serve) with the store reachable: the data is uploaded',
  },
  'staging-missing-file': {
    group: 'staging',
    title: 'journaled writes whose data file is missing',
    advice: 'run fsck --repair: entries with no written data are uploaded again from the bucket; written data that is gone cannot be recovered',
  },
  'staging-stray-file': {
    group: 'staging',
    title: 'staging files no journal entry describes',
    advice: 'run fsck --repair: they are moved to lost+found in the cache directory (never deleted); inspect and remove them there',
  },
  'staging-lost-entry': {
    group: 'staging',
    title: 'journaled writes whose file is no longer in the cache',
    advice: 'run fsck --repair: the data is moved to lost+found in the cache directory with a note of what it was',
  },
  'nbd-dirty-chunks': {
    group: 'staging',
    title: 'NBD device chunks written and not yet uploaded',
    advice: 'run fsck --repair (or serve the device again) with the store reachable: the chunks are uploaded',
  },
  'bucket-invalid-key': {
    group: 'bucket',
    title: 'keys that cannot be POSIX paths (hidden by serve)',
    advice: 'rename them with an S3 tool (aws s3 mv, rclone moveto); until then they are reachable only with zerofs ls --keys',
  },
  'bucket-name-conflict': {
    group: 'bucket',
    title: 'a file and a directory with the same name (the directory is shown)',
    advice: 'rename the file with an S3 tool (aws s3 mv, rclone moveto); until then it is reachable only with zerofs ls --keys',
  },
  'bucket-invalid-attributes': {
    group: 'bucket',
    title: 'attribute metadata that does not parse (defaults are shown instead)',
    advice: 'set the attributes again through a mount (chmod, chown, touch) or rewrite the metadata with an S3 tool',
  },
  'bucket-empty-symlink': {
    group: 'bucket',
    title: 'symbolic links with an empty target',
    advice: 'remove them or point them somewhere through a mount (rm, ln -sfn)',
  },
  'bucket-implicit-directory': {
    group: 'bucket',
    title: 'directories with no marker object (shown with default attributes)',
    advice: 'run fsck --create-markers to give them markers, or leave them: they work as they are',
  },
  'bucket-stale-upload': {
    group: 'bucket',
    title: 'incomplete multipart uploads (their parts are billed storage)',
    advice: 'run fsck --repair to abort them, or add a lifecycle rule that aborts incomplete uploads',
  },
  'bucket-uploads-unlisted': {
    group: 'bucket',
    title: 'the server cannot list incomplete multipart uploads',
    advice: 'check them with the server\'s own tools, or add a lifecycle rule that aborts incomplete uploads',
  },
  'nbd-invalid-manifest': {
    group: 'bucket',
    title: 'NBD devices whose manifest is missing or does not parse (serve cannot open them)',
    advice: 'restore .zerofs/nbd/NAME/manifest.json ({"format":1,"size":BYTES,"chunkSize":BYTES}) with an S3 tool, or delete the device\'s objects',
  },
  'nbd-chunk-beyond-size': {
    group: 'bucket',
    title: 'NBD chunk objects past the end of their device (never read)',
    advice: 'grow the device over them (--nbd-device NAME=SIZE), or delete them with an S3 tool',
  },
  'nbd-chunk-wrong-size': {
    group: 'bucket',
    title: 'NBD chunk objects of another size than their device\'s chunks',
    advice: 'the object was written by something else than zerofs: restore it from a copy, or delete it (the chunk then reads as zeros)',
  },
}

export const KIND_ORDER: readonly ProblemKind[] = Object.keys(PROBLEM_KINDS) as ProblemKind[]

/** Whether a problem counts against a clean result: info never does. */
export function counts(problem: Pick<Problem, 'severity'>): boolean {
  return problem.severity !== 'info'
}

/**
 * Beside a live process that owns the cache, what is staged or under way is its work in progress:
 * noted (info), not counted.
 */
export function asLiveOwnersWork(problem: Problem, liveOwner: number | undefined): Problem {
  if (liveOwner === undefined) return problem
  return {...problem, severity: 'info', detail: `${problem.detail} (zerofs process ${liveOwner} owns this cache and is working on it)`}
}
