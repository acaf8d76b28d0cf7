/**
 * Errors of the transfer engines. A TransferError stops a whole run before or while it works (a
 * source that is not a directory, another run of the same migration in progress); problems with
 * single entries are not errors but notes in the run's report. Store failures stay StoreErrors.
 */
export type TransferErrorCode =
  | 'Usage'      // the arguments cannot work: two local trees, a source that is not a directory
  | 'Busy'       // another run of the same migration holds its journal
  | 'Failed'

export class TransferError extends Error {
  readonly code: TransferErrorCode

  constructor(code: TransferErrorCode, message: string, options?: {cause?: unknown}) {
    super(message, {cause: options?.cause})
    this.name = 'TransferError'
    this.code = code
  }
}

export function isTransferError(error: unknown, code?: TransferErrorCode): error is TransferError {
  return error instanceof TransferError && (code === undefined || error.code === code)
}

export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

/** `permission denied (EACCES)` from a Node error, without the syscall and path it repeats. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const known = /^([A-Z0-9]+): ([^,]+)/.exec(message)
  if (known) return `${known[2]} (${known[1]})`
  const code = errnoOf(error)
  return code ? `${message} (${code})` : message
}

/** Why one entry could not be transferred; the run notes it and goes on. */
export class EntryFailure extends Error {
  constructor(reason: string, options?: {cause?: unknown}) {
    super(reason, options)
    this.name = 'EntryFailure'
  }
}
