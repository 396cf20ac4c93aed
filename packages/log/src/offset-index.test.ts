import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FileCache } from './file-cache.js'
import { defaultIO, type FileIO } from './file-io.js'
import { IndexCorruptError } from './index-file.js'
import { Log } from './log.js'
import { OffsetIndex } from './offset-index.js'
import {
  pad20,
  plain,
  prng,
  randInt,
  randomLog,
  readBatches,
  readOffsetIndexFile,
  segmentBases,
  tempDirs,
  type RawBatch,
} from './test-support/storage-fixtures.js'

const dirs = tempDirs('offset-index')
const open: Log[] = []
afterEach(async () => {
  for (const log of open.splice(0)) await log.close()
  dirs.cleanup()
})

/** The entries Kafka's rule gives: one for the batch that follows more than `interval` bytes since the last. */
function expectedEntries(batches: RawBatch[], interval: number): { offset: number; position: number }[] {
  const out = []
  let since = 0
  for (const b of batches) {
    if (since > interval) {
      out.push({ offset: b.lastOffset, position: b.position })
      since = 0
    }
    since += b.size
  }
  return out
}

describe('OffsetIndex', () => {
  it('finds the last entry at or below an offset, or the segment start', () => {
    const file = path.join(dirs.make(), 'x.index')
    const idx = new OffsetIndex(file, 100, 10, defaultIO)
    idx.reset()
    idx.append(104, 300)
    idx.append(110, 900)
    idx.append(110, 1000) // not above the last entry: ignored
    idx.append(107, 1100) // below it: ignored
    idx.append(125, 2000)
    expect(idx.entries).toBe(3)
    expect(idx.lookup(100)).toEqual({ offset: 100, position: 0 })
    expect(idx.lookup(103)).toEqual({ offset: 100, position: 0 })
    expect(idx.lookup(104)).toEqual({ offset: 104, position: 300 })
    expect(idx.lookup(109)).toEqual({ offset: 104, position: 300 })
    expect(idx.lookup(110)).toEqual({ offset: 110, position: 900 })
    expect(idx.lookup(124)).toEqual({ offset: 110, position: 900 })
    expect(idx.lookup(125)).toEqual({ offset: 125, position: 2000 })
    expect(idx.lookup(1e9)).toEqual({ offset: 125, position: 2000 })
    expect(idx.lastEntry()).toEqual({ offset: 125, position: 2000 })
  })

  it('binary search agrees with a linear scan over many entries', () => {
    const rand = prng(7)
    const idx = new OffsetIndex(path.join(dirs.make(), 'y.index'), 5000, 100_000, defaultIO)
    idx.reset()
    const entries: { offset: number; position: number }[] = []
    let offset = 5000
    let position = 0
    for (let i = 0; i < 5000; i++) {
      offset += randInt(rand, 1, 50)
      position += randInt(rand, 61, 5000)
      idx.append(offset, position)
      entries.push({ offset, position })
    }
    for (let i = 0; i < 3000; i++) {
      const target = randInt(rand, 4990, offset + 10)
      let want = { offset: 5000, position: 0 }
      for (const e of entries) if (e.offset <= target) want = e
      expect(idx.lookup(target)).toEqual(want)
    }
  })

  it('stores big-endian (relative offset int32, position int32) entries and reads them back', () => {
    const dir = dirs.make()
    const file = path.join(dir, 'z.index')
    const idx = new OffsetIndex(file, 1_000_000, 10, defaultIO)
    idx.reset()
    idx.append(1_000_007, 4096)
    idx.append(1_000_300, 70_000)
    idx.writeOut()
    expect(fs.readFileSync(file).toString('hex')).toBe('00000007' + '00001000' + '0000012c' + '00011170')
    idx.append(1_000_301, 70_100)
    idx.writeOut() // appends the new entry
    expect(fs.statSync(file).size).toBe(24)

    const again = new OffsetIndex(file, 1_000_000, 10, defaultIO)
    expect(again.isLoaded).toBe(false)
    expect(again.lookup(1_000_299)).toEqual({ offset: 1_000_007, position: 4096 })
    expect(again.isLoaded).toBe(true)
    expect(again.lastEntry()).toEqual({ offset: 1_000_301, position: 70_100 })
    again.unload()
    expect(again.isLoaded).toBe(false)
  })

  it('keeps entries not yet written out when asked to unload', () => {
    const file = path.join(dirs.make(), 'u.index')
    const idx = new OffsetIndex(file, 0, 10, defaultIO)
    idx.reset()
    idx.append(5, 100)
    idx.unload()
    expect(idx.isLoaded).toBe(true)
    expect(idx.lookup(6)).toEqual({ offset: 5, position: 100 })
    idx.writeOut()
    idx.unload()
    expect(idx.isLoaded).toBe(false)
    expect(idx.lookup(6)).toEqual({ offset: 5, position: 100 })
  })

  it('stops taking entries when full', () => {
    const idx = new OffsetIndex(path.join(dirs.make(), 'f.index'), 0, 2, defaultIO)
    idx.reset()
    idx.append(1, 10)
    expect(idx.isFull).toBe(false)
    idx.append(2, 20)
    expect(idx.isFull).toBe(true)
    idx.append(3, 30)
    expect(idx.entries).toBe(2)
    expect(idx.lookup(3)).toEqual({ offset: 2, position: 20 })
  })

  it('truncates by offset and by log size, and rewrites the file', () => {
    const file = path.join(dirs.make(), 't.index')
    const idx = new OffsetIndex(file, 0, 10, defaultIO)
    idx.reset()
    for (const [o, p] of [[3, 100], [6, 200], [9, 300], [12, 400]]) idx.append(o, p)
    idx.writeOut()
    idx.truncateToOffset(9) // entries for offsets >= 9 go
    expect(idx.lastEntry()).toEqual({ offset: 6, position: 200 })
    idx.writeOut()
    expect(fs.statSync(file).size).toBe(16)
    idx.truncateToSize(200) // entries pointing at or past byte 200 go
    expect(idx.lastEntry()).toEqual({ offset: 3, position: 100 })
    idx.writeOut()
    expect(new OffsetIndex(file, 0, 10, defaultIO).entries).toBe(1)
  })

  it('refuses a file that is missing, torn or out of order', () => {
    const dir = dirs.make()
    const file = path.join(dir, 'c.index')
    expect(() => new OffsetIndex(file, 0, 10, defaultIO).lookup(1)).toThrow(IndexCorruptError)
    fs.writeFileSync(file, Buffer.alloc(12))
    expect(() => new OffsetIndex(file, 0, 10, defaultIO).lookup(1)).toThrow(IndexCorruptError)
    const entries = Buffer.alloc(16)
    entries.writeInt32BE(5, 0)
    entries.writeInt32BE(100, 4)
    entries.writeInt32BE(4, 8) // offset goes backwards
    entries.writeInt32BE(200, 12)
    fs.writeFileSync(file, entries)
    const idx = new OffsetIndex(file, 0, 10, defaultIO)
    expect(() => idx.lookup(1)).toThrow(IndexCorruptError)
    expect(idx.isLoaded).toBe(false)
  })
})

