/**
 * The core's only way to speak: an injected logger with four levels. The core never prints; a
 * command or server passes a logger that writes where it wants, and the default stays silent.
 */
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

const ignore = (): void => {}

export const silentLogger: Logger = {debug: ignore, info: ignore, warn: ignore, error: ignore}
