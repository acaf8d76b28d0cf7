import type {Caller} from '../../core/fs/types.js'
import type {Credentials} from './message.js'

/**
 * Who an AUTH_SYS caller is taken to be (`--squash`, as knfsd's root_squash and all_squash):
 * `none` trusts the credentials as sent; `root` maps uid 0 and gid 0 (also among the supplementary
 * groups) to the anonymous ids; `all` maps everyone to them. AUTH_NONE callers are always anonymous.
 */
export type SquashMode = 'none' | 'root' | 'all'

export const SQUASH_MODES: readonly SquashMode[] = ['none', 'root', 'all']

export interface Squash {
  mode: SquashMode
  anonUid: number
  anonGid: number
}

/** nobody/nogroup: knfsd's default anonuid and anongid. */
export const ANONYMOUS_ID = 65534

export const NO_SQUASH: Squash = {mode: 'none', anonUid: ANONYMOUS_ID, anonGid: ANONYMOUS_ID}

export function callerOf(credentials: Credentials, squash: Squash): Caller {
  if (credentials.flavor !== 'sys' || squash.mode === 'all') return {uid: squash.anonUid, gid: squash.anonGid, gids: []}
  const {uid, gid, gids} = credentials
  if (squash.mode === 'none') return {uid, gid, gids}
  const group = (id: number): number => (id === 0 ? squash.anonGid : id)
  return {uid: uid === 0 ? squash.anonUid : uid, gid: group(gid), gids: gids.map(group)}
}
