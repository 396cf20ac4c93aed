import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultIO } from './file-io.js'
import { IndexCorruptError } from './index-file.js'
import { Log } from './log.js'
import { TimeIndex } from './time-index.js'
import {
  pad20,
  prng,
  randInt,
  randomLog,
  readBatches,
  readTimeIndexFile,
  segmentBases,
  tempDirs,
  type Expected,
  type RawBatch,
} from './test-support/storage-fixtures.js'

const dirs = tempDirs('time-index')
const open: Log[] = []
afterEach(async () => {
  for (const log of open.splice(0)) await log.close()
  dirs.cleanup()
})

/**
 * The entries Kafka's rule gives a segment: at each offset-index entry, (largest timestamp so far,
 * the offset it was seen at) if the timestamp grew; and a last one for the segment's largest
 * timestamp when it stops being active.
 */
function expectedEntries(batches: RawBatch[], interval: number): { timestamp: number; offset: number }[] {
  const out: { timestamp: number; offset: number }[] = []
  const add = (timestamp: number, offset: number): void => {
    const last = out[out.length - 1]
    if (last === undefined || (timestamp > last.timestamp && offset >= last.offset)) out.push({ timestamp, offset })
  }
  let since = 0
  let max = -1
  let offsetOfMax = -1
  for (const b of batches) {
    if (b.maxTimestamp > max) {
      max = b.maxTimestamp
      offsetOfMax = b.lastOffset
    }
    if (since > interval) {
      add(max, offsetOfMax)
      since = 0
    }
    since += b.size
  }
  add(max, offsetOfMax)
  return out
}

/** Brute force: the first offset at or after `from` whose record has a timestamp >= ts. */
function firstAtOrAfter(records: Expected[], ts: number, from = 0): number | null {
  for (let i = from; i < records.length; i++) if (records[i].timestamp >= ts) return records[i].offset
  return null
}

describe('TimeIndex', () => {
  it('only records growing timestamps at non-decreasing offsets', () => {
    const idx = new TimeIndex(path.join(dirs.make(), 'a.timeindex'), 100, 10, defaultIO)
    idx.reset()
    idx.maybeAppend(5000, 105)
    idx.maybeAppend(5000, 107) // same timestamp: nothing new
    idx.maybeAppend(4000, 109) // older: nothing new
    idx.maybeAppend(6000, 104) // offset went back: refused
    idx.maybeAppend(7000, 112)
    expect(idx.entries).toBe(2)
    expect(idx.lastEntry()).toEqual({ timestamp: 7000, offset: 112 })
  })

  it('points a lookup at the entry with the largest timestamp strictly below the target', () => {
    const idx = new TimeIndex(path.join(dirs.make(), 'b.timeindex'), 100, 10, defaultIO)
    idx.reset()
    idx.maybeAppend(5000, 105)
    idx.maybeAppend(6000, 110)
    idx.maybeAppend(9000, 130)
    expect(idx.lookup(10)).toBe(100)
    expect(idx.lookup(5000)).toBe(100) // a record at 5000 may be before offset 105
    expect(idx.lookup(5001)).toBe(105)
    expect(idx.lookup(6000)).toBe(105)
    expect(idx.lookup(8999)).toBe(110)
    expect(idx.lookup(9001)).toBe(130)
  })

  it('respects its size limit except for the final entry of a segment', () => {
    const idx = new TimeIndex(path.join(dirs.make(), 'c.timeindex'), 0, 2, defaultIO)
    idx.reset()
    idx.maybeAppend(1, 1)
    idx.maybeAppend(2, 2)
    expect(idx.isFull).toBe(true)
    idx.maybeAppend(3, 3)
    expect(idx.entries).toBe(2)
    idx.maybeAppend(4, 4, true)
    expect(idx.lastEntry()).toEqual({ timestamp: 4, offset: 4 })
  })

  it('stores big-endian (timestamp int64, relative offset int32) and reloads; refuses bad files', () => {
    const dir = dirs.make()
    const file = path.join(dir, 'd.timeindex')
    const idx = new TimeIndex(file, 1000, 10, defaultIO)
    idx.reset()
    idx.maybeAppend(1_700_000_000_123, 1003)
    idx.maybeAppend(1_700_000_000_999, 1010)
    idx.writeOut()
    expect(fs.readFileSync(file).toString('hex')).toBe('0000018bcfe5687b' + '00000003' + '0000018bcfe56be7' + '0000000a')
    const again = new TimeIndex(file, 1000, 10, defaultIO)
    expect(again.lastEntry()).toEqual({ timestamp: 1_700_000_000_999, offset: 1010 })
    expect(again.lookup(1_700_000_000_500)).toBe(1003)

    const bad = Buffer.from(fs.readFileSync(file))
    bad.writeBigInt64BE(1n, 12) // second timestamp below the first
    fs.writeFileSync(file, bad)
    expect(() => new TimeIndex(file, 1000, 10, defaultIO).lookup(5)).toThrow(IndexCorruptError)
    fs.writeFileSync(file, Buffer.alloc(13))
    expect(() => new TimeIndex(file, 1000, 10, defaultIO).lookup(5)).toThrow(IndexCorruptError)
  })
})

