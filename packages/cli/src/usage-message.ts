/**
 * yargs' own usage errors, reworded for a one-line error: they arrive without the dashes the
 * user typed ("Unknown argument: bogus"), on several lines ("Invalid values:\n  Argument: ..."),
 * or without the word that was wrong ("Did you mean group?").
 */

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length]
}

const NOUNS: Record<string, string> = {
  samsa: 'topic, produce, consume, tail, group, log, retention or serve',
  'samsa topic': 'create, list, describe, delete or alter',
  'samsa group': 'list, describe, reset-offsets or delete',
  'samsa log': 'dump or verify',
  'samsa retention': 'run',
}

function words(argv: readonly string[]): string[] {
  return argv.filter((t) => !t.startsWith('-'))
}

/** The command words the user typed before the first option or argument yargs did not expect. */
function commandPath(argv: readonly string[]): string {
  const known = new Set(['topic', 'group', 'log', 'retention', 'produce', 'consume', 'tail', 'serve', 'create', 'list', 'describe', 'delete', 'alter', 'reset-offsets', 'dump', 'verify', 'run'])
  const path: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]
    if (t === '--data-dir') i++
    if (t.startsWith('-')) continue
    if (!known.has(t)) break
    path.push(t)
  }
  return ['samsa', ...path].join(' ')
}

function unknownArgument(name: string, argv: readonly string[]): string {
  const asOption = argv.find((t) => t === `--${name}` || t.startsWith(`--${name}=`) || t === `-${name}` || t.startsWith(`-${name}=`))
  if (asOption !== undefined) return `unknown option ${asOption.split('=')[0]}`
  return `unexpected argument ${JSON.stringify(name)}`
}

export function usageMessage(msg: string | null | undefined, argv: readonly string[]): string {
  const text = (msg ?? '').trim()
  let m = /^Unknown arguments?: (.*)$/s.exec(text)
  if (m !== null) {
    const names = m[1].split(', ')
    // A word after `samsa` or after a noun (`samsa topic frob`) is an unknown command, not a stray argument.
    const cmd = commandPath(argv)
    const asWord = !argv.some((t) => t.startsWith('-') && t.replace(/^-+/, '').split('=')[0] === names[0])
    if (names.length === 1 && asWord && NOUNS[cmd] !== undefined) {
      return `unknown command ${JSON.stringify(names[0])}; ${cmd} takes ${NOUNS[cmd]}`
    }
    return names.map((n) => unknownArgument(n, argv)).join('; ')
  }
  m = /^Did you mean (.+)\?$/.exec(text)
  if (m !== null) {
    const suggestion = m[1]
    const typed = words(argv)
      .filter((w) => w !== suggestion)
      .sort((a, b) => editDistance(a, suggestion) - editDistance(b, suggestion))[0]
    return `unknown command${typed !== undefined ? ` ${JSON.stringify(typed)}` : ''}; did you mean ${suggestion}?`
  }
  m = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(text)
  if (m !== null) {
    const cmd = commandPath(argv)
    return `${cmd} is missing an argument (got ${m[1]}, needs ${m[2]}); see ${cmd} --help`
  }
  if (text.startsWith('Invalid values:')) {
    const parts = [...text.matchAll(/Argument: (\S+), Given: (.+?), Choices: (.+)$/gm)].map(
      (x) => `invalid value ${x[2]} for --${x[1]}; choose one of ${x[3]}`,
    )
    if (parts.length > 0) return parts.join('; ')
  }
  return text.replace(/\s*\n\s*/g, '; ')
}
