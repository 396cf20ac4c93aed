/**
 * How the CLI fails: one line on stderr, no stack trace unless --debug; exit status 1 for a
 * failed command, 2 for a usage error (an unknown flag, a malformed offset expression).
 */
import { SamsaError } from '@samsa/log'

export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** A command line that cannot be run as given. */
export class UsageError extends SamsaError {
  constructor(message: string) {
    super('SAMSA_USAGE', message)
  }
}

/** A command that ran and found something wrong (a corrupt segment): its message is the answer. */
export class CommandFailed extends SamsaError {
  constructor(message: string, code = 'SAMSA_COMMAND_FAILED') {
    super(code, message)
  }
}

export function exitCodeFor(err: unknown): number {
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE
}

export function formatError(err: unknown, debug: boolean): string {
  if (debug && err instanceof Error && err.stack) return err.stack
  if (err instanceof SamsaError) return `samsa: ${err.message} (${err.code})`
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    return `samsa: ${err.message}${code ? ` (${code})` : ''}`
  }
  return `samsa: ${String(err)}`
}