describe('the .timeindex files of a log', () => {
  it('hold exactly the entries Kafka\'s rule gives, ending with each segment\'s largest timestamp', async () => {
    for (const interval of [1, 300]) {
      const dir = dirs.make()
      const { log } = await randomLog(dir, { seed: 40 + interval, batches: 200, segmentBytes: 5000, indexIntervalBytes: interval })
      await log.close()
      const bases = segmentBases(dir)
      expect(bases.length).toBeGreaterThan(3)
      for (const base of bases) {
        const batches = readBatches(path.join(dir, `${pad20(base)}.log`))
        const entries = readTimeIndexFile(path.join(dir, `${pad20(base)}.timeindex`), base)
        expect(entries).toEqual(expectedEntries(batches, interval))
        expect(entries[entries.length - 1].timestamp).toBe(Math.max(...batches.map((b) => b.maxTimestamp)))
      }
    }
  })
})

describe('offsetForTimestamp checked against a brute-force scan of random logs', () => {
  const cases = [
    { seed: 21, batches: 400, segmentBytes: 8192, indexIntervalBytes: 128 },
    { seed: 22, batches: 300, segmentBytes: 3000, indexIntervalBytes: 64, maxBatchRecords: 30, maxValueBytes: 60 },
    { seed: 23, batches: 200, segmentBytes: 40_000, indexIntervalBytes: 1 },
  ]

  async function check(log: Log, records: Expected[], seed: number, from = 0, everyRecord = false): Promise<void> {
    const rand = prng(seed)
    const lo = Math.min(...records.map((r) => r.timestamp))
    const hi = Math.max(...records.map((r) => r.timestamp))
    for (let i = 0; i < 400; i++) {
      const ts = randInt(rand, lo - 50, hi + 50)
      expect(await log.offsetForTimestamp(ts), `timestamp ${ts}`).toBe(firstAtOrAfter(records, ts, from))
    }
    // Every record's own timestamp, and one past it (or a sample of them).
    for (const r of everyRecord ? records : records.filter((_, i) => i % 7 === seed % 7)) {
      expect(await log.offsetForTimestamp(r.timestamp)).toBe(firstAtOrAfter(records, r.timestamp, from))
      expect(await log.offsetForTimestamp(r.timestamp + 1)).toBe(firstAtOrAfter(records, r.timestamp + 1, from))
    }
    expect(await log.offsetForTimestamp(hi + 1)).toBeNull()
  }

  for (const c of cases) {
    it(`finds the first offset with a timestamp >= the target (seed ${c.seed})`, async () => {
      const dir = dirs.make()
      const { log, records } = await randomLog(dir, c)
      open.push(log)
      expect(log.segmentCount).toBeGreaterThan(2)
      // The timestamps really are out of order, within and across batches.
      expect(records.some((r, i) => i > 0 && r.timestamp < records[i - 1].timestamp)).toBe(true)
      await check(log, records, c.seed + 1, 0, true)
      await log.close()

      const reopened = await Log.open(dir, { flush: 'never' })
      open.push(reopened)
      await check(reopened, records, c.seed + 2)
      await reopened.close()

      const readOnly = await Log.open(dir, { readOnly: true })
      open.push(readOnly)
      await check(readOnly, records, c.seed + 3)
    })
  }

  it('never answers with an offset below the log start', async () => {
    const dir = dirs.make()
    const { log, records } = await randomLog(dir, { seed: 31, batches: 300, segmentBytes: 6000, indexIntervalBytes: 100 })
    open.push(log)
    const rand = prng(5)
    let start = 0
    for (let round = 0; round < 4; round++) {
      start = randInt(rand, start + 1, start + Math.floor((records.length - start) / 3))
      await log.deleteRecordsBefore(start)
      expect(log.logStartOffset).toBe(start)
      await check(log, records, round, start)
    }
    await log.close()
    const reopened = await Log.open(dir, { flush: 'never' })
    open.push(reopened)
    expect(reopened.logStartOffset).toBe(start)
    await check(reopened, records, 77, start)
  })

  it('gives the same answers when the time indexes were lost and rebuilt, in that session and the next', async () => {
    const dir = dirs.make()
    const { log, records } = await randomLog(dir, { seed: 32, batches: 300, segmentBytes: 5000, indexIntervalBytes: 200 })
    await log.close()
    for (const base of segmentBases(dir)) fs.rmSync(path.join(dir, `${pad20(base)}.timeindex`))
    for (let session = 0; session < 2; session++) {
      const l = await Log.open(dir, { flush: 'never' })
      open.push(l)
      await check(l, records, 50 + session)
      await l.close()
    }
  })
})
