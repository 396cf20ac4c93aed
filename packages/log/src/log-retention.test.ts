import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Log } from './log.js'
import type { BatchHeader } from './record-batch.js'

const made: string[] = []
const tmp = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-log-retention-'))
  made.push(dir)
  return dir
}
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const T0 = 1_700_000_000_000
/** Two batches of one 100-byte record fit a segment of this size; the third rolls. */
const SEGMENT_BYTES = 500

async function filled(batches: number, clock = { now: T0 }, step = 1000) {
  const dir = tmp()
  const log = await Log.open(dir, { segmentBytes: SEGMENT_BYTES, now: () => clock.now })
  for (let i = 0; i < batches; i++) {
    clock.now = T0 + i * step
    await log.append([{ value: 'x'.repeat(100) }])
  }
  return { dir, log, clock }
}

describe('Log.listSegments', () => {
  it("gives each segment's largest timestamp, also after a reopen", async () => {
    const { dir, log } = await filled(5)
    const expected = [
      [0, T0 + 1000],
      [2, T0 + 3000],
      [4, T0 + 4000],
    ]
    expect(log.listSegments().map((s) => [s.baseOffset, s.largestTimestamp])).toEqual(expected)
    await log.close()
    const reopened = await Log.open(dir, { segmentBytes: SEGMENT_BYTES })
    expect(reopened.listSegments().map((s) => [s.baseOffset, s.largestTimestamp])).toEqual(expected)
    await reopened.close()
  })
})

describe('Log.enforceRetention', () => {
  it('deletes the prefix of segments older than retentionMs, through the log start', async () => {
    const { dir, log } = await filled(6)
    const result = await log.enforceRetention({ retentionMs: 1500, now: T0 + 4600 })
    expect(result.deleted.map((s) => s.baseOffset)).toEqual([0, 2])
    expect(result.logStartOffset).toBe(4)
    expect(log.logStartOffset).toBe(4)
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.log'))).toEqual(['00000000000000000004.log'])
    await log.close()
    const reopened = await Log.open(dir, { segmentBytes: SEGMENT_BYTES })
    expect([reopened.logStartOffset, reopened.logEndOffset]).toEqual([4, 6])
    await reopened.close()
  })

  it('uses the log clock by default, and only deletes a prefix', async () => {
    const clock = { now: T0 }
    const { log } = await filled(6, clock)
    clock.now = T0 + 2500
    // Segment 0 (max T0+1000) is old enough, segment 1 (max T0+3000) is not.
    expect((await log.enforceRetention({ retentionMs: 1000 })).deleted.map((s) => s.baseOffset)).toEqual([0])
    await log.close()
  })

  it('rolls the active segment when every segment is past retention, keeping the log end', async () => {
    const { log } = await filled(3)
    const result = await log.enforceRetention({ retentionMs: 0, now: T0 + 10_000 })
    expect(result.deleted.map((s) => s.baseOffset)).toEqual([0, 2])
    expect([log.logStartOffset, log.logEndOffset, log.segmentCount]).toEqual([3, 3, 1])
    expect((await log.append([{ value: 'y' }])).baseOffset).toBe(3)
    await log.close()
  })

  it('deletes oldest segments while the rest stays at or above retentionBytes', async () => {
    const { log } = await filled(8)
    const S = log.listSegments()[0].size
    expect((await log.enforceRetention({ retentionBytes: 2 * S, dryRun: true })).deleted.map((s) => s.baseOffset)).toEqual([0, 2])
    expect(log.segmentCount).toBe(4)
    expect((await log.enforceRetention({ retentionBytes: 2 * S })).deleted.map((s) => s.baseOffset)).toEqual([0, 2])
    expect(log.size).toBe(2 * S)
    await log.close()
  })

  it('does nothing without limits, and never deletes an empty active segment', async () => {
    const { log } = await filled(2)
    expect(await log.enforceRetention({})).toEqual({ deleted: [], logStartOffset: 0 })
    await log.enforceRetention({ retentionBytes: 0 })
    expect(log.segmentCount).toBe(1)
    expect(await log.enforceRetention({ retentionBytes: 0, retentionMs: 0, now: T0 + 1e9 })).toEqual({ deleted: [], logStartOffset: 2 })
    await log.close()
  })
})

describe('Log.scanBatchHeaders', () => {
  it('visits every batch header from an offset, across segments, and stops when asked', async () => {
    const dir = tmp()
    const log = await Log.open(dir, { segmentBytes: 300 })
    for (let i = 0; i < 6; i++) {
      await log.append([{ value: 'a'.repeat(60) }, { value: 'b' }], { producerId: 9, producerEpoch: 1, baseSequence: i * 2 })
    }
    const seen: BatchHeader[] = []
    log.scanBatchHeaders(0, (h) => void seen.push(h))
    expect(log.segmentCount).toBeGreaterThan(2)
    expect(seen.map((h) => [h.baseOffset, h.recordCount, h.producerId, h.producerEpoch, h.baseSequence])).toEqual(
      Array.from({ length: 6 }, (_, i) => [i * 2, 2, 9, 1, i * 2]),
    )
    const from5: number[] = []
    log.scanBatchHeaders(5, (h) => void from5.push(h.baseOffset))
    expect(from5).toEqual([4, 6, 8, 10]) // the batch holding offset 5 starts at 4
    const stopped: number[] = []
    log.scanBatchHeaders(0, (h) => (stopped.push(h.baseOffset), h.baseOffset < 4))
    expect(stopped).toEqual([0, 2, 4])
    await log.close()
  })
})
