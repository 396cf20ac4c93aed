import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Log, type LogOptions } from './log.js'
import type { LogRecord, RecordInput } from './record-batch.js'
import {
  allBatches,
  pad20,
  plain,
  prng,
  randInt,
  randomLog,
  segmentBases,
  tempDirs,
  toExpected,
  type Expected,
  type RawBatch,
} from './test-support/storage-fixtures.js'

const dirs = tempDirs('log')
const open: Log[] = []
async function openLog(dir: string, options: LogOptions = {}): Promise<Log> {
  const log = await Log.open(dir, { flush: 'never', ...options })
  open.push(log)
  return log
}

afterEach(async () => {
  for (const log of open.splice(0)) await log.close()
  dirs.cleanup()
})

/** Sizes and names of every file in `dir`: what a failed append must leave untouched. */
function snapshot(dir: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const name of fs.readdirSync(dir).sort()) out[name] = fs.statSync(path.join(dir, name)).size
  return out
}

/**
 * What read(offset, { maxBytes, maxRecords }) must return, from the batches on disk: whole batches
 * from the one holding `offset` while their total stays within maxBytes (but always the first),
 * records below `offset` left out, at most maxRecords.
 */
function modelRead(batches: RawBatch[], records: Expected[], offset: number, maxBytes: number, maxRecords: number): Expected[] {
  const out: Expected[] = []
  let consumed = 0
  for (const b of batches) {
    if (b.lastOffset < offset) continue
    if (consumed + b.size > maxBytes && out.length > 0) break
    consumed += b.size
    for (let o = Math.max(b.baseOffset, offset); o <= b.lastOffset && out.length < maxRecords; o++) out.push(records[o])
    if (out.length >= maxRecords) break
  }
  return out
}

async function collect(iter: AsyncIterable<LogRecord>): Promise<LogRecord[]> {
  const out: LogRecord[] = []
  for await (const r of iter) out.push(r)
  return out
}

