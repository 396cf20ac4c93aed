/**
 * Helpers for the segment, index and Log tests: temp directories, a seeded PRNG, random logs with
 * a brute-force model of what they hold, and a parser of .log/.index/.timeindex files that does
 * not use the code under test (so a bug there cannot hide a bug in the files).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import CRC32C from 'crc-32/crc32c.js'
import { Log, type LogOptions } from '../log.js'
import type { LogRecord, RecordInput } from '../record-batch.js'

/** Temp directories under os.tmpdir(), removed by `cleanup` (call it in afterEach/afterAll). */
export function tempDirs(prefix: string): { make(): string; cleanup(): void } {
  const made: string[] = []
  return {
    make() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `samsa-${prefix}-`))
      made.push(dir)
      return dir
    },
    cleanup() {
      for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Deterministic PRNG (mulberry32) so a failure reproduces from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1))
}

export function pad20(n: number): string {
  return String(n).padStart(20, '0')
}

/** One batch as found in a .log file, parsed here without the code under test. */
export interface RawBatch {
  file: string
  position: number
  size: number
  baseOffset: number
  lastOffset: number
  maxTimestamp: number
  magic: number
  crcOk: boolean
  recordCount: number
}

export function readBatches(file: string): RawBatch[] {
  const buf = fs.readFileSync(file)
  const out: RawBatch[] = []
  let pos = 0
  while (pos < buf.length) {
    if (buf.length - pos < 61) throw new Error(`${file}: ${buf.length - pos} stray bytes at ${pos}`)
    const size = buf.readInt32BE(pos + 8) + 12
    if (pos + size > buf.length) throw new Error(`${file}: truncated batch at ${pos}`)
    const baseOffset = Number(buf.readBigInt64BE(pos))
    out.push({
      file,
      position: pos,
      size,
      baseOffset,
      lastOffset: baseOffset + buf.readInt32BE(pos + 23),
      maxTimestamp: Number(buf.readBigInt64BE(pos + 35)),
      magic: buf.readInt8(pos + 16),
      crcOk: buf.readUInt32BE(pos + 17) === CRC32C.buf(buf.subarray(pos + 21, pos + size), 0) >>> 0,
      recordCount: buf.readInt32BE(pos + 57),
    })
    pos += size
  }
  return out
}

/** Base offsets of the segments in `dir`, from the .log file names, ascending. */
export function segmentBases(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .filter((n) => /^\d{20}\.log$/.test(n))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b)
}

/** Every batch of the log in `dir`, in offset order. */
export function allBatches(dir: string): RawBatch[] {
  return segmentBases(dir).flatMap((b) => readBatches(path.join(dir, `${pad20(b)}.log`)))
}

export function readOffsetIndexFile(file: string, baseOffset: number): { offset: number; position: number }[] {
  const buf = fs.readFileSync(file)
  const out = []
  for (let i = 0; i + 8 <= buf.length; i += 8) out.push({ offset: baseOffset + buf.readInt32BE(i), position: buf.readInt32BE(i + 4) })
  return out
}

export function readTimeIndexFile(file: string, baseOffset: number): { timestamp: number; offset: number }[] {
  const buf = fs.readFileSync(file)
  const out = []
  for (let i = 0; i + 12 <= buf.length; i += 12) {
    out.push({ timestamp: Number(buf.readBigInt64BE(i)), offset: baseOffset + buf.readInt32BE(i + 8) })
  }
  return out
}

/** What a record should read back as. */
export interface Expected {
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: { key: string; value: Buffer | null }[]
}

export function toExpected(offset: number, r: RecordInput, timestamp: number): Expected {
  const bytes = (b: unknown): Buffer | null => (b === null || b === undefined ? null : Buffer.isBuffer(b) ? b : Buffer.from(b as string))
  const hs = r.headers === undefined ? [] : Array.isArray(r.headers) ? r.headers : Object.entries(r.headers).map(([key, value]) => ({ key, value }))
  return {
    offset,
    timestamp: r.timestamp ?? timestamp,
    key: bytes(r.key),
    value: bytes(r.value),
    headers: (hs as { key: string; value: unknown }[]).map((h) => ({ key: h.key, value: bytes(h.value) })),
  }
}

/** A comparable plain form of records (Buffers as hex, null kept). */
export function plain(records: ReadonlyArray<LogRecord | Expected>): unknown[] {
  const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'))
  return records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: hex(h.value) })),
  }))
}

export interface RandomLogOptions extends LogOptions {
  seed: number
  batches: number
  maxBatchRecords?: number
  maxValueBytes?: number
}

/**
 * Append `batches` random batches (1..maxBatchRecords records, values 0..maxValueBytes bytes,
 * null keys and values now and then, headers now and then, timestamps that wander up and down)
 * and return the open log with the brute-force list of what it holds.
 */
export async function randomLog(dir: string, options: RandomLogOptions): Promise<{ log: Log; records: Expected[] }> {
  const { seed, batches, maxBatchRecords = 12, maxValueBytes = 200, ...logOptions } = options
  const rand = prng(seed)
  const log = await Log.open(dir, { flush: 'never', ...logOptions })
  const records: Expected[] = []
  let clock = 1_700_000_000_000
  for (let b = 0; b < batches; b++) {
    const n = randInt(rand, 1, maxBatchRecords)
    const batch: RecordInput[] = []
    for (let i = 0; i < n; i++) {
      // Mostly forward, sometimes back: non-monotonic timestamps, within and across batches.
      clock += randInt(rand, -400, 1000)
      const valueLen = randInt(rand, 0, maxValueBytes)
      const r: RecordInput = {
        key: rand() < 0.2 ? null : `k${randInt(rand, 0, 999)}`,
        value: rand() < 0.1 ? null : Buffer.from(Array.from({ length: valueLen }, () => randInt(rand, 0, 255))),
        timestamp: clock,
      }
      if (rand() < 0.2) r.headers = [{ key: `h${randInt(rand, 0, 9)}`, value: rand() < 0.3 ? null : 'v' }]
      batch.push(r)
    }
    const { baseOffset, lastOffset } = await log.append(batch)
    if (baseOffset !== records.length || lastOffset !== records.length + n - 1) {
      throw new Error(`append gave offsets ${baseOffset}..${lastOffset}, expected ${records.length}..`)
    }
    batch.forEach((r, i) => records.push(toExpected(baseOffset + i, r, 0)))
  }
  return { log, records }
}
