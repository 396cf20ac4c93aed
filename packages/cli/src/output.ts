/**
 * Output for people (aligned tables, human-readable sizes) and for machines (--json: one JSON
 * value per line). Writes go through `out`, which waits for a full pipe instead of buffering
 * without bound, so `samsa consume ... | head` and slow readers work.
 */
import { once } from 'node:events'

export async function out(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain')
}

export async function outLine(text: string): Promise<void> {
  await out(text + '\n')
}

export async function outJson(value: unknown): Promise<void> {
  await outLine(JSON.stringify(value))
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => String(c)))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)))
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'))
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  return [line(headers), ...cells.map(line)].join('\n')
}

export function isoTime(ms: number): string {
  return Number.isFinite(ms) && ms >= 0 ? new Date(ms).toISOString() : String(ms)
}