/** Lets pending I/O callbacks and timers of zero delay run once. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

describe('read limits', () => {
  it('returns whole batches within maxBytes, at least one record, and no more than maxRecords (random logs)', async () => {
    for (const seed of [1, 2, 3]) {
      const dir = dirs.make()
      const { log, records } = await randomLog(dir, { seed, batches: 200, segmentBytes: 4000, indexIntervalBytes: 100, maxValueBytes: 300 })
      open.push(log)
      expect(log.segmentCount).toBeGreaterThan(5)
      const batches = allBatches(dir)
      const rand = prng(seed * 1000)
      for (let i = 0; i < 500; i++) {
        const offset = randInt(rand, 0, records.length - 1)
        const maxBytes = randInt(rand, 1, 6000)
        const maxRecords = rand() < 0.5 ? randInt(rand, 1, 60) : Number.POSITIVE_INFINITY
        const options = maxRecords === Number.POSITIVE_INFINITY ? { maxBytes } : { maxBytes, maxRecords }
        const got = await log.read(offset, options)
        expect(plain(got), `read(${offset}, ${JSON.stringify(options)})`).toEqual(plain(modelRead(batches, records, offset, maxBytes, maxRecords)))
      }
    }
  })

  it('returns one batch larger than maxBytes rather than nothing, and stops before the next', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 10_000 })
    await log.append([{ value: 'a'.repeat(5000) }, { value: 'b' }])
    await log.append([{ value: 'c' }])
    const got = await log.read(0, { maxBytes: 10 })
    expect(got.map((r) => r.offset)).toEqual([0, 1])
    expect(got[0].value?.length).toBe(5000)
    expect((await log.read(1, { maxBytes: 1 })).map((r) => r.offset)).toEqual([1])
    expect((await log.read(2, { maxBytes: 1 })).map((r) => r.offset)).toEqual([2])
    expect((await log.read(0, { maxRecords: 1 })).map((r) => r.offset)).toEqual([0])
    expect((await log.read(0, { maxRecords: 3, maxBytes: 1 << 20 })).map((r) => r.offset)).toEqual([0, 1, 2])
  })

  it('does not skip the rest of a segment when maxBytes stops a read early', async () => {
    // Three batches of ~300 bytes per 1000-byte segment: a 700-byte read takes two and must
    // continue with the third next time, not with the next segment.
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 1000 })
    for (let i = 0; i < 12; i++) await log.append([{ value: String(i).padEnd(230, '.') }])
    expect(log.segmentCount).toBe(4)
    let next = 0
    const seen: number[] = []
    while (next < log.logEndOffset) {
      const got = await log.read(next, { maxBytes: 700 })
      expect(got.length).toBeGreaterThan(0)
      expect(got[0].offset).toBe(next)
      seen.push(...got.map((r) => r.offset))
      next = got[got.length - 1].offset + 1
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
  })

  it('with `into` appends to the given array, counting maxRecords and the first-batch rule from what it adds', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 10_000 })
    await log.append([{ value: 'a'.repeat(5000) }, { value: 'b' }])
    await log.append([{ value: 'c' }, { value: 'd' }])
    const into: LogRecord[] = [{ offset: 99, timestamp: 0, key: null, value: null, headers: [] }]
    // The batch over maxBytes still comes back, though `into` was not empty.
    expect(await log.read(0, { maxBytes: 10, into })).toBe(into)
    expect(into.map((r) => r.offset)).toEqual([99, 0, 1])
    // maxRecords counts what this read adds, not what `into` held.
    log.readSync(2, { maxRecords: 1, into })
    expect(into.map((r) => r.offset)).toEqual([99, 0, 1, 2])
    log.readSync(3, { into })
    expect(into.map((r) => r.offset)).toEqual([99, 0, 1, 2, 3])
    // At the log end there is nothing to add.
    expect(log.readSync(4, { into })).toBe(into)
    expect(into).toHaveLength(5)
  })

  it('with `source` builds records that also carry topic and partition, across segments', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 200 })
    for (let i = 0; i < 6; i++) await log.append([{ key: `k${i}`, value: `v${i}`, headers: [{ key: 'h', value: `${i}` }], timestamp: 1000 + i }])
    expect(log.segmentCount).toBeGreaterThan(1)
    const got = log.readSync(1, { source: { topic: 'orders', partition: 3 } })
    expect(got).toHaveLength(5)
    got.forEach((r, i) => {
      expect(r).toEqual({
        topic: 'orders',
        partition: 3,
        offset: i + 1,
        key: Buffer.from(`k${i + 1}`),
        value: Buffer.from(`v${i + 1}`),
        headers: [{ key: 'h', value: Buffer.from(`${i + 1}`) }],
        timestamp: 1001 + i,
      })
    })
    // Without it, the plain LogRecord.
    expect(Object.keys(log.readSync(0)[0])).toEqual(['offset', 'timestamp', 'key', 'value', 'headers'])
  })
})

describe('offsets and bad input', () => {
  it('returns [] at exactly the log end, and throws SAMSA_OFFSET_OUT_OF_RANGE outside the log', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 200 })
    expect(await log.read(0)).toEqual([])
    for (let i = 0; i < 10; i++) await log.append([{ value: `v${i}`.padEnd(50) }])
    expect(log.logEndOffset).toBe(10)
    expect(await log.read(10)).toEqual([])
    expect(log.readSync(10)).toEqual([])
    await expect(log.read(11)).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
    await expect(log.read(1e12)).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
    await log.deleteRecordsBefore(4)
    await expect(log.read(3)).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
    await expect(log.read(0)).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
    expect((await log.read(4))[0].offset).toBe(4)
  })

  it('throws SAMSA_INVALID_OFFSET for non-numeric, negative and fractional offsets', async () => {
    const log = await openLog(dirs.make())
    await log.append([{ value: 'a' }, { value: 'b' }])
    for (const bad of ['1', -1, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, {}, 2n]) {
      await expect(log.read(bad as number), String(bad)).rejects.toMatchObject({ code: 'SAMSA_INVALID_OFFSET' })
      expect(() => log.readSync(bad as number)).toThrow(expect.objectContaining({ code: 'SAMSA_INVALID_OFFSET' }))
      await expect(log.deleteRecordsBefore(bad as number)).rejects.toMatchObject({ code: 'SAMSA_INVALID_OFFSET' })
      // For stream, a missing `from` means the log start.
      if (bad !== null && bad !== undefined) {
        await expect(collect(log.stream({ from: bad as number }))).rejects.toMatchObject({ code: 'SAMSA_INVALID_OFFSET' })
      }
    }
    expect(log.logStartOffset).toBe(0)
  })

  it('rejects an empty append with SAMSA_EMPTY_APPEND and writes nothing', async () => {
    const dir = dirs.make()
    const log = await openLog(dir)
    await log.append([{ value: 'x' }])
    await log.flush()
    const before = snapshot(dir)
    await expect(log.append([])).rejects.toMatchObject({ code: 'SAMSA_EMPTY_APPEND' })
    await log.flush()
    expect(snapshot(dir)).toEqual(before)
    expect(log.logEndOffset).toBe(1)
    expect(await log.append([{ value: 'y' }])).toEqual({ baseOffset: 1, lastOffset: 1 })
  })

  it('rejects a record over maxRecordBytes (default 1 MiB) with SAMSA_RECORD_TOO_LARGE and writes nothing', async () => {
    const dir = dirs.make()
    const log = await openLog(dir)
    await log.append([{ value: 'x' }])
    await log.flush()
    const before = snapshot(dir)
    const mib = 1024 * 1024
    await expect(log.append([{ value: Buffer.alloc(mib) }])).rejects.toMatchObject({ code: 'SAMSA_RECORD_TOO_LARGE' })
    // The good records of a batch with one too-large record are not written either.
    await expect(log.append([{ value: 'ok' }, { value: 'ok' }, { key: Buffer.alloc(mib) }])).rejects.toMatchObject({
      code: 'SAMSA_RECORD_TOO_LARGE',
    })
    await expect(log.append([{ value: 'ok', headers: [{ key: 'h', value: Buffer.alloc(mib) }] }])).rejects.toMatchObject({
      code: 'SAMSA_RECORD_TOO_LARGE',
    })
    await log.flush()
    expect(snapshot(dir)).toEqual(before)
    expect(log.logEndOffset).toBe(1)
    // Just under the limit is fine.
    expect(await log.append([{ value: Buffer.alloc(mib - 64) }])).toEqual({ baseOffset: 1, lastOffset: 1 })
    expect((await log.read(1))[0].value?.length).toBe(mib - 64)

    const small = await openLog(dirs.make(), { maxRecordBytes: 100 })
    await expect(small.append([{ value: 'z'.repeat(100) }])).rejects.toMatchObject({ code: 'SAMSA_RECORD_TOO_LARGE' })
    expect(small.logEndOffset).toBe(0)
    expect(await small.append([{ value: 'z'.repeat(50) }])).toEqual({ baseOffset: 0, lastOffset: 0 })
  })

  it('throws SAMSA_LOG_CLOSED after close and SAMSA_READ_ONLY on a read-only log', async () => {
    const dir = dirs.make()
    const log = await Log.open(dir, { flush: 'never' })
    await log.append([{ value: 'a' }])
    await log.close()
    await expect(log.append([{ value: 'b' }])).rejects.toMatchObject({ code: 'SAMSA_LOG_CLOSED' })
    await expect(log.read(0)).rejects.toMatchObject({ code: 'SAMSA_LOG_CLOSED' })

    const before = snapshot(dir)
    const ro = await openLog(dir, { readOnly: true })
    await expect(ro.append([{ value: 'b' }])).rejects.toMatchObject({ code: 'SAMSA_READ_ONLY' })
    await expect(ro.deleteRecordsBefore(1)).rejects.toMatchObject({ code: 'SAMSA_READ_ONLY' })
    expect((await ro.read(0)).map((r) => r.value?.toString())).toEqual(['a'])
    expect(snapshot(dir)).toEqual(before)
  })
})

describe('reopening', () => {
  it('reads back keys, values, headers and timestamps after close, across rolls', async () => {
    const dir = dirs.make()
    const inputs: RecordInput[][] = [
      [
        { key: 'k1', value: 'v1', timestamp: 1_600_000_000_000 },
        { key: null, value: null, timestamp: 1_600_000_000_005 },
        { key: Buffer.from([0, 1, 2, 255]), value: Buffer.alloc(0), timestamp: 1_599_999_999_000 },
      ],
      [{ key: 'ключ', value: '値', headers: [{ key: 'traceparent', value: '00-abc' }, { key: 'ä-ü', value: null }, { key: 'dup', value: 'x' }, { key: 'dup', value: 'y' }], timestamp: 1_600_000_001_000 }],
      [{ value: 'map headers', headers: { a: '1', b: Buffer.from([9]), c: null }, timestamp: 1_600_000_002_000 }],
      [{ value: 'no timestamp' }],
      ...Array.from({ length: 30 }, (_, i) => [{ key: `key-${i}`, value: 'x'.repeat(i * 10), timestamp: 1_600_000_003_000 + i }]),
    ]
    const log = await openLog(dir, { segmentBytes: 600, now: () => 1_650_000_000_000 })
    const expected: Expected[] = []
    for (const batch of inputs) {
      const { baseOffset, lastOffset } = await log.append(batch)
      expect(lastOffset - baseOffset + 1).toBe(batch.length)
      batch.forEach((r, i) => expected.push(toExpected(baseOffset + i, r, 1_650_000_000_000)))
    }
    expect(log.segmentCount).toBeGreaterThan(3)
    const live = await log.read(0)
    expect(plain(live)).toEqual(plain(expected))
    const segments = log.listSegments()
    await log.close()

    const reopened = await openLog(dir)
    expect(reopened.logStartOffset).toBe(0)
    expect(reopened.logEndOffset).toBe(expected.length)
    expect(reopened.listSegments()).toEqual(segments)
    expect(reopened.recovery).toBeNull()
    expect(plain(await reopened.read(0))).toEqual(plain(expected))
    expect(plain(await collect(reopened.stream()))).toEqual(plain(expected))
    // Appends continue after the last offset.
    expect(await reopened.append([{ value: 'more' }])).toEqual({ baseOffset: expected.length, lastOffset: expected.length })
    await reopened.close()

    const ro = await openLog(dir, { readOnly: true })
    const all = await ro.read(0)
    expect(plain(all.slice(0, expected.length))).toEqual(plain(expected))
    expect(all[expected.length].value?.toString()).toBe('more')
  })

  it('keeps the log start across a reopen after deleteRecordsBefore', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 300 })
    for (let i = 0; i < 20; i++) await log.append([{ value: `record-${i}`.padEnd(60, '.') }])
    await log.deleteRecordsBefore(13)
    await log.close()
    const reopened = await openLog(dir, { segmentBytes: 300 })
    expect(reopened.logStartOffset).toBe(13)
    expect(reopened.logEndOffset).toBe(20)
    await expect(reopened.read(12)).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
    expect((await reopened.read(0 + 13)).map((r) => r.offset)).toEqual([13, 14, 15, 16, 17, 18, 19])
    expect((await collect(reopened.stream())).map((r) => r.offset)).toEqual([13, 14, 15, 16, 17, 18, 19])
  })
})

describe('stream', () => {
  it('without follow yields every record from `from` and ends at the tail', async () => {
    const log = await openLog(dirs.make(), { segmentBytes: 500 })
    for (let i = 0; i < 50; i++) await log.append([{ value: `a${i}` }, { value: `b${i}` }])
    expect(log.segmentCount).toBeGreaterThan(2)
    expect((await collect(log.stream())).map((r) => r.offset)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect((await collect(log.stream({ from: 37, maxBytes: 100 }))).map((r) => r.offset)).toEqual(Array.from({ length: 63 }, (_, i) => 37 + i))
    expect(await collect(log.stream({ from: 100 }))).toEqual([])
    await expect(collect(log.stream({ from: 101 }))).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
  })

  it('with follow wakes on an append in the same process, without polling while idle', async () => {
    const log = await openLog(dirs.make(), { pollIntervalMs: 1 })
    await log.append([{ value: 'first' }])
    let reads = 0
    const readSync = log.readSync.bind(log)
    log.readSync = (offset, options) => {
      reads++
      return readSync(offset, options)
    }
    const controller = new AbortController()
    const it = log.stream({ follow: true, signal: controller.signal })[Symbol.asyncIterator]()
    expect((await it.next()).value?.value?.toString()).toBe('first')

    let settled = false
    const pending = it.next().then((r) => {
      settled = true
      return r
    })
    // Idle at the tail for a while: a poller (pollIntervalMs is 1 ms) would read again and again.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(settled).toBe(false)
    expect(reads).toBeLessThanOrEqual(2)

    await log.append([{ value: 'second' }])
    // Woken by the append itself: no timer has to fire first.
    await turn()
    expect(settled).toBe(true)
    const r = await pending
    expect(r.done).toBe(false)
    expect(r.value?.offset).toBe(1)
    expect(r.value?.value?.toString()).toBe('second')

    // Several appends while the consumer is busy all arrive, in order.
    await log.append([{ value: 'third' }, { value: 'fourth' }])
    await log.append([{ value: 'fifth' }])
    const more: string[] = []
    for (let i = 0; i < 3; i++) more.push((await it.next()).value?.value?.toString() ?? '')
    expect(more).toEqual(['third', 'fourth', 'fifth'])

    const waiting = it.next()
    controller.abort()
    expect(await waiting).toEqual({ done: true, value: undefined })
  })

  it('with follow and flush always wakes once the append is synced', async () => {
    const log = await openLog(dirs.make(), { flush: 'always' })
    const controller = new AbortController()
    const it = log.stream({ follow: true, signal: controller.signal })[Symbol.asyncIterator]()
    const pending = it.next()
    await turn()
    await log.append([{ value: 'durable' }])
    const r = await pending
    expect(r.value?.value?.toString()).toBe('durable')
    controller.abort()
    expect(await it.next()).toEqual({ done: true, value: undefined })
  }, 10_000)

  it('ends when the signal aborts, including one aborted before it starts, and when the log closes', async () => {
    const log = await Log.open(dirs.make(), { flush: 'never' })
    await log.append([{ value: 'a' }])
    const aborted = new AbortController()
    aborted.abort()
    expect(await collect(log.stream({ follow: true, signal: aborted.signal }))).toEqual([])

    const controller = new AbortController()
    const seen: string[] = []
    const done = (async () => {
      for await (const r of log.stream({ follow: true, signal: controller.signal })) seen.push(r.value?.toString() ?? '')
    })()
    await turn()
    await log.append([{ value: 'b' }])
    await turn()
    controller.abort()
    await done
    expect(seen).toEqual(['a', 'b'])

    const following = collect(log.stream({ follow: true }))
    await turn()
    await log.close()
    expect((await following).map((r) => r.value?.toString())).toEqual(['a', 'b'])
  })
})

describe('deleteRecordsBefore', () => {
  it('moves the log start, deletes whole segments below it and keeps the one holding it', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 400 })
    for (let i = 0; i < 30; i++) await log.append([{ value: `a${i}`.padEnd(40) }, { value: `b${i}`.padEnd(40) }])
    const bases = segmentBases(dir)
    expect(bases.length).toBeGreaterThan(5)
    // Somewhere inside the fourth segment, not at its start.
    const start = bases[3] + 1
    expect(start).toBeLessThan(bases[4])
    const result = await log.deleteRecordsBefore(start)
    expect(result).toEqual({ logStartOffset: start, deletedSegments: 3 })
    expect(log.logStartOffset).toBe(start)
    expect(segmentBases(dir)).toEqual(bases.slice(3))
    for (const gone of bases.slice(0, 3)) {
      for (const ext of ['log', 'index', 'timeindex']) expect(fs.existsSync(path.join(dir, `${pad20(gone)}.${ext}`))).toBe(false)
    }
    expect(log.listSegments().map((s) => s.baseOffset)).toEqual(bases.slice(3))
    // The kept segment still has the record below the start on disk, but it is never returned.
    await expect(log.read(start - 1)).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
    expect((await log.read(start))[0].offset).toBe(start)
    expect((await collect(log.stream()))[0].offset).toBe(start)
    expect((await collect(log.stream())).length).toBe(60 - start)

    // Moving it backwards or to where it is does nothing.
    expect(await log.deleteRecordsBefore(2)).toEqual({ logStartOffset: start, deletedSegments: 0 })
    expect(log.logStartOffset).toBe(start)
    await expect(log.deleteRecordsBefore(61)).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
  })

  it('up to the log end empties the log, and appends continue from there', async () => {
    const dir = dirs.make()
    const log = await openLog(dir, { segmentBytes: 400 })
    for (let i = 0; i < 20; i++) await log.append([{ value: `v${i}`.padEnd(40) }])
    expect(log.segmentCount).toBeGreaterThan(2)
    await log.deleteRecordsBefore(20)
    expect(log.logStartOffset).toBe(20)
    expect(log.logEndOffset).toBe(20)
    expect(segmentBases(dir)).toEqual([20])
    expect(await log.read(20)).toEqual([])
    await expect(log.read(19)).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
    expect(await log.offsetForTimestamp(0)).toBeNull()
    expect(await log.append([{ value: 'after' }])).toEqual({ baseOffset: 20, lastOffset: 20 })
    expect((await log.read(20)).map((r) => r.value?.toString())).toEqual(['after'])
    await log.close()
    const reopened = await openLog(dir)
    expect([reopened.logStartOffset, reopened.logEndOffset]).toEqual([20, 21])
    expect((await reopened.read(20)).map((r) => r.value?.toString())).toEqual(['after'])
  })

  it('never returns records below the start, whatever the read (random)', async () => {
    const dir = dirs.make()
    const { log, records } = await randomLog(dir, { seed: 8, batches: 150, segmentBytes: 3000, indexIntervalBytes: 100 })
    open.push(log)
    const rand = prng(9)
    let start = 0
    while (start < records.length - 5) {
      start = randInt(rand, start, Math.min(records.length, start + 200))
      await log.deleteRecordsBefore(start)
      expect(log.logStartOffset).toBe(start)
      const bases = segmentBases(dir)
      expect(bases[0]).toBeLessThanOrEqual(start)
      if (bases.length > 1) expect(bases[1]).toBeGreaterThan(start)
      for (let i = 0; i < 20; i++) {
        const offset = randInt(rand, start, records.length)
        const got = await log.read(offset, { maxRecords: randInt(rand, 1, 50) })
        expect(got.every((r) => r.offset >= start)).toBe(true)
        if (offset < records.length) expect(got[0].offset).toBe(offset)
      }
      const all = await collect(log.stream())
      expect(plain(all)).toEqual(plain(records.slice(start)))
    }
  })
})