describe('the .index files of a log', () => {
  it('hold exactly the entries Kafka\'s rule gives, each pointing at the batch whose last offset it names', async () => {
    for (const interval of [1, 200, 1000]) {
      const dir = dirs.make()
      const { log } = await randomLog(dir, { seed: interval, batches: 150, segmentBytes: 6000, indexIntervalBytes: interval })
      await log.close()
      const bases = segmentBases(dir)
      expect(bases.length).toBeGreaterThan(2)
      let total = 0
      for (const base of bases) {
        const batches = readBatches(path.join(dir, `${pad20(base)}.log`))
        const entries = readOffsetIndexFile(path.join(dir, `${pad20(base)}.index`), base)
        expect(entries).toEqual(expectedEntries(batches, interval))
        for (const e of entries) expect(batches.find((b) => b.position === e.position)?.lastOffset).toBe(e.offset)
        total += entries.length
      }
      expect(total).toBeGreaterThan(interval === 1000 ? 5 : 50)
    }
  })

  it('start each lookup at the index entry a binary search finds, not at the segment start', async () => {
    const dir = dirs.make()
    const positions: { file: string; position: number }[] = []
    const fdFile = new Map<number, string>()
    const io: FileIO = {
      ...defaultIO,
      openSync(file, flags) {
        const fd = defaultIO.openSync(file, flags)
        fdFile.set(fd, file)
        return fd
      },
      readSync(fd, buf, offset, length, position) {
        positions.push({ file: fdFile.get(fd) ?? '?', position })
        return defaultIO.readSync(fd, buf, offset, length, position)
      },
    }
    const { log, records } = await randomLog(dir, { seed: 99, batches: 400, indexIntervalBytes: 300, io, files: new FileCache(8, io) })
    open.push(log)
    expect(log.segmentCount).toBe(1)
    const logFile = path.join(dir, `${pad20(0)}.log`)
    const entries = expectedEntries(readBatches(logFile), 300)
    expect(entries.length).toBeGreaterThan(100)
    const rand = prng(3)
    for (let i = 0; i < 300; i++) {
      const offset = randInt(rand, 0, records.length - 1)
      positions.length = 0
      const got = await log.read(offset, { maxRecords: 1 })
      expect(got[0].offset).toBe(offset)
      let start = 0
      for (const e of entries) if (e.offset <= offset) start = e.position
      const reads = positions.filter((p) => p.file === logFile)
      expect(reads.length).toBeGreaterThan(0)
      expect(reads[0].position).toBe(start)
    }
  })
})

