import { describe, expect, it } from 'vitest'
import { parseOffsetSpec, parseTime, resolveStart } from './offset-spec.js'

const NOW = Date.parse('2026-11-24T12:00:00Z')
const parse = (s: string) => parseOffsetSpec(s, NOW)

describe('rpk offset grammar', () => {
  it('start, end and their aliases', () => {
    for (const s of ['start', 'oldest', 'beginning']) expect(parse(s).start).toEqual({ kind: 'start' })
    for (const s of ['end', 'newest']) expect(parse(s).start).toEqual({ kind: 'end' })
    expect(parse('start').end).toEqual({ kind: 'none' })
  })

  it('exact, +N and -N offsets', () => {
    expect(parse('47')).toEqual({ start: { kind: 'offset', offset: 47 }, end: { kind: 'none' } })
    expect(parse('+5').start).toEqual({ kind: 'fromStart', delta: 5 })
    expect(parse('-3').start).toEqual({ kind: 'fromEnd', delta: 3 })
  })

  it('offset ranges', () => {
    expect(parse('10:20')).toEqual({ start: { kind: 'offset', offset: 10 }, end: { kind: 'offset', offset: 20 } })
    expect(parse(':20')).toEqual({ start: { kind: 'start' }, end: { kind: 'offset', offset: 20 } })
    expect(parse('10:')).toEqual({ start: { kind: 'offset', offset: 10 }, end: { kind: 'none' } })
    expect(parse(':end')).toEqual({ start: { kind: 'start' }, end: { kind: 'end' } })
    expect(() => parse('20:10')).toThrow(/before the start/)
  })

  it('times: RFC 3339, dates, epoch ms and seconds, relative', () => {
    expect(parse('@2026-11-24T10:00:00Z').start).toEqual({ kind: 'time', timestamp: Date.parse('2026-11-24T10:00:00Z') })
    expect(parse('@2026-11-24T10:00:00+02:00').start).toEqual({ kind: 'time', timestamp: Date.parse('2026-11-24T08:00:00Z') })
    expect(parse('@2026-11-24').start).toEqual({ kind: 'time', timestamp: Date.parse('2026-11-24T00:00:00Z') })
    expect(parse('@1795518794941').start).toEqual({ kind: 'time', timestamp: 1795518794941 })
    expect(parse('@1795518794').start).toEqual({ kind: 'time', timestamp: 1795518794000 })
    expect(parse('@-1h').start).toEqual({ kind: 'time', timestamp: NOW - 3_600_000 })
    expect(parse('@-30m').start).toEqual({ kind: 'time', timestamp: NOW - 1_800_000 })
    expect(parse('@-2d').start).toEqual({ kind: 'time', timestamp: NOW - 2 * 86_400_000 })
  })

  it('time ranges, with RFC 3339 colons and a duration end', () => {
    expect(parse('@2026-11-24T10:00:00Z:2026-11-24T11:00:00Z')).toEqual({
      start: { kind: 'time', timestamp: Date.parse('2026-11-24T10:00:00Z') },
      end: { kind: 'time', timestamp: Date.parse('2026-11-24T11:00:00Z') },
    })
    expect(parse('@-2h:1h')).toEqual({
      start: { kind: 'time', timestamp: NOW - 7_200_000 },
      end: { kind: 'time', timestamp: NOW - 3_600_000 },
    })
    expect(parse('@1000:2000').end).toEqual({ kind: 'time', timestamp: 2000 })
  })

  it('rejects nonsense with a usage error naming the grammar', () => {
    for (const s of ['', 'abc', '-x', '+', '@', '@yesterday', '1.5', '@-1fortnight', '10:abc']) {
      expect(() => parse(s), s).toThrow(expect.objectContaining({ code: 'SAMSA_USAGE' }))
    }
    expect(() => parse('abc')).toThrow(/start, end, N, \+N, -N, @TIME/)
  })

  it('parseTime rejects invalid dates', () => {
    expect(() => parseTime('2026-13-45', NOW)).toThrow()
  })

  it('resolves against a partition, clamped to its offsets', async () => {
    const ts = async (ms: number) => (ms <= 500 ? 7 : null)
    expect(await resolveStart({ kind: 'start' }, 5, 50, ts)).toBe(5)
    expect(await resolveStart({ kind: 'end' }, 5, 50, ts)).toBe(50)
    expect(await resolveStart({ kind: 'offset', offset: 2 }, 5, 50, ts)).toBe(5)
    expect(await resolveStart({ kind: 'offset', offset: 99 }, 5, 50, ts)).toBe(50)
    expect(await resolveStart({ kind: 'fromStart', delta: 3 }, 5, 50, ts)).toBe(8)
    expect(await resolveStart({ kind: 'fromEnd', delta: 3 }, 5, 50, ts)).toBe(47)
    expect(await resolveStart({ kind: 'fromEnd', delta: 300 }, 5, 50, ts)).toBe(5)
    expect(await resolveStart({ kind: 'time', timestamp: 100 }, 5, 50, ts)).toBe(7)
    expect(await resolveStart({ kind: 'time', timestamp: 900 }, 5, 50, ts)).toBe(50)
  })
})
