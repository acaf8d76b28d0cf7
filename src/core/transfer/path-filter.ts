import {compileGlob, type Glob} from './glob.js'

export interface FilterRules {
  /** Globs of entries to leave out; an excluded directory takes its whole subtree with it. */
  exclude?: readonly string[]
  /** When given, only non-directories matching one of these are taken (directories are still walked). */
  include?: readonly string[]
}

/**
 * Which entries of a tree a transfer or comparison takes, from `--exclude` and `--include` globs
 * (see glob.ts). Excludes win over includes. Directories are never dropped for failing to match an
 * include, so that `--include '*.jpg'` still finds the pictures deep in the tree.
 *
 * Callers walk trees top-down and ask about each directory before its contents: `excludes` judges
 * one entry, not its ancestors.
 */
export class PathFilter {
  private readonly excluded: Glob[]
  private readonly included: Glob[]

  constructor(rules: FilterRules = {}) {
    this.excluded = (rules.exclude ?? []).map(compileGlob)
    this.included = (rules.include ?? []).map(compileGlob)
  }

  get isEmpty(): boolean {
    return this.excluded.length === 0 && this.included.length === 0
  }

  excludes(path: string, isDirectory: boolean): boolean {
    if (this.excluded.some((glob) => glob.matches(path, isDirectory))) return true
    if (isDirectory || this.included.length === 0) return false
    return !this.included.some((glob) => glob.matches(path, false))
  }
}
