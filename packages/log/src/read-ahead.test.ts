import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CorruptBatchError, InvalidArgumentError } from './errors.js'
import { defaultIO } from './file-io.js'
import { Log, type LogOptions } from './log.js'
import { BATCH_STRIDE, KIND_CONTROL, KIND_DECODE, KIND_INDEXED, serve } from './read-ahead-worker.js'
import { ReadAhead, readAheadBytes, startReadAhead } from './read-ahead.js'
import { encodeBatch, type LogRecord, setBaseOffset } from './record-batch.js'
import { fixtureBatches } from './test-support/kafka-fixtures.js'
import { allBatches, plain, randomLog, tempDirs } from './test-support/storage-fixtures.js'

const dirs = tempDirs('read-ahead')
const open: Log[] = []
async function openLog(dir: string, options: LogOptions = {}): Promise<Log> {
  const log = await Log.open(dir, { flush: 'never', ...options })
  open.push(log)
  return log
}

// The worker starts on the first scan and serves nothing until it runs: have it running, so that
// every test's scans go through it.
beforeAll(async () => {
  expect(await startReadAhead()).toBe(true)
})

afterEach(async () => {
  for (const log of open.splice(0)) await log.close()
  dirs.cleanup()
})

/** Every record from `from`, in reads of `maxBytes` (and `maxRecords`), as a consumer scans. */
async function scan(log: Log, maxBytes: number, maxRecords?: number, from = 0): Promise<LogRecord[]> {
  const all: LogRecord[] = []
  for (let offset = from; offset < log.highWatermark; ) {
    const got = await log.read(offset, { maxBytes, maxRecords })
    expect(got.length).toBeGreaterThan(0)
    all.push(...got)
    offset = got[got.length - 1].offset + 1
  }
  return all
}

const FAR_BASE = 1_700_000_000_000

/** A gzip batch written by a Kafka client (the golden fixture). */
function gzipBatch(): Buffer {
  return Buffer.from(fixtureBatches('fetch_v4_response_gzip.json')[0])
}

/** A log of ~8 MiB of random batches, with a gzip batch, a control batch and a LogAppendTime batch among them. */
async function mixedLog(dir: string): Promise<void> {
  const { log } = await randomLog(dir, { seed: 7, batches: 2500, maxBatchRecords: 30, maxValueBytes: 250 })
  let next = log.logEndOffset
  expect(next).toBeGreaterThan(0)
  const special = [
    gzipBatch(),
    encodeBatch([{ value: Buffer.from([0, 0, 0, 0]) }], { control: true }),
    encodeBatch([{ value: 'a', timestamp: 5 }, { value: 'b', timestamp: 9 }], { timestampType: 'append' }),
    // Timestamp deltas past 32 bits, both ways (the index keeps them in two words).
    encodeBatch([
      { value: 'near', timestamp: FAR_BASE },
      { value: 'far', timestamp: FAR_BASE + 2 ** 40 + 3 },
      { value: 'before', timestamp: FAR_BASE - 2 ** 33 - 5 },
      { value: 'minus-one', timestamp: FAR_BASE - 1 },
    ]),
  ]
  for (const b of special) next = (await log.appendBatch(b)).lastOffset + 1
  expect(next).toBeGreaterThan(log.logEndOffset - 1)
  // More random batches after them, so that they sit inside a scan's chunks.
  for (let i = 0; i < 1500; i++) {
    const values = Array.from({ length: 1 + (i % 25) }, (_, k) => ({ key: k % 3 === 0 ? null : `key-${i}`, value: Buffer.alloc((i * 7 + k) % 300, i & 0xff), headers: k % 5 === 0 ? { trace: `t${i}` } : undefined }))
    await log.append(values)
  }
  await log.close()
}

