import { describe, expect, it } from 'vitest'
import { compileFormat, recordJson, type FormattableRecord } from './record-format.js'

const rec: FormattableRecord = {
  topic: 'orders',
  partition: 3,
  offset: 42,
  timestamp: 1700000000123,
  key: Buffer.from('k1'),
  value: Buffer.from('héllo'),
  headers: [
    { key: 'a', value: Buffer.from('1') },
    { key: 'b', value: null },
  ],
}

describe('kcat format strings', () => {
  it('expands every field', () => {
    const f = compileFormat('%t|%p|%o|%k|%v|%T|%h|%K|%V')
    expect(f(rec)).toBe('orders|3|42|k1|héllo|1700000000123|a=1,b=|2|6')
  })

  it('handles escapes, %% and the %s/%S aliases', () => {
    expect(compileFormat('%k\\t%s\\n')(rec)).toBe('k1\théllo\n')
    expect(compileFormat('100%% %S')(rec)).toBe('100% 6')
    expect(compileFormat('a\\\\b')(rec)).toBe('a\\b')
  })

  it('prints null keys and values as empty with length -1', () => {
    const f = compileFormat('[%k][%v] %K %V')
    expect(f({ ...rec, key: null, value: null })).toBe('[][] -1 -1')
  })

  it('encodes binary data as base64 or hex on request', () => {
    const bin = { ...rec, value: Buffer.from([0, 255, 16]) }
    expect(compileFormat('%v', 'hex')(bin)).toBe('00ff10')
    expect(compileFormat('%v', 'base64')(bin)).toBe('AP8Q')
    expect(recordJson(bin, 'hex').value).toBe('00ff10')
  })

  it('rejects unknown sequences with a usage error', () => {
    expect(() => compileFormat('%z')).toThrow(expect.objectContaining({ code: 'SAMSA_USAGE' }))
  })

  it('json has topic, partition, offset, timestamp, headers, key and value as UTF-8 strings', () => {
    expect(recordJson(rec)).toEqual({
      topic: 'orders',
      partition: 3,
      offset: 42,
      timestamp: 1700000000123,
      headers: [
        { key: 'a', value: '1' },
        { key: 'b', value: null },
      ],
      key: 'k1',
      value: 'héllo',
    })
  })
})
