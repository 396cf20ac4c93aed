/**
 * rpk's offset grammar for `samsa consume -o`:
 *   start | oldest          from the log start          end | newest   from the log end
 *   N                       from exact offset N         +N             N after the log start
 *   -N                      N before the log end        @T             first record at or after time T
 *   N:M                     from N until M (exclusive)  :M             from the start until M
 *   N:end, :end             until the log end as it was when consuming began
 *   @T1:T2                  from time T1 until time T2 (T2 may be a duration after T1, e.g. @-2h:1h)
 * T is RFC 3339 (2024-01-02T15:04:05Z, or a date 2024-01-02), milliseconds since the epoch (or
 * 10-digit seconds), or a duration before now such as -1h, -30m, -90s, -2d.
 */
import { UsageError } from './errors.js'

export type StartSpec =
  | { kind: 'start' }
  | { kind: 'end' }
  | { kind: 'offset'; offset: number }
  | { kind: 'fromStart'; delta: number }
  | { kind: 'fromEnd'; delta: number }
  | { kind: 'time'; timestamp: number }

export type EndSpec = { kind: 'none' } | { kind: 'end' } | { kind: 'offset'; offset: number } | { kind: 'time'; timestamp: number }

export interface OffsetSpec {
  start: StartSpec
  end: EndSpec
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

function bad(spec: string, why: string): UsageError {
  return new UsageError(
    `bad offset ${JSON.stringify(spec)}: ${why}; use start, end, N, +N, -N, @TIME, N:M or @T1:T2 (TIME: RFC 3339, epoch ms, or -1h)`,
  )
}

function parseDuration(text: string): number | null {
  const m = DURATION.exec(text)
  return m === null ? null : Number(m[1]) * UNIT_MS[m[2]]
}

/** A point in time: RFC 3339, epoch ms (or 10-digit seconds), or `-DURATION` before `now`. */
export function parseTime(text: string, now: number, spec = text): number {
  if (text.startsWith('-')) {
    const d = parseDuration(text.slice(1))
    if (d === null) throw bad(spec, `${text} is not a duration like -1h, -30m or -2d`)
    return now - d
  }
  if (/^\d+$/.test(text)) {
    const n = Number(text)
    return text.length === 10 ? n * 1000 : n
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const ms = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text)
    if (!Number.isNaN(ms)) return ms
  }
  throw bad(spec, `${text} is not a time (RFC 3339, epoch milliseconds, or a duration ago like -1h)`)
}

function parseCount(text: string, spec: string): number {
  if (!/^\d+$/.test(text)) throw bad(spec, `${text} is not a non-negative whole number`)
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw bad(spec, `${text} is too large`)
  return n
}

function parseStart(text: string, spec: string): StartSpec {
  if (text === 'start' || text === 'oldest' || text === 'beginning' || text === '') return { kind: 'start' }
  if (text === 'end' || text === 'newest') return { kind: 'end' }
  if (text.startsWith('+')) return { kind: 'fromStart', delta: parseCount(text.slice(1), spec) }
  if (text.startsWith('-')) return { kind: 'fromEnd', delta: parseCount(text.slice(1), spec) }
  return { kind: 'offset', offset: parseCount(text, spec) }
}

export function parseOffsetSpec(spec: string, now = Date.now()): OffsetSpec {
  const text = spec.trim()
  if (text.length === 0) throw bad(spec, 'it is empty')
  if (text.startsWith('@')) {
    const body = text.slice(1)
    // RFC 3339 times contain colons: a range is split at a colon that is followed by a time or duration only.
    const split = splitTimeRange(body)
    if (split === null) {
      if (body === '') throw bad(spec, 'a time is missing after @')
      return { start: { kind: 'time', timestamp: parseTime(body, now, spec) }, end: { kind: 'none' } }
    }
    const [a, b] = split
    const start: StartSpec = a === '' ? { kind: 'start' } : { kind: 'time', timestamp: parseTime(a, now, spec) }
    if (b === '' || b === 'end') return { start, end: b === '' ? { kind: 'none' } : { kind: 'end' } }
    const dur = parseDuration(b)
    if (dur !== null) {
      if (start.kind !== 'time') throw bad(spec, 'an end given as a duration needs a start time')
      return { start, end: { kind: 'time', timestamp: start.timestamp + dur } }
    }
    return { start, end: { kind: 'time', timestamp: parseTime(b, now, spec) } }
  }
  const colon = text.indexOf(':')
  if (colon < 0) return { start: parseStart(text, spec), end: { kind: 'none' } }
  const a = text.slice(0, colon)
  const b = text.slice(colon + 1)
  const start = parseStart(a, spec)
  if (b === '') return { start, end: { kind: 'none' } }
  if (b === 'end') return { start, end: { kind: 'end' } }
  const endOffset = parseCount(b, spec)
  if (start.kind === 'offset' && endOffset < start.offset) throw bad(spec, `the end ${endOffset} is before the start ${start.offset}`)
  return { start, end: { kind: 'offset', offset: endOffset } }
}

/** Split `T1:T2` where T1 and T2 may themselves hold colons (RFC 3339). Null if it is one time. */
function splitTimeRange(body: string): [string, string] | null {
  for (let i = 0; i <= body.length; i++) {
    if (body[i] !== ':') continue
    const a = body.slice(0, i)
    const b = body.slice(i + 1)
    if (isTimeOrEmpty(a) && (b === '' || b === 'end' || parseDuration(b) !== null || isTimeOrEmpty(b))) return [a, b]
  }
  return null
}

function isTimeOrEmpty(text: string): boolean {
  if (text === '') return true
  try {
    parseTime(text, 0)
    return true
  } catch {
    return false
  }
}

/** Where to start in a partition, given its offsets and a timestamp lookup. */
export async function resolveStart(
  start: StartSpec,
  logStartOffset: number,
  logEndOffset: number,
  offsetForTimestamp: (ms: number) => Promise<number | null>,
): Promise<number> {
  const clamp = (n: number) => Math.min(Math.max(n, logStartOffset), logEndOffset)
  switch (start.kind) {
    case 'start':
      return logStartOffset
    case 'end':
      return logEndOffset
    case 'offset':
      return clamp(start.offset)
    case 'fromStart':
      return clamp(logStartOffset + start.delta)
    case 'fromEnd':
      return clamp(logEndOffset - start.delta)
    case 'time':
      return (await offsetForTimestamp(start.timestamp)) ?? logEndOffset
  }
}