describe('reads checked against a brute-force scan of random logs', () => {
  const cases = [
    { seed: 11, batches: 400, segmentBytes: 8192, indexIntervalBytes: 128 },
    { seed: 12, batches: 300, segmentBytes: 3000, indexIntervalBytes: 64, maxBatchRecords: 30, maxValueBytes: 60 },
    { seed: 13, batches: 250, segmentBytes: 50_000, indexIntervalBytes: 512, maxValueBytes: 900 },
  ]
  for (const c of cases) {
    it(`read(offset) returns exactly the records from offset on (seed ${c.seed})`, async () => {
      const dir = dirs.make()
      const { log, records } = await randomLog(dir, c)
      open.push(log)
      expect(log.segmentCount).toBeGreaterThan(2)
      const check = async (l: Log, seed: number): Promise<void> => {
        const rand = prng(seed)
        for (let i = 0; i < 400; i++) {
          const offset = randInt(rand, 0, records.length - 1)
          const maxRecords = randInt(rand, 1, 40)
          const got = await l.read(offset, { maxRecords })
          expect(plain(got)).toEqual(plain(records.slice(offset, offset + maxRecords)))
        }
        // Every offset, one record at a time.
        for (let offset = 0; offset < records.length; offset++) {
          const [r] = l.readSync(offset, { maxRecords: 1 })
          expect(r.offset).toBe(offset)
          expect(r.value?.toString('hex') ?? null).toBe(records[offset].value?.toString('hex') ?? null)
        }
        expect(await l.read(records.length)).toEqual([])
      }
      await check(log, c.seed + 100)
      await log.close()

      // Reopened: the indexes now come from the files.
      const reopened = await Log.open(dir, { flush: 'never' })
      open.push(reopened)
      await check(reopened, c.seed + 200)
      await reopened.close()

      // Without index files: they are rebuilt from the .log, and give the same answers.
      for (const base of segmentBases(dir)) fs.rmSync(path.join(dir, `${pad20(base)}.index`))
      const rebuilt = await Log.open(dir, { flush: 'never' })
      open.push(rebuilt)
      await check(rebuilt, c.seed + 300)
      await rebuilt.close()
      for (const base of segmentBases(dir)) expect(fs.existsSync(path.join(dir, `${pad20(base)}.index`))).toBe(true)

      const readOnly = await Log.open(dir, { readOnly: true })
      open.push(readOnly)
      await check(readOnly, c.seed + 400)
    })
  }
})
