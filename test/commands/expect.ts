import assert from 'node:assert/strict'

import type {CliResult} from '../helpers/cli.js'

/** A successful run with nothing on stderr. */
export function assertSuccess(result: CliResult): void {
  assert.equal(result.stderr, '', 'no stderr on success')
  assert.equal(result.code, 0, `exit code 0 (stderr: ${result.stderr})`)
}

/** The error contract of ls and cat: exit 2, exactly one stderr line naming the cause, no stack trace. */
export function assertFailure(result: CliResult, cause: RegExp): void {
  const stderrLines = result.stderr.replace(/\n$/, '').split('\n')
  assert.equal(stderrLines.length, 1, `exactly one stderr line, got:\n${result.stderr}`)
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace')
  assert.match(stderrLines[0], cause)
  assert.equal(result.code, 2, 'exit code 2')
}
