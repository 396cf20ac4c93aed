/**
 * Log.readBatchBytes: the stored batches as raw bytes (what the Kafka wire server's Fetch sends),
 * checked against the bytes of the .log files themselves.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { OffsetOutOfRangeError } from './errors.js'
import { Log } from './log.js'
import { decodeBatch, encodeBatch } from './record-batch.js'
import { allBatches, tempDirs, type RawBatch } from './test-support/storage-fixtures.js'

const dirs = tempDirs('readbytes')
const open: Log[] = []

afterEach(async () => {
  for (const log of open.splice(0)) await log.close()
  dirs.cleanup()
})

async function logWith(batches: number, perBatch: number, options: Parameters<typeof Log.open>[1] = {}): Promise<{ log: Log; dir: string }> {
  const dir = dirs.make()
  const log = await Log.open(dir, { flush: 'never', ...options })
  open.push(log)
  for (let b = 0; b < batches; b++) {
    await log.append(Array.from({ length: perBatch }, (_, i) => ({ key: `k${b}-${i}`, value: `value-${b}-${i}-${'x'.repeat(b * 7)}` })))
  }
  return { log, dir }
}

function fileBytes(b: RawBatch): Buffer {
  return fs.readFileSync(b.file).subarray(b.position, b.position + b.size)
}

describe('Log.readBatchBytes', () => {
  it('returns the stored bytes of every batch from the one holding the offset, across segments', async () => {
    const { log, dir } = await logWith(40, 3, { segmentBytes: 1024 })
    const stored = allBatches(dir)
    expect(new Set(stored.map((b) => b.file)).size).toBeGreaterThan(3)
    const all = Buffer.concat(log.readBatchBytes(0, 1 << 30))
    expect(all.equals(Buffer.concat(stored.map(fileBytes)))).toBe(true)

    // From the middle of batch 10 (offsets 30-32): batch 10 onward.
    const from31 = Buffer.concat(log.readBatchBytes(31, 1 << 30))
    expect(from31.equals(Buffer.concat(stored.slice(10).map(fileBytes)))).toBe(true)
    expect(decodeBatch(from31, 0).header.baseOffset).toBe(30)
  })

  it('stops at whole batches within maxBytes, but always returns the first batch', async () => {
    const { log, dir } = await logWith(10, 2)
    const stored = allBatches(dir)
    // Smaller than the first batch: exactly the first batch.
    const one = log.readBatchBytes(0, 1)
    expect(Buffer.concat(one).equals(fileBytes(stored[0]))).toBe(true)
    // Room for the first three batches and part of the fourth: three.
    const budget = stored[0].size + stored[1].size + stored[2].size + stored[3].size - 1
    expect(Buffer.concat(log.readBatchBytes(0, budget)).equals(Buffer.concat(stored.slice(0, 3).map(fileBytes)))).toBe(true)
  })

  it('ends the answer before a batch whose length is damaged; the fetch that starts there fails', async () => {
    const { log, dir } = await logWith(12, 2)
    const stored = allBatches(dir)
    const victim = stored[7]
    const fd = fs.openSync(victim.file, 'r+')
    const huge = Buffer.alloc(4)
    huge.writeInt32BE(0x7fff0000)
    fs.writeSync(fd, huge, 0, 4, victim.position + 8) // the batch length field
    fs.closeSync(fd)
    // Everything before it, byte for byte, as one fetch.
    expect(Buffer.concat(log.readBatchBytes(0, 1 << 30)).equals(Buffer.concat(stored.slice(0, 7).map(fileBytes)))).toBe(true)
    expect(() => log.readBatchBytes(victim.baseOffset, 1 << 30)).toThrow(
      expect.objectContaining({ code: 'SAMSA_CORRUPT_BATCH', file: victim.file, position: victim.position }),
    )
    // Records as well: the read ends before it, the next one fails at it.
    expect((await log.read(0)).map((r) => r.offset)).toEqual(Array.from({ length: victim.baseOffset }, (_, i) => i))
    await expect(log.read(victim.baseOffset)).rejects.toMatchObject({ code: 'SAMSA_CORRUPT_BATCH', position: victim.position })
  })

  it('at the high watermark returns nothing; outside the log throws OffsetOutOfRangeError', async () => {
    const { log } = await logWith(3, 2)
    expect(log.readBatchBytes(6, 1000)).toEqual([])
    expect(() => log.readBatchBytes(7, 1000)).toThrow(OffsetOutOfRangeError)
    await log.deleteRecordsBefore(6)
    expect(() => log.readBatchBytes(0, 1000)).toThrow(OffsetOutOfRangeError)
  })

  it('a client batch appended with appendBatch comes back byte for byte but for its base offset', async () => {
    const { log } = await logWith(2, 2)
    const batch = encodeBatch([{ key: 'client', value: 'batch', timestamp: 1_700_000_000_000 }], { producerId: 7, producerEpoch: 0, baseSequence: 0 })
    const { baseOffset } = await log.appendBatch(Buffer.from(batch))
    expect(baseOffset).toBe(4)
    const [got] = log.readBatchBytes(4, 1000)
    expect(got.length).toBe(batch.length)
    expect(Number(got.readBigInt64BE(0))).toBe(4)
    expect(got.subarray(8).equals(batch.subarray(8))).toBe(true)
  })
})

describe('readBatchBytes, fetched repeatedly', () => {
  it('walks a multi-segment log exactly once under random byte budgets, whole batches only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-rbb-walk-'))
    try {
      const log = await Log.open(dir, { segmentBytes: 4096 })
      let seed = 11
      const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
      for (let i = 0; i < 300; i++) {
        const n = 1 + Math.floor(rand() * 5)
        await log.append(Array.from({ length: n }, () => ({ value: Buffer.alloc(Math.floor(rand() * 400), 1) })))
      }
      expect(log.segmentCount).toBeGreaterThan(5)
      for (let trial = 0; trial < 20; trial++) {
        let next = 0
        const seen: number[] = []
        while (next < log.highWatermark) {
          const maxBytes = 1 + Math.floor(rand() * 3000)
          const chunks = log.readBatchBytes(next, maxBytes)
          let bytes = 0
          let batches = 0
          for (const chunk of chunks) {
            bytes += chunk.length
            for (let at = 0; at < chunk.length; ) {
              const { header, records } = decodeBatch(chunk.subarray(at, at + chunk.readInt32BE(at + 8) + 12))
              for (const r of records) if (r.offset >= next) seen.push(r.offset)
              at += header.size
              batches++
            }
          }
          expect(batches).toBeGreaterThan(0)
          if (batches > 1) expect(bytes).toBeLessThanOrEqual(maxBytes)
          next = seen[seen.length - 1] + 1
        }
        expect(seen).toEqual(Array.from({ length: log.highWatermark }, (_, i) => i))
      }
      await log.close()
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
