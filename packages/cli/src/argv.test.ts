import { describe, expect, it } from 'vitest'
import { normalizeArgv } from './argv.js'

describe('normalizeArgv', () => {
  it('joins a value that starts with a dash and a digit to its option', () => {
    expect(normalizeArgv(['consume', 't', '-o', '-1h'])).toEqual(['consume', 't', '--offset=-1h'])
    expect(normalizeArgv(['group', 'reset-offsets', 'g', '--to-datetime', '-30m', '--execute'])).toEqual(['group', 'reset-offsets', 'g', '--to-datetime=-30m', '--execute'])
    expect(normalizeArgv(['x', '--shift-by', '-5'])).toEqual(['x', '--shift-by=-5'])
    expect(normalizeArgv(['x', '-K', '-1'])).toEqual(['x', '--key=-1'])
  })

  it('leaves flags, other values and everything after -- alone', () => {
    expect(normalizeArgv(['consume', 't', '-o', 'start', '-e'])).toEqual(['consume', 't', '-o', 'start', '-e'])
    expect(normalizeArgv(['consume', 't', '-o', '-e'])).toEqual(['consume', 't', '-o', '-e'])
    expect(normalizeArgv(['consume', 't', '-n', '-1'])).toEqual(['consume', 't', '-n', '-1'])
    expect(normalizeArgv(['x', '--', '-o', '-1h'])).toEqual(['x', '--', '-o', '-1h'])
    expect(normalizeArgv(['x', '-o'])).toEqual(['x', '-o'])
  })
})
