import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { crc32c } from './crc32c.js'
import { Log } from './log.js'
import { decodeBatch, encodeBatch, type RecordInput } from './record-batch.js'
import {
  allBatches,
  pad20,
  plain,
  readBatches,
  readTimeIndexFile,
  segmentBases,
  tempDirs,
  toExpected,
  type Expected,
} from './test-support/storage-fixtures.js'

const dirs = tempDirs('segment')
const open: Log[] = []
async function openLog(dir: string, options: Parameters<typeof Log.open>[1] = {}): Promise<Log> {
  const log = await Log.open(dir, { flush: 'never', ...options })
  open.push(log)
  return log
}

afterEach(async () => {
  for (const log of open.splice(0)) await log.close()
  dirs.cleanup()
})

function value(n: number, fill = 'x'): string {
  return fill.repeat(n)
}

describe('segment files', () => {
  it('are named by their 20-digit base offset, and each .log holds valid Kafka batches starting there', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 600 })
    const expected: Expected[] = []
    for (let i = 0; i < 40; i++) {
      const batch: RecordInput[] = Array.from({ length: (i % 3) + 1 }, (_, j) => ({ key: `k${i}`, value: value(20 + j * 30), timestamp: 1000 + i }))
      const { baseOffset } = await log.append(batch)
      batch.forEach((r, j) => expected.push(toExpected(baseOffset + j, r, 0)))
    }
    await log.close()

    const bases = segmentBases(dir)
    expect(bases.length).toBeGreaterThan(3)
    expect(log.listSegments().map((s) => s.baseOffset)).toEqual(bases)
    const names = fs.readdirSync(dir).filter((n) => /\.(log|index|timeindex)$/.test(n)).sort()
    expect(names).toEqual(bases.flatMap((b) => [`${pad20(b)}.index`, `${pad20(b)}.log`, `${pad20(b)}.timeindex`]).sort())
    expect(names[0]).toBe('00000000000000000000.index')

    let next = 0
    const decoded: Expected[] = []
    for (const base of bases) {
      const file = path.join(dir, `${pad20(base)}.log`)
      const data = fs.readFileSync(file)
      const batches = readBatches(file)
      expect(batches[0].baseOffset).toBe(base)
      for (const b of batches) {
        expect(b.magic).toBe(2)
        expect(b.crcOk).toBe(true)
        expect(b.baseOffset).toBe(next)
        next = b.lastOffset + 1
        const { header, records } = decodeBatch(data.subarray(b.position, b.position + b.size))
        expect(header.baseOffset).toBe(b.baseOffset)
        decoded.push(...records)
      }
    }
    expect(next).toBe(expected.length)
    expect(plain(decoded)).toEqual(plain(expected))
  })
})