describe('read-ahead', () => {
  it('gives scans the same records as reads without it, in reads of every size, and serves them from the worker', async () => {
    const dir = dirs.make()
    await mixedLog(dir)
    const without = await openLog(dir, { readAhead: false })
    expect(without.readAheadStats).toBeNull()
    const all = await scan(without, 1 << 20)
    const expected = plain(all)
    await without.close()
    const stamp = (v: string) => all.find((r) => r.value?.toString() === v)?.timestamp
    expect([stamp('near'), stamp('far'), stamp('before'), stamp('minus-one')]).toEqual([
      FAR_BASE,
      FAR_BASE + 2 ** 40 + 3,
      FAR_BASE - 2 ** 33 - 5,
      FAR_BASE - 1,
    ])
    const log = await openLog(dir)
    for (const [maxBytes, maxRecords] of [
      [1 << 20, undefined],
      [96 * 1024, undefined],
      [300 * 1024, 997],
      [4 << 20, 5000],
    ] as const) {
      const before = log.readAheadStats!.served
      expect(plain(await scan(log, maxBytes, maxRecords))).toEqual(expected)
      expect(log.readAheadStats!.served).toBeGreaterThan(before)
    }
    // From the middle, as a consumer that resumes does.
    const mid = Math.floor(log.highWatermark / 2)
    const fromMid = plain(await scan(log, 1 << 20, undefined, mid))
    expect(fromMid).toEqual(expected.slice(expected.findIndex((r) => (r as { offset: number }).offset >= mid)))
  })

  it('reports damage past the first chunk as a read without it does: the records before it, then SAMSA_CORRUPT_BATCH at its position', async () => {
    const dir = dirs.make()
    await mixedLog(dir)
    const batches = allBatches(dir)
    const victim = batches.find((b) => b.position > 3 * 1024 * 1024)!
    const file = victim.file
    const fd = fs.openSync(file, 'r+')
    const byte = Buffer.alloc(1)
    fs.readSync(fd, byte, 0, 1, victim.position + victim.size - 1)
    byte[0] ^= 0xff
    fs.writeSync(fd, byte, 0, 1, victim.position + victim.size - 1)
    fs.closeSync(fd)

    const outcome = async (options: LogOptions) => {
      const log = await openLog(dir, options)
      const got: LogRecord[] = []
      let error: unknown = null
      try {
        for (let offset = 0; ; ) {
          const r = await log.read(offset, { maxBytes: 256 * 1024 })
          got.push(...r)
          offset = r[r.length - 1].offset + 1
        }
      } catch (err) {
        error = err
      }
      const stats = log.readAheadStats
      await log.close()
      return { got: plain(got), error, stats }
    }
    const plainRead = await outcome({ readAhead: false })
    const ahead = await outcome({})
    expect(ahead.stats!.served).toBeGreaterThan(0)
    expect(ahead.error).toBeInstanceOf(CorruptBatchError)
    expect((ahead.error as CorruptBatchError).code).toBe('SAMSA_CORRUPT_BATCH')
    expect((ahead.error as CorruptBatchError).position).toBe(victim.position)
    expect((ahead.error as Error).message).toBe((plainRead.error as Error).message)
    expect(ahead.got).toEqual(plainRead.got)
    // Every record before the damage came back (the read that reached it ended there), none of its.
    // (The batch before it is one of the random ones, each of which holds records.)
    const before = batches[batches.indexOf(victim) - 1]
    expect(before.file).toBe(victim.file)
    expect((ahead.got[ahead.got.length - 1] as { offset: number }).offset).toBe(before.lastOffset)
    expect(ahead.got.length).toBeLessThanOrEqual(victim.baseOffset)
  })

  it('keeps up with a log that grows while it is scanned', async () => {
    const dir = dirs.make()
    const { log, records } = await randomLog(dir, { seed: 11, batches: 800, maxBatchRecords: 40, maxValueBytes: 400 })
    const got: LogRecord[] = []
    let offset = 0
    for (let round = 0; offset < log.highWatermark; round++) {
      const r = await log.read(offset, { maxBytes: 128 * 1024 })
      got.push(...r)
      offset = r[r.length - 1].offset + 1
      if (round < 60) {
        const n = 1 + (round % 9)
        const batch = Array.from({ length: n }, (_, i) => ({ value: `late-${round}-${i}` }))
        const { baseOffset } = await log.append(batch)
        batch.forEach((b, i) => records.push({ offset: baseOffset + i, timestamp: 0, key: null, value: Buffer.from(b.value), headers: [] }))
      }
    }
    expect(log.readAheadStats!.served).toBeGreaterThan(0)
    expect(got.map((r) => r.offset)).toEqual(records.map((r) => r.offset))
    expect(got.map((r) => r.value?.toString('hex') ?? null)).toEqual(records.map((r) => r.value?.toString('hex') ?? null))
    await log.close()
  })

  it('is off for read-only logs and test file layers, and the option is checked', async () => {
    const dir = dirs.make()
    const log = await openLog(dir)
    expect(log.readAheadStats).toEqual({ served: 0, missed: 0 })
    await log.append([{ value: 'x' }])
    const reader = await openLog(dir, { readOnly: true })
    expect(reader.readAheadStats).toBeNull()
    const other = dirs.make()
    const custom = await openLog(other, { io: { ...defaultIO } })
    expect(custom.readAheadStats).toBeNull()
    await expect(Log.open(dirs.make(), { readAhead: 'yes' as unknown as boolean })).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})

describe('read-ahead worker: serve', () => {
  function writeFile(dir: string, buffers: Buffer[]): string {
    const file = path.join(dir, 'chunk.log')
    fs.writeFileSync(file, Buffer.concat(buffers))
    return file
  }

  it('checks and indexes whole batches, stops before one cut off by the chunk, and marks control and compressed batches', () => {
    const dir = dirs.make()
    const a = encodeBatch([{ value: 'one' }, { key: 'k', value: null, headers: { h: 'v' } }], { baseOffset: 0, timestamp: 1000 })
    const c = encodeBatch([{ value: Buffer.from([0, 0, 0, 0]) }], { baseOffset: 2, control: true })
    const z = gzipBatch()
    setBaseOffset(z, 0, 3)
    const d = encodeBatch([{ value: Buffer.alloc(500, 1) }], { baseOffset: 4 })
    const file = writeFile(dir, [a, c, z, d])
    const length = a.length + c.length + z.length + 100 // d is cut off
    const reply = serve({ id: 1, file, position: 0, length, maxBatchBytes: 1 << 20 })
    expect(reply.error).toBeNull()
    expect(reply.checked).toBe(a.length + c.length + z.length)
    expect(Array.from(reply.batches)).toEqual([
      0, a.length, KIND_INDEXED, 0, 2,
      a.length, c.length, KIND_CONTROL, 2, 0,
      a.length + c.length, z.length, KIND_DECODE, 2, 0,
    ])
    expect(reply.batches.length / BATCH_STRIDE).toBe(3)
    // From a position inside the file, on a batch boundary.
    const tail = serve({ id: 2, file, position: a.length + c.length + z.length, length: 1 << 16, maxBatchBytes: 1 << 20 })
    expect(tail.checked).toBe(d.length)
  })

  it('stops at a damaged batch, and answers a missing file with an error instead of throwing', () => {
    const dir = dirs.make()
    const a = encodeBatch([{ value: 'one' }], { baseOffset: 0 })
    const b = encodeBatch([{ value: 'two' }], { baseOffset: 1 })
    b[b.length - 1] ^= 1
    const file = writeFile(dir, [a, b, encodeBatch([{ value: 'three' }], { baseOffset: 2 })])
    expect(serve({ id: 1, file, position: 0, length: 1 << 16, maxBatchBytes: 1 << 20 }).checked).toBe(a.length)
    const missing = serve({ id: 2, file: path.join(dir, 'gone.log'), position: 0, length: 1024, maxBatchBytes: 1 << 20 })
    expect(missing.memory).toBeNull()
    expect(missing.error).toMatch(/ENOENT/)
  })
})

describe('ReadAhead', () => {
  it('drops a chunk once its segment is truncated (a new epoch), and counts a request for a file that is gone as a miss', async () => {
    const dir = dirs.make()
    const batches = Array.from({ length: 20 }, (_, i) => encodeBatch([{ value: Buffer.alloc(100, i) }], { baseOffset: i }))
    const file = path.join(dir, 'seg.log')
    fs.writeFileSync(file, Buffer.concat(batches))
    const owner = { logFile: file, epoch: 0 }
    const ahead = new ReadAhead(1 << 20)
    ahead.prefetch(owner, 0, 1 << 16, fs.statSync(file).size)
    const chunk = ahead.take(owner, 0)
    expect(chunk).not.toBeNull()
    expect(chunk!.checked).toBe(batches.reduce((n, b) => n + b.length, 0))
    expect(ahead.take(owner, batches[0].length)?.next).toBe(1)
    owner.epoch++
    expect(ahead.take(owner, batches[0].length)).toBeNull()

    const gone = { logFile: path.join(dir, 'gone.log'), epoch: 0 }
    const missed = ahead.missed
    ahead.prefetch(gone, 0, 1 << 16, 1 << 16)
    expect(ahead.take(gone, 0)).toBeNull()
    expect(ahead.missed).toBe(missed + 1)
    ahead.close()
  })

  it('reserves no more than 64 MiB across the process, and gives the budget back', () => {
    const dir = dirs.make()
    const file = path.join(dir, 'seg.log')
    fs.writeFileSync(file, Buffer.concat(Array.from({ length: 4 }, (_, i) => encodeBatch([{ value: 'v' }], { baseOffset: i }))))
    const size = fs.statSync(file).size
    const owners = Array.from({ length: 10 }, () => ({ logFile: file, epoch: 0 }))
    const logs = owners.map(() => new ReadAhead(1 << 20))
    const before = readAheadBytes()
    logs.forEach((ahead, i) => ahead.prefetch(owners[i], 0, 4 << 20, size))
    // A stream reserves its two chunks in flight and the one its reader holds: five fit.
    expect(readAheadBytes()).toBe(before + 5 * 3 * (4 << 20))
    expect(logs[4].take(owners[4], 0)).not.toBeNull()
    // The others asked for nothing: taking finds no stream (not even a miss).
    expect(logs[9].take(owners[9], 0)).toBeNull()
    expect(logs[9].missed).toBe(0)
    for (const ahead of logs) ahead.close()
    expect(readAheadBytes()).toBe(before)
  })
})
