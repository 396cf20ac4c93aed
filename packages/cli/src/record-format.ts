/**
 * kcat's -f format strings: %t topic, %p partition, %o offset, %k key, %v (or %s) value,
 * %T timestamp (ms), %h headers (k=v,...), %K key length, %V (or %S) value length, %% a percent
 * sign; \n, \t, \r and \\ escapes. A null key or value prints as kcat's default, empty, and its
 * length as -1. `--json` prints one object per record instead.
 */
import { UsageError } from './errors.js'

export interface FormattableRecord {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: { key: string; value: Buffer | null }[]
}

export type Encoding = 'utf8' | 'base64' | 'hex'

type Piece = string | ((r: FormattableRecord) => string)

function text(b: Buffer | null, enc: Encoding): string {
  return b === null ? '' : b.toString(enc)
}

/** Compile a format string once; the result formats each record without re-parsing. */
export function compileFormat(format: string, encoding: Encoding = 'utf8'): (r: FormattableRecord) => string {
  const pieces: Piece[] = []
  let lit = ''
  for (let i = 0; i < format.length; i++) {
    const c = format[i]
    if (c === '\\' && i + 1 < format.length) {
      const n = format[++i]
      lit += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === '\\' ? '\\' : '\\' + n
      continue
    }
    if (c !== '%') {
      lit += c
      continue
    }
    const f = format[++i]
    let piece: Piece
    switch (f) {
      case '%':
        lit += '%'
        continue
      case 't':
        piece = (r) => r.topic
        break
      case 'p':
        piece = (r) => String(r.partition)
        break
      case 'o':
        piece = (r) => String(r.offset)
        break
      case 'k':
        piece = (r) => text(r.key, encoding)
        break
      case 'v':
      case 's':
        piece = (r) => text(r.value, encoding)
        break
      case 'K':
        piece = (r) => String(r.key === null ? -1 : r.key.length)
        break
      case 'V':
      case 'S':
        piece = (r) => String(r.value === null ? -1 : r.value.length)
        break
      case 'T':
        piece = (r) => String(r.timestamp)
        break
      case 'h':
        piece = (r) => r.headers.map((h) => `${h.key}=${text(h.value, encoding)}`).join(',')
        break
      default:
        throw new UsageError(
          `unknown format sequence %${f ?? ''} in ${JSON.stringify(format)}; use %t %p %o %k %v %T %h %K %V or %%`,
        )
    }
    if (lit) pieces.push(lit)
    lit = ''
    pieces.push(piece)
  }
  if (lit) pieces.push(lit)
  return (r) => {
    let s = ''
    for (const p of pieces) s += typeof p === 'string' ? p : p(r)
    return s
  }
}

export function recordJson(r: FormattableRecord, encoding: Encoding = 'utf8'): Record<string, unknown> {
  const enc = (b: Buffer | null) => (b === null ? null : b.toString(encoding))
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    headers: r.headers.map((h) => ({ key: h.key, value: enc(h.value) })),
    key: enc(r.key),
    value: enc(r.value),
  }
}