describe('rolling', () => {
  it('rolls on size: no segment exceeds segmentBytes, and none rolled while the next batch still fitted', async () => {
    const dir = dirs.make()
    const segmentBytes = 1000
    const log = await openLog(dir, { segmentBytes })
    const sizes = [0, 37, 290, 5, 120, 301, 64, 1500, 10, 250, 250, 250, 250, 3, 700, 299, 0, 80]
    for (let i = 0; i < 60; i++) await log.append([{ value: value(sizes[i % sizes.length]), timestamp: 5 }])
    await log.close()

    const bases = segmentBases(dir)
    expect(bases.length).toBeGreaterThan(5)
    const perSegment = bases.map((b) => readBatches(path.join(dir, `${pad20(b)}.log`)))
    for (let s = 0; s < perSegment.length; s++) {
      const batches = perSegment[s]
      const total = batches.reduce((n, b) => n + b.size, 0)
      if (batches.length > 1) expect(total).toBeLessThanOrEqual(segmentBytes)
      else expect(batches.length).toBe(1)
      if (s + 1 < perSegment.length) expect(total + perSegment[s + 1][0].size).toBeGreaterThan(segmentBytes)
    }
    // The 1500-byte value is bigger than a segment: it gets one of its own.
    const big = perSegment.find((batches) => batches.some((b) => b.size > segmentBytes))
    expect(big).toHaveLength(1)
  })

  it('rolls on age, measured from the first batch\'s max timestamp to the new batch\'s max timestamp', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentMs: 1000 })
    // The first batch's max timestamp (10_000), not its first record's (5_000), starts the clock.
    await log.append([{ value: 'a', timestamp: 5_000 }, { value: 'b', timestamp: 10_000 }]) // 0-1
    await log.append([{ value: 'c', timestamp: 10_900 }]) // 2
    await log.append([{ value: 'd', timestamp: 9_000 }]) // 3: older, no roll
    await log.append([{ value: 'e', timestamp: 10_500 }, { value: 'f', timestamp: 11_000 }]) // 4-5: exactly segmentMs, no roll
    expect(log.segmentCount).toBe(1)
    await log.append([{ value: 'g', timestamp: 1 }, { value: 'h', timestamp: 11_001 }]) // 6-7: rolls
    await log.append([{ value: 'i', timestamp: 12_001 }]) // 8: 1000 after 11_001
    await log.append([{ value: 'j', timestamp: 12_002 }]) // 9: rolls
    expect(log.listSegments().map((s) => s.baseOffset)).toEqual([0, 6, 9])
    expect(segmentBases(dir)).toEqual([0, 6, 9])
  })

  it('rolls on age by the `now` clock for records without timestamps', async () => {
    const dir = dirs.make()
    let clock = 1_000_000
    const log = await openLog(dir, { segmentMs: 1000, now: () => clock })
    await log.append([{ value: 'a' }])
    clock += 600
    await log.append([{ value: 'b' }])
    clock += 400
    await log.append([{ value: 'c' }]) // 1000 ms after the first: not more than segmentMs
    expect(log.segmentCount).toBe(1)
    clock += 1
    await log.append([{ value: 'd' }])
    expect(log.listSegments().map((s) => s.baseOffset)).toEqual([0, 3])
    expect((await log.read(0)).map((r) => r.timestamp)).toEqual([1_000_000, 1_000_600, 1_001_000, 1_001_001])
  })

  it('keeps measuring age from the first batch across a clean reopen', async () => {
    const dir = dirs.make()
    let log = await openLog(dir, { segmentMs: 1000 })
    await log.append([{ value: 'a', timestamp: 10_000 }])
    await log.append([{ value: 'b', timestamp: 10_400 }])
    await log.close()
    log = await openLog(dir, { segmentMs: 1000 })
    await log.append([{ value: 'c', timestamp: 10_999 }])
    expect(log.segmentCount).toBe(1)
    await log.append([{ value: 'd', timestamp: 11_001 }])
    expect(log.listSegments().map((s) => s.baseOffset)).toEqual([0, 3])
  })

  it('rolls when the index is full', async () => {
    // indexIntervalBytes 1: every batch after a segment's first adds an index entry; 36 bytes hold 3.
    const append = async (log: Log): Promise<void> => {
      for (let i = 0; i < 13; i++) await log.append([{ value: value(30), timestamp: 1000 + i }])
    }
    const dir = dirs.make()
    const log = await openLog(dir, { indexIntervalBytes: 1, maxIndexBytes: 36 })
    await append(log)
    expect(log.listSegments().map((s) => s.baseOffset)).toEqual([0, 4, 8, 12])
    await log.close()
    for (const base of [0, 4, 8]) {
      expect(fs.statSync(path.join(dir, `${pad20(base)}.index`)).size).toBe(24)
      expect(fs.statSync(path.join(dir, `${pad20(base)}.timeindex`)).size).toBe(36)
    }

    // The same appends with room in the index stay in one segment: it was the index that rolled.
    const control = await openLog(dirs.make(), { indexIntervalBytes: 1 })
    await append(control)
    expect(control.segmentCount).toBe(1)
  })

  it('rolls cleanly when a group commit wrote past a full index', async () => {
    // With flush 'always', appends that arrive together are written as one group, so batches can
    // land after the index filled up; the roll after them still records the largest timestamp.
    const dir = dirs.make()
    const log = await openLog(dir, { flush: 'always', indexIntervalBytes: 1, maxIndexBytes: 36 })
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => log.append([{ value: value(30), timestamp: 1000 + i }])))
    expect(results.map((r) => r.baseOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(log.segmentCount).toBe(1)
    expect(await log.append([{ value: 'after', timestamp: 2000 }])).toEqual({ baseOffset: 10, lastOffset: 10 })
    expect(log.listSegments().map((s) => s.baseOffset)).toEqual([0, 10])
    await log.close()
    const entries = readTimeIndexFile(path.join(dir, `${pad20(0)}.timeindex`), 0)
    expect(entries[entries.length - 1]).toEqual({ timestamp: 1009, offset: 9 })
    const reopened = await openLog(dir)
    expect(await reopened.offsetForTimestamp(1009)).toBe(9)
    expect((await reopened.read(0)).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })

  it('rolls when an offset would no longer fit the relative int32 of the index', async () => {
    // A batch may span more offsets than it has records (as compacted Kafka batches do), so one
    // raw batch whose lastOffsetDelta is 2^31-1 reaches the limit without 2^31 appends.
    const wide = (lastOffsetDelta: number, v: string): Buffer => {
      const batch = encodeBatch([{ value: v, timestamp: 1 }])
      batch.writeInt32BE(lastOffsetDelta, 23)
      batch.writeUInt32BE(crc32c(batch, 21), 17)
      return batch
    }
    const MAX = 0x7fffffff

    // Exactly fits: the last offset is baseOffset + 2^31 - 1.
    let log = await openLog(dirs.make())
    expect(await log.appendBatch(wide(MAX, 'w'))).toEqual({ baseOffset: 0, lastOffset: MAX })
    expect(log.segmentCount).toBe(1)
    expect(await log.append([{ value: 'next', timestamp: 2 }])).toEqual({ baseOffset: MAX + 1, lastOffset: MAX + 1 })
    expect(log.listSegments().map((s) => s.baseOffset)).toEqual([0, MAX + 1])

    // One more offset does not fit: the wide batch starts a segment of its own, and so does the next.
    const dir = dirs.make()
    log = await openLog(dir)
    await log.append([{ value: 'first', timestamp: 1 }])
    expect(await log.appendBatch(wide(MAX, 'w'))).toEqual({ baseOffset: 1, lastOffset: MAX + 1 })
    expect(log.listSegments().map((s) => s.baseOffset)).toEqual([0, 1])
    await log.append([{ value: 'last', timestamp: 3 }])
    expect(log.listSegments().map((s) => s.baseOffset)).toEqual([0, 1, MAX + 2])
    expect(log.logEndOffset).toBe(MAX + 3)
    expect(segmentBases(dir)).toEqual([0, 1, MAX + 2])
    expect(fs.existsSync(path.join(dir, `${pad20(MAX + 2)}.log`))).toBe(true)

    // The gap reads as nothing: the next record after offset 5 is the last one.
    const fromGap = await log.read(5)
    expect(fromGap.map((r) => [r.offset, r.value?.toString()])).toEqual([[MAX + 2, 'last']])
    expect((await log.read(0)).map((r) => r.offset)).toEqual([0, 1, MAX + 2])
    await log.close()
    log = await openLog(dir)
    expect((await log.read(0)).map((r) => r.offset)).toEqual([0, 1, MAX + 2])
    expect(log.logEndOffset).toBe(MAX + 3)
  })
})

