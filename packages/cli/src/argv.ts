/**
 * Values that begin with '-': `-o -1h`, `--to-datetime -30m`, `--shift-by -5`. yargs reads a
 * token such as `-1h` as the short flags -1 and -h (and so prints help), where getopt would
 * take it as the option's value. For the options whose values are offsets, times, formats
 * and separators, a following token that starts with '-' and a digit is joined to its option
 * (`--offset=-1h`), so it reaches the command as the value it was meant to be.
 */

const VALUE_OPTIONS: Record<string, string> = {
  '-o': '--offset',
  '--offset': '--offset',
  '--to-datetime': '--to-datetime',
  '--to-offset': '--to-offset',
  '--shift-by': '--shift-by',
  '-f': '--format',
  '--format': '--format',
  '-K': '--key',
  '--key': '--key',
}

export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    if (token === '--') {
      out.push(...argv.slice(i))
      break
    }
    const long = VALUE_OPTIONS[token]
    const next = argv[i + 1]
    if (long !== undefined && next !== undefined && /^-\d/.test(next)) {
      out.push(`${long}=${next}`)
      i++
      continue
    }
    out.push(token)
  }
  return out
}
