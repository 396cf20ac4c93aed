/**
 * What a read's records cost in heap, measured in child processes (they need --expose-gc).
 * - Records of a batch stamped once share one boxed timestamp, and offsets stay small integers,
 *   also after a full collection and in optimized code: each box more is 16 bytes and one more
 *   object for the scavenger to copy per record, which showed as a 10-20% slower scan. A record
 *   with a timestamp of its own needs its own box, so it is the yardstick: if the sharing broke,
 *   the two would cost the same.
 * - A scan does not keep its previous read alive while the next one builds (Log.read builds once
 *   its caller has suspended): held, it doubled what every young collection copied.
 * The children run the built package: `pnpm -r build` first (`pnpm test` does).
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('./fixtures/record-memory.mjs', import.meta.url))
const RETENTION = fileURLToPath(new URL('./fixtures/read-retention.mjs', import.meta.url))

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

it('a scan written as `const records = await log.read(...)` in a loop holds no earlier read while the next one builds', () => {
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', RETENTION], { encoding: 'utf8', timeout: 60_000 })) as {
    samples: number
    readsHeld: number
    maxHeldBytes: number
    reads: number
  }
  expect(out.samples).toBeGreaterThan(30)
  // Held, a read's records (~1.5 MB) are copied by every young collection of the next read.
  expect(out.readsHeld, `${out.readsHeld} of ${out.samples} reads began with an earlier read held (up to ${out.maxHeldBytes} bytes)`).toBe(0)
})