describe('reading inside a batch', () => {
  it('returns only the records at or after the offset asked for', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 400 })
    for (let b = 0; b < 8; b++) {
      await log.append(Array.from({ length: 10 }, (_, i) => ({ value: `v${b * 10 + i}`, timestamp: 100 + b })))
    }
    expect(log.segmentCount).toBeGreaterThan(1)
    for (const reopen of [false, true]) {
      const l = reopen ? await openLog(dir, { readOnly: true }) : log
      for (let offset = 0; offset < 80; offset++) {
        const all = await l.read(offset)
        expect(all.map((r) => r.offset)).toEqual(Array.from({ length: 80 - offset }, (_, i) => offset + i))
        expect(all[0].value?.toString()).toBe(`v${offset}`)
        const two = await l.read(offset, { maxRecords: 2 })
        expect(two.map((r) => r.offset)).toEqual([offset, offset + 1].filter((o) => o < 80))
      }
    }
  })
})

/** The offsets a stream from offset 0 yields, and the error that ended it (null if none did). */
async function streamFromStart(log: Log): Promise<{ seen: number[]; error: unknown }> {
  const seen: number[] = []
  try {
    for await (const r of log.stream({ from: 0 })) seen.push(r.offset)
  } catch (error) {
    return { seen, error }
  }
  return { seen, error: null }
}

