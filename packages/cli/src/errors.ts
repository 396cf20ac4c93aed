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

/** The broker's errors advise API calls; on the command line the advice is a samsa command. */
const CLI_ADVICE: [RegExp, (m: RegExpExecArray) => string][] = [
  [/; create it with broker\.createTopic\(\).*$/, () => '; see samsa topic list'],
  [/^(topic "([^"]*)" has no partition .*); add partitions with broker\.createPartitions\(\)$/, (m) => `${m[1]}; add partitions with samsa topic alter ${m[2]} -p N`],
  [/; list groups with broker\.listGroups\(\)$/, () => '; see samsa group list'],
]

function cliMessage(message: string): string {
  for (const [re, advice] of CLI_ADVICE) {
    const m = re.exec(message)
    if (m !== null) return m[0] === message ? advice(m) : message.slice(0, m.index) + advice(m)
  }
  return message
}

/** One line (no stack, no embedded newlines) unless --debug, which shows the stack. */
export function formatError(err: unknown, debug: boolean): string {
  if (debug && err instanceof Error && err.stack) return err.stack
  return oneLine(describeError(err))
}

function describeError(err: unknown): string {
  if (err instanceof SamsaError) return `samsa: ${cliMessage(err.message)} (${err.code})`
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    return `samsa: ${err.message}${code ? ` (${code})` : ''}`
  }
  return `samsa: ${String(err)}`
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ')
}
