/**
 * Glob patterns as `--exclude` and `--include` take them, matched against paths relative to the
 * tree's root (`a/b/c.txt`, never a leading slash):
 *
 * - `*` any run of characters except `/`; `**` any run including `/`; `?` one character except `/`
 * - `[abc]`, `[a-z]`, `[!abc]` (or `[^abc]`) one character of (not of) a set, never `/`
 * - `{jpg,png}` one of the alternatives (not nested)
 * - `\x` the character x itself
 *
 * A pattern that starts with `/` is anchored at the root; any other pattern matches whole trailing
 * path components (`*.tmp` matches `x.tmp` and `a/b/x.tmp`; `cache/*.db` matches `a/cache/x.db`).
 * A pattern that ends with `/` matches directories only.
 */
export interface Glob {
  readonly pattern: string
  readonly directoryOnly: boolean
  matches(path: string, isDirectory: boolean): boolean
}

export class GlobSyntaxError extends Error {
  constructor(pattern: string, why: string) {
    super(`invalid pattern "${pattern}": ${why}`)
    this.name = 'GlobSyntaxError'
  }
}

export function compileGlob(pattern: string): Glob {
  if (pattern === '' || pattern === '/') throw new GlobSyntaxError(pattern, 'empty')
  const anchored = pattern.startsWith('/')
  const directoryOnly = pattern.endsWith('/') && !pattern.endsWith('\\/')
  const body = pattern.slice(anchored ? 1 : 0, directoryOnly ? -1 : undefined)
  if (body === '') throw new GlobSyntaxError(pattern, 'empty')
  const source = translate(body, pattern)
  const regex = new RegExp(`${anchored ? '^' : '(?:^|/)'}${source}$`, 'u')
  return {
    pattern,
    directoryOnly,
    matches: (path, isDirectory) => (!directoryOnly || isDirectory) && regex.test(path),
  }
}

function translate(glob: string, pattern: string): string {
  let out = ''
  let inAlternatives = false
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index]
    switch (char) {
      case '\\': {
        if (index + 1 >= glob.length) throw new GlobSyntaxError(pattern, 'it ends with a lone backslash')
        out += escapeRegex(glob[++index])
        break
      }
      case '*': {
        if (glob[index + 1] === '*') {
          index++
          // `**/` also matches no directory at all: `a/**/b` matches `a/b`.
          if (glob[index + 1] === '/') {
            index++
            out += '(?:.*/)?'
          } else {
            out += '.*'
          }
        } else {
          out += '[^/]*'
        }
        break
      }
      case '?':
        out += '[^/]'
        break
      case '[': {
        const end = glob.indexOf(']', index + 2)
        if (end === -1) throw new GlobSyntaxError(pattern, 'a "[" has no closing "]"')
        let set = glob.slice(index + 1, end)
        const negated = set.startsWith('!') || set.startsWith('^')
        if (negated) set = set.slice(1)
        const members = set.replace(/[\\\]^]/g, (special) => `\\${special}`)
        out += negated ? `[^/${members}]` : `(?!/)[${members}]`
        index = end
        break
      }
      case '{':
        if (inAlternatives) throw new GlobSyntaxError(pattern, 'nested "{" is not supported')
        inAlternatives = true
        out += '(?:'
        break
      case '}':
        if (!inAlternatives) throw new GlobSyntaxError(pattern, 'a "}" has no opening "{"')
        inAlternatives = false
        out += ')'
        break
      case ',':
        out += inAlternatives ? '|' : ','
        break
      default:
        out += escapeRegex(char)
    }
  }
  if (inAlternatives) throw new GlobSyntaxError(pattern, 'a "{" has no closing "}"')
  return out
}

function escapeRegex(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char
}