describe('a corrupt batch', () => {
  it('makes read throw SAMSA_CORRUPT_BATCH naming the file, and never returns its records', async () => {
    const dir = dirs.make()
    let log = await openLog(dir, { segmentBytes: 500 })
    for (let i = 0; i < 30; i++) await log.append([{ value: `value-${i}-${'y'.repeat(40)}`, timestamp: 1000 + i }, { value: `second-${i}`, timestamp: 1000 + i }])
    await log.close()
    const bases = segmentBases(dir)
    expect(bases.length).toBeGreaterThan(3)
    const victim = path.join(dir, `${pad20(bases[1])}.log`)
    const batches = readBatches(victim)
    const bad = batches[1]
    // Flip one byte inside the records (covered by the CRC, not a length or offset field).
    const fd = fs.openSync(victim, 'r+')
    const at = bad.position + 70
    const byte = Buffer.alloc(1)
    fs.readSync(fd, byte, 0, 1, at)
    byte[0] ^= 0x5a
    fs.writeSync(fd, byte, 0, 1, at)
    fs.closeSync(fd)
    expect(readBatches(victim)[1].crcOk).toBe(false)

    log = await openLog(dir, { segmentBytes: 500 })
    const corrupt = { code: 'SAMSA_CORRUPT_BATCH', message: expect.stringContaining(victim) }
    await expect(log.read(bad.baseOffset)).rejects.toMatchObject(corrupt)
    await expect(log.read(bad.lastOffset)).rejects.toMatchObject(corrupt)
    expect(() => log.readSync(bad.baseOffset, { maxRecords: 1 })).toThrow(expect.objectContaining(corrupt))
    // A read that starts earlier and runs into it returns every record before it, as Kafka's
    // consumer does, and never one of its own; the next read, which starts at it, fails.
    const upTo = await log.read(0, { maxBytes: 1 << 20 })
    expect(upTo.map((r) => r.offset)).toEqual(Array.from({ length: bad.baseOffset }, (_, i) => i))
    await expect(log.read(upTo[upTo.length - 1].offset + 1, { maxBytes: 1 << 20 })).rejects.toMatchObject(corrupt)
    expect(log.readSync(0, { maxBytes: 1 << 20 }).length).toBe(bad.baseOffset)
    // Batches before it still read.
    const before = await log.read(batches[0].baseOffset, { maxRecords: 2 })
    expect(before.map((r) => r.offset)).toEqual([batches[0].baseOffset, batches[0].baseOffset + 1])
    // A read that starts after it is unaffected.
    const after = await log.read(bad.lastOffset + 1)
    expect(after[0].offset).toBe(bad.lastOffset + 1)
    // Streaming over it fails too, after every record before it.
    const streamed = await streamFromStart(log)
    expect(streamed.error).toMatchObject(corrupt)
    expect(streamed.seen).toEqual(Array.from({ length: bad.baseOffset }, (_, i) => i))
    // Looking it up by timestamp reads it, and fails the same way.
    await expect(log.offsetForTimestamp(1000 + bad.baseOffset / 2)).rejects.toMatchObject(corrupt)
  })

  it('with a damaged length in a closed segment, reads fail at it rather than skip to the next segment', async () => {
    const dir = dirs.make()
    let log = await openLog(dir, { segmentBytes: 600 })
    for (let i = 0; i < 40; i++) await log.append([{ value: `value-${i}-${'w'.repeat(40)}` }, { value: `second-${i}` }])
    await log.close()
    const bases = segmentBases(dir)
    expect(bases.length).toBeGreaterThan(3)
    const victimFile = path.join(dir, `${pad20(bases[1])}.log`)
    const victim = readBatches(victimFile)[1]
    const fd = fs.openSync(victimFile, 'r+')
    const length = Buffer.alloc(4)
    length.writeInt32BE(1 << 30)
    fs.writeSync(fd, length, 0, 4, victim.position + 8)
    fs.closeSync(fd)

    log = await openLog(dir, { segmentBytes: 600 })
    const corrupt = { code: 'SAMSA_CORRUPT_BATCH', file: victimFile, position: victim.position }
    // At it, and in it: an error, never the next segment's records in its place.
    expect(() => log.readSync(victim.baseOffset)).toThrow(expect.objectContaining(corrupt))
    expect(() => log.readSync(victim.lastOffset)).toThrow(expect.objectContaining(corrupt))
    expect(() => log.readBatchBytes(victim.baseOffset, 1 << 20)).toThrow(expect.objectContaining(corrupt))
    // From the start: everything before it, then the error.
    const streamed = await streamFromStart(log)
    expect(streamed.error).toMatchObject(corrupt)
    expect(streamed.seen).toEqual(Array.from({ length: victim.baseOffset }, (_, i) => i))
    // The next segment is still there for a reader that starts in it.
    expect(log.readSync(bases[2], { maxRecords: 1 })[0].offset).toBe(bases[2])

    // Damage at the very start of a later segment: a read that reaches it from the segment before
    // ends there with every record before it, and a fetch with every batch before it.
    const thirdFile = path.join(dir, `${pad20(bases[3])}.log`)
    const fd3 = fs.openSync(thirdFile, 'r+')
    fs.writeSync(fd3, length, 0, 4, 8)
    fs.closeSync(fd3)
    const third = { code: 'SAMSA_CORRUPT_BATCH', file: thirdFile, position: 0 }
    const span = Array.from({ length: bases[3] - bases[2] }, (_, i) => bases[2] + i)
    expect(log.readSync(bases[2], { maxBytes: 1 << 20 }).map((r) => r.offset)).toEqual(span)
    const secondFile = path.join(dir, `${pad20(bases[2])}.log`)
    expect(Buffer.concat(log.readBatchBytes(bases[2], 1 << 20)).equals(fs.readFileSync(secondFile))).toBe(true)
    expect(() => log.readSync(bases[3])).toThrow(expect.objectContaining(third))
    expect(() => log.readBatchBytes(bases[3], 1 << 20)).toThrow(expect.objectContaining(third))
    await log.close()
  })

  it('fails the same way while the log that wrote it is still open', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 300 })
    for (let i = 0; i < 10; i++) await log.append([{ value: `value-${i}-${'z'.repeat(50)}`, timestamp: 7 }])
    expect(log.segmentCount).toBeGreaterThan(2)
    const first = allBatches(dir)[0]
    const fd = fs.openSync(first.file, 'r+')
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, first.position + first.size - 1)
    fs.closeSync(fd)
    await expect(log.read(0)).rejects.toMatchObject({ code: 'SAMSA_CORRUPT_BATCH', message: expect.stringContaining(first.file) })
  })
})
