/**
 * What a read's records cost in heap, measured in a child process (it needs --expose-gc). Records
 * of a batch stamped once share one boxed timestamp, and offsets stay small integers, also after a
 * full collection and in optimized code: each box more is 16 bytes and one more object for the
 * scavenger to copy per record, which showed as a 10-20% slower scan. A record with a timestamp
 * of its own needs its own box, so it is the yardstick: if the sharing broke, the two would cost
 * the same. The child runs the built package: `pnpm -r build` first (`pnpm test` does).
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('./fixtures/record-memory.mjs', import.meta.url))

it('records of a batch share its timestamp box, with read-ahead and without, plain and sourced', () => {
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', FIXTURE], { encoding: 'utf8', timeout: 60_000 })) as Record<
    string,
    { shared: number; own: number }
  >
  expect(Object.keys(out)).toEqual(['plain, read-ahead', 'plain, direct', 'sourced, read-ahead', 'sourced, direct'])
  for (const [mode, { shared, own }] of Object.entries(out)) {
    // A HeapNumber is 16 bytes: a record with its own timestamp keeps one more.
    expect(own - shared, `${mode}: ${shared.toFixed(1)} B a record with the batch's timestamp, ${own.toFixed(1)} B with its own`).toBeGreaterThan(12)
    // Nothing else boxed either: a view (96 B) and the record (64 B plain, 80 B sourced), a slot.
    expect(shared, mode).toBeLessThan(mode.startsWith('plain') ? 175 : 191)
  }
})
