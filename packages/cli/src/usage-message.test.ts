import { describe, expect, it } from 'vitest'
import { usageMessage } from './usage-message.js'

describe('usageMessage', () => {
  it('names unknown options with the dashes the user typed', () => {
    expect(usageMessage('Unknown argument: bogus', ['consume', 't', '--bogus'])).toBe('unknown option --bogus')
    expect(usageMessage('Unknown arguments: a, b', ['topic', 'list', '--a=1', '-b'])).toBe('unknown option --a; unknown option -b')
  })

  it('calls an unknown word after samsa or a noun an unknown command, and lists the choices', () => {
    expect(usageMessage('Unknown argument: frob', ['--data-dir', '/tmp/x', 'frob'])).toBe(
      'unknown command "frob"; samsa takes topic, produce, consume, tail, group, log, retention or serve',
    )
    expect(usageMessage('Unknown argument: frob', ['topic', 'frob'])).toBe('unknown command "frob"; samsa topic takes create, list, describe, delete or alter')
    expect(usageMessage('Unknown argument: extra', ['consume', 't', 'extra'])).toBe('unexpected argument "extra"')
  })

  it('puts the mistyped command next to the suggestion', () => {
    expect(usageMessage('Did you mean group?', ['gruop', 'list'])).toBe('unknown command "gruop"; did you mean group?')
  })

  it('makes multi-line messages one line', () => {
    expect(usageMessage('Invalid values:\n  Argument: encoding, Given: "rot13", Choices: "utf8", "hex"', ['consume'])).toBe(
      'invalid value "rot13" for --encoding; choose one of "utf8", "hex"',
    )
    expect(usageMessage('first\n  second', [])).toBe('first; second')
    expect(usageMessage('Not enough non-option arguments: got 0, need at least 1', ['consume'])).toBe(
      'samsa consume is missing an argument (got 0, needs 1); see samsa consume --help',
    )
  })
})
