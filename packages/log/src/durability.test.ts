/**
 * Write failures and group commit, with real files and real fdatasync under a FileIO that fails on
 * request the way a full or broken disk does (ENOSPC, EIO, EFBIG, a short write then an error).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Log, type LogOptions } from './log.js'
import { faultyIO, type FaultyIO } from './test-support/faulty-io.js'

const dirs: string[] = []
const open: Log[] = []

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-durability-'))
  dirs.push(dir)
  return dir
}

async function openLog(dir: string, options: LogOptions): Promise<Log> {
  const log = await Log.open(dir, options)
  open.push(log)
  return log
}

afterEach(async () => {
  for (const log of open.splice(0)) await log.close().catch(() => {})
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

const record = (i: number, size = 100) => ({ key: `k${i}`, value: Buffer.alloc(size, i % 251) })

function logFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort()
}

/** The bytes of batches in each .log, checking that after them there are only preallocated zeros. */
function diskSizes(dir: string): number[] {
  return logFiles(dir).map((n) => batchBytes(path.join(dir, n)))
}

function batchBytes(file: string): number {
  const buf = fs.readFileSync(file)
  let end = 0
  while (end + 12 <= buf.length) {
    const length = buf.readInt32BE(end + 8)
    if (length <= 0 || end + 12 + length > buf.length) break
    end += 12 + length
  }
  for (let i = end; i < buf.length; i++) {
    if (buf[i] !== 0) throw new Error(`${file}: byte ${buf[i]} at ${i}, past the last whole batch (ending at ${end})`)
  }
  return end
}

/** Every record of the log, checked against what `record(i)` appended at offset i. */
function expectRecords(log: Log, count: number): void {
  const got = log.readSync(log.logStartOffset, { maxBytes: 64 * 1024 * 1024 })
  expect(got.map((r) => r.offset)).toEqual(Array.from({ length: count }, (_, i) => i))
  for (const r of got) {
    expect(r.key?.toString()).toBe(`k${r.offset}`)
    expect(r.value?.equals(record(r.offset, r.value.length).value)).toBe(true)
  }
}

async function expectStorageError(promise: Promise<unknown>, syscallCode: string): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err, 'the append should have been rejected').not.toBeNull()
  expect(err).toMatchObject({ code: 'SAMSA_STORAGE_ERROR', retriable: true, syscallCode })
}

describe('write failures', () => {
  for (const flush of ['always', 'interval', 'never'] as const) {
    for (const code of ['ENOSPC', 'EIO', 'EFBIG']) {
      it(`${code} from write with flush '${flush}': typed rejection, nothing left behind, appends resume`, async () => {
        const dir = tempDir()
        const io = faultyIO()
        const log = await openLog(dir, { flush, io })
        for (let i = 0; i < 10; i++) await log.append([record(i)])
        await log.flush()
        const before = diskSizes(dir)

        io.writeFault = { code }
        await expectStorageError(log.append([record(10)]), code)
        await expectStorageError(log.append([record(10), record(11)]), code)
        expect(diskSizes(dir)).toEqual(before)
        expect(log.logEndOffset).toBe(10)
        expectRecords(log, 10)

        io.writeFault = null
        expect(await log.append([record(10), record(11)])).toEqual({ baseOffset: 10, lastOffset: 11 })
        expectRecords(log, 12)
        await log.close()
        const again = await openLog(dir, { io })
        expectRecords(again, 12)
      })
    }
  }

  for (const partialBytes of [1, 30, 61, 150]) {
    it(`a short write of ${partialBytes} bytes then EIO is cut back to the last good batch`, async () => {
      const dir = tempDir()
      const io = faultyIO()
      const log = await openLog(dir, { flush: 'always', io })
      for (let i = 0; i < 5; i++) await log.append([record(i)])
      const before = diskSizes(dir)

      io.writeFault = { code: 'EIO', partialBytes, times: 1 }
      await expectStorageError(log.append([record(5), record(6)]), 'EIO')
      expect(diskSizes(dir)).toEqual(before)
      expectRecords(log, 5)

      expect(await log.append([record(5)])).toEqual({ baseOffset: 5, lastOffset: 5 })
      expectRecords(log, 6)
      await log.close()
      // The torn bytes are gone for good: nothing for recovery to find, no stray data after reopen.
      fs.rmSync(path.join(dir, '.clean-shutdown'))
      const again = await openLog(dir, { io })
      expect(again.recovery).toMatchObject({ clean: false, truncatedBytes: 0, damage: null })
      expectRecords(again, 6)
    })
  }

  it('a failed write in the middle of a group rejects that group and keeps the groups before it', async () => {
    const dir = tempDir()
    const io = faultyIO()
    const log = await openLog(dir, { flush: 'always', io })
    const first = await Promise.all(Array.from({ length: 8 }, (_, i) => log.append([record(i)])))
    expect(first.map((r) => r.baseOffset).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    const before = diskSizes(dir)
    io.writeFault = { code: 'ENOSPC', partialBytes: 200, times: 1 }
    const failed = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => log.append([record(8 + i)])))
    for (const r of failed) {
      expect(r.status).toBe('rejected')
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'SAMSA_STORAGE_ERROR', syscallCode: 'ENOSPC' })
    }
    expect(diskSizes(dir)).toEqual(before)
    // Records are not reordered by the failure: the next append takes the next free offset.
    for (let i = 8; i < 12; i++) expect((await log.append([record(i)])).baseOffset).toBe(i)
    expectRecords(log, 12)
  })

  for (const code of ['EIO', 'ENOSPC']) {
    it(`a failed fdatasync (${code}) with flush 'always' rejects the group and rolls back its unsynced tail`, async () => {
      const dir = tempDir()
      const io = faultyIO()
      const log = await openLog(dir, { flush: 'always', io })
      for (let i = 0; i < 5; i++) await log.append([record(i)])
      const before = diskSizes(dir)

      io.syncFault = { code, times: 1 }
      const results = await Promise.allSettled([log.append([record(5)]), log.append([record(6), record(7)]), log.append([record(8)])])
      for (const r of results) {
        expect(r.status).toBe('rejected')
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'SAMSA_STORAGE_ERROR', retriable: true, syscallCode: code })
      }
      // The bytes whose sync failed are cut off the file, not just hidden.
      expect(diskSizes(dir)).toEqual(before)
      expect(log.logEndOffset).toBe(5)
      expect(log.highWatermark).toBe(5)
      expectRecords(log, 5)

      expect(await log.append([record(5)])).toEqual({ baseOffset: 5, lastOffset: 5 })
      expectRecords(log, 6)
      await log.close()
      const again = await openLog(dir, { io })
      expectRecords(again, 6)
    })
  }

  it("a failed fdatasync of a group that rolled a segment deletes the new segment and keeps appending to the old", async () => {
    const dir = tempDir()
    const io = faultyIO()
    // 100-byte values make batches of about 180 bytes: five fit in a segment of 1000 bytes.
    const log = await openLog(dir, { flush: 'always', io, segmentBytes: 1000 })
    for (let i = 0; i < 3; i++) await log.append([record(i)])
    expect(logFiles(dir)).toHaveLength(1)
    const before = diskSizes(dir)

    io.syncFault = { code: 'EIO', times: 1 }
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => log.append([record(3 + i)])))
    expect(results.every((r) => r.status === 'rejected')).toBe(true)
    expect(logFiles(dir)).toHaveLength(1)
    expect(diskSizes(dir)).toEqual(before)
    expectRecords(log, 3)

    // The old segment is the active one again and must still be writable (and synced) many times over.
    for (let i = 3; i < 20; i++) expect((await log.append([record(i)])).baseOffset).toBe(i)
    expectRecords(log, 20)
    expect(logFiles(dir).length).toBeGreaterThan(1)
    await log.close()
    const again = await openLog(dir, { io })
    expectRecords(again, 20)
  })

  it('a failed fdatasync right after a roll (the old segment already synced) leaves a writable log', async () => {
    const dir = tempDir()
    const io = faultyIO()
    const log = await openLog(dir, { flush: 'always', io, segmentBytes: 1000 })
    // Fill the first segment so that the next append rolls before it writes anything.
    let n = 0
    while (logFiles(dir).length === 1) {
      const size = diskSizes(dir)[0]
      if (size + 2 * 180 > 1000) break
      await log.append([record(n++)])
    }
    const filled = n
    await log.append([record(n++)])
    expect(logFiles(dir)).toHaveLength(1)
    const before = diskSizes(dir)

    io.syncFault = { code: 'EIO', times: 1 }
    await expectStorageError(log.append([record(n)]), 'EIO')
    expect(diskSizes(dir)).toEqual(before)
    expect(log.logEndOffset).toBe(filled + 1)

    for (let i = 0; i < 15; i++) expect((await log.append([record(n)])).baseOffset).toBe(n++)
    expectRecords(log, n)
    await log.close()
    const again = await openLog(dir, { io })
    expectRecords(again, n)
  })

  for (const flush of ['always', 'interval'] as const) {
    it(`a roll whose directory fsync fails (flush '${flush}') leaves no segment file behind to shadow later records`, async () => {
      const dir = tempDir()
      const io = faultyIO()
      const log = await openLog(dir, { flush, io, segmentBytes: 1000 })
      let n = 0
      while (diskSizes(dir)[0] + 400 <= 1000) await log.append([record(n++)])
      expect(logFiles(dir)).toHaveLength(1)
      const before = diskSizes(dir)

      // A batch too big for what is left of the segment makes it roll, and the roll fails.
      io.dirSyncFault = { code: 'EIO', times: 1 }
      await expectStorageError(log.append([record(n, 400)]), 'EIO')
      expect(logFiles(dir)).toHaveLength(1)
      expect(diskSizes(dir)).toEqual(before)
      // A small one still fits: the old segment goes on past the offset the failed roll was for.
      expect((await log.append([record(n, 10)])).baseOffset).toBe(n)
      n++
      for (let i = 0; i < 12; i++, n++) expect((await log.append([record(n)])).baseOffset).toBe(n)
      expect(logFiles(dir).length).toBeGreaterThan(1)
      await log.close()
      fs.rmSync(path.join(dir, '.clean-shutdown'))
      const again = await openLog(dir, { io })
      expect(again.recovery?.damage).toBeNull()
      const got = again.readSync(0, { maxBytes: 64 * 1024 * 1024 })
      expect(got.map((r) => r.offset)).toEqual(Array.from({ length: n }, (_, i) => i))
    })
  }

  it("with flush 'interval' a failed sync fails flush(), keeps what was acknowledged, and a clean close is not claimed", async () => {
    const dir = tempDir()
    const io = faultyIO()
    const log = await openLog(dir, { flush: 'interval', flushIntervalMs: 60_000, io })
    for (let i = 0; i < 5; i++) await log.append([record(i)])
    io.syncFault = { code: 'EIO', times: 1 }
    await expectStorageError(log.flush(), 'EIO')
    expectRecords(log, 5)
    await log.flush()

    await log.append([record(5)])
    io.syncFault = { code: 'EIO' }
    await log.close()
    expect(fs.existsSync(path.join(dir, '.clean-shutdown'))).toBe(false)
    io.syncFault = null
    const again = await openLog(dir, { io })
    expect(again.recovery?.clean).toBe(false)
    expectRecords(again, 6)
  })
})

/**
 * 64 appenders appending in a loop: a handful of syncs each round, and no append resolves before a
 * sync of its write that began after the write and succeeded. Returns the FaultyIO, for more checks.
 */
async function appendersInALoop(blockingSync: boolean): Promise<FaultyIO> {
  const dir = tempDir()
  const io = faultyIO()
  const log = await openLog(dir, { flush: 'always', io, segmentBytes: 64 * 1024, blockingSync })
  // While a sync is in flight, what it covers is not yet visible to readers.
  let hiddenChecks = 0
  io.onSyncStart = () => {
    if (log.logEndOffset > log.highWatermark) {
      expect(log.readSync(log.highWatermark)).toEqual([])
      hiddenChecks++
    }
  }
  const rounds = 10
  const acked: { baseOffset: number; lastOffset: number }[] = []
  await Promise.all(
    Array.from({ length: 64 }, async (_, a) => {
      for (let s = 0; s < rounds; s++) {
        const records = Array.from({ length: 1 + ((a + s) % 3) }, () => record(0, 20 + ((a * 7 + s * 13) % 300)))
        const r = await log.append(records)
        io.mark('resolved', r.baseOffset)
        acked.push(r)
      }
    }),
  )
  const appends = 64 * rounds
  expect(acked).toHaveLength(appends)
  // Group commit: about one sync per round of 64 appends (plus the ones a segment roll adds).
  expect(io.logSyncs + io.logSyncsBlocking).toBeLessThan(appends / 8)
  expect(hiddenChecks).toBeGreaterThan(0)

  const writeOf = new Map<number, { seq: number; file: string }>()
  for (const e of io.events) if (e.kind === 'write') for (const b of e.baseOffsets) writeOf.set(b, e)
  const syncs = new Map<number, { start: number; end: number; file: string; ok: boolean }>()
  for (const e of io.events) {
    if (e.kind === 'sync-start') syncs.set(e.id, { start: e.seq, end: Number.POSITIVE_INFINITY, file: e.file, ok: false })
    if (e.kind === 'sync-end') Object.assign(syncs.get(e.id) as object, { end: e.seq, ok: e.ok })
  }
  const marks = io.events.filter((e) => e.kind === 'mark')
  expect(marks).toHaveLength(appends)
  for (const m of marks) {
    const write = writeOf.get(m.value)
    expect(write, `the write of the batch at ${m.value}`).toBeDefined()
    const covered = [...syncs.values()].some(
      (s) => s.ok && s.file === write!.file && s.start > write!.seq && s.end < m.seq,
    )
    expect(covered, `append at offset ${m.value} resolved without a sync that started after its write`).toBe(true)
  }
  // Every offset handed out exactly once, contiguous.
  const offsets = acked.flatMap((r) => Array.from({ length: r.lastOffset - r.baseOffset + 1 }, (_, i) => r.baseOffset + i))
  offsets.sort((a, b) => a - b)
  expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i))
  expect(log.segmentCount).toBeGreaterThan(1)
  return io
}

describe("group commit with flush 'always'", () => {
  it('64 concurrent appenders share one fdatasync', async () => {
    const dir = tempDir()
    const io = faultyIO()
    const log = await openLog(dir, { flush: 'always', io })
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => log.append([record(i)])))
    expect(results.map((r) => r.baseOffset).sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i))
    expect(io.logSyncs).toBeLessThanOrEqual(2)
    expect(io.logSyncs).toBeGreaterThanOrEqual(1)
    expectRecords(log, 64)
  })

  it('64 appenders appending in a loop cost a handful of syncs each round, and none resolves before its sync', async () => {
    const io = await appendersInALoop(false)
    expect(io.events.some((e) => e.kind === 'sync-start' && e.blocking)).toBe(false)
  })
})

describe("blockingSync with flush 'always'", () => {
  it('syncs each group on the event loop, and still no append resolves before a sync of its write', async () => {
    const io = await appendersInALoop(true)
    // Groups block; the syncs of rolls (64 KiB segments) go to the pool, and so do the groups of a
    // second after the average sync passes 1 ms, which the journal commits of new segments can do.
    expect(io.events.some((e) => e.kind === 'sync-start' && e.blocking)).toBe(true)
  })

  it('lets timers run while appenders keep it busy (a blocking sync never returns to the event loop)', async () => {
    const io = faultyIO()
    const log = await openLog(tempDir(), { flush: 'always', blockingSync: true, io })
    const runMs = 600
    const deadline = performance.now() + runMs
    let ticks = 0
    let last = performance.now()
    let maxGap = 0
    const timer = setInterval(() => {
      const now = performance.now()
      if (now < deadline) {
        ticks++
        maxGap = Math.max(maxGap, now - last)
        last = now
      }
    }, 1)
    let appends = 0
    await Promise.all(
      Array.from({ length: 64 }, async (_, a) => {
        while (performance.now() < deadline) {
          await log.append([record(a)])
          appends++
        }
      }),
    )
    clearInterval(timer)
    expect(appends).toBeGreaterThan(64)
    expect(io.logSyncsBlocking).toBeGreaterThan(0)
    // Without the loop's turns of the event loop, the timer does not fire until the appenders stop
    // (unless a slow disk sent the syncs to the thread pool for a while).
    expect(ticks).toBeGreaterThan(20)
    expect(maxGap).toBeLessThan(runMs / 3)
  })

  it('sends a sync of more than 1 MiB to the thread pool', async () => {
    const io = faultyIO()
    const log = await openLog(tempDir(), { flush: 'always', io, blockingSync: true })
    await log.append([record(0)])
    expect([io.logSyncsBlocking, io.logSyncs]).toEqual([1, 0])
    await log.append([record(1, 400 * 1024), record(2, 400 * 1024), record(3, 400 * 1024)])
    expect([io.logSyncsBlocking, io.logSyncs]).toEqual([1, 1])
    expectRecords(log, 4)
  })

  it('after a sync that stalls the event loop (a slow disk), the syncs of the next second go to the thread pool', async () => {
    const io = faultyIO()
    const log = await openLog(tempDir(), { flush: 'always', io, blockingSync: true })
    io.blockingSyncDelayMs = 25
    await log.append([record(0)])
    io.blockingSyncDelayMs = 0
    expect([io.logSyncsBlocking, io.logSyncs]).toEqual([1, 0])
    for (let i = 1; i <= 5; i++) await log.append([record(i)])
    expect([io.logSyncsBlocking, io.logSyncs]).toEqual([1, 5])
    await new Promise((r) => setTimeout(r, 1100))
    await log.append([record(6)])
    expect([io.logSyncsBlocking, io.logSyncs]).toEqual([2, 5])
    expectRecords(log, 7)
  })

  it('a failed blocking sync rejects its group and rolls it back; the log goes on', async () => {
    const dir = tempDir()
    const io = faultyIO()
    const log = await openLog(dir, { flush: 'always', io, blockingSync: true })
    await log.append([record(0)])
    io.blockingSyncFault = { code: 'EIO', times: 1 }
    const failed = await Promise.allSettled([log.append([record(1)]), log.append([record(2)])])
    for (const r of failed) {
      expect(r.status).toBe('rejected')
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'SAMSA_STORAGE_ERROR', retriable: true, syscallCode: 'EIO' })
    }
    expect(log.logEndOffset).toBe(1)
    expect(diskSizes(dir)).toHaveLength(1)
    expect((await log.append([record(1)])).baseOffset).toBe(1)
    expectRecords(log, 2)
  })

  it('is a boolean, and changes nothing with the other flush policies', async () => {
    await expect(Log.open(tempDir(), { flush: 'always', blockingSync: 'yes' as unknown as boolean })).rejects.toMatchObject({
      code: 'SAMSA_INVALID_ARGUMENT',
    })
    const io = faultyIO()
    const log = await openLog(tempDir(), { flush: 'interval', io, blockingSync: true })
    await log.append([record(0)])
    await log.flush()
    expect([io.logSyncsBlocking, io.logSyncs]).toEqual([0, 1])
  })
})

describe("flush 'interval'", () => {
  it('a segment rolled away while its sync runs is synced again, after its last write, before the log closes', async () => {
    const io = faultyIO()
    const dir = tempDir()
    const log = await openLog(dir, { flush: 'interval', flushIntervalMs: 3_600_000, segmentBytes: 1000, io })
    await log.append([record(0, 300)])
    let fired = false
    io.onSyncStart = () => {
      if (fired) return
      fired = true
      // Appends under 'interval' are written at once: these land in the segment being synced,
      // after its sync began, and then roll it away.
      for (let i = 1; i <= 3; i++) void log.append([record(i, 300)])
    }
    await log.flush()
    expect(fired).toBe(true)
    expect(log.segmentCount).toBeGreaterThan(1)
    await log.close()
    const written = new Set<string>()
    for (const e of io.events) {
      if (e.kind !== 'write') continue
      written.add(e.file)
      // A sync that began after the write, and succeeded.
      const syncedAfter = io.events.some(
        (s) =>
          s.kind === 'sync-start' &&
          s.file === e.file &&
          s.seq > e.seq &&
          io.events.some((t) => t.kind === 'sync-end' && t.id === s.id && t.ok),
      )
      expect(syncedAfter, `write at ${e.position} of ${path.basename(e.file)}`).toBe(true)
    }
    expect(written.size).toBeGreaterThan(1)
    expectRecords(await openLog(dir), 4)
  })
})

describe("preallocation with flush 'always'", () => {
  const fileSize = (dir: string, name: string) => fs.statSync(path.join(dir, name)).size

  it('zero-fills ahead of the appends while open, and a clean close cuts the zeros off', async () => {
    const dir = tempDir()
    const log = await openLog(dir, { flush: 'always' })
    for (let i = 0; i < 10; i++) await log.append([record(i)])
    const [active] = logFiles(dir)
    expect(fileSize(dir, active)).toBe(256 * 1024)
    expect(batchBytes(path.join(dir, active))).toBe(log.size)
    await log.close()
    expect(fileSize(dir, active)).toBe(log.size)
    const again = await openLog(dir, { flush: 'always' })
    expect(again.recovery).toBeNull()
    expectRecords(again, 10)
  })

  it('is off unless asked for with the other flush policies', async () => {
    const dir = tempDir()
    const log = await openLog(dir, { flush: 'interval' })
    await log.append([record(0)])
    expect(fileSize(dir, logFiles(dir)[0])).toBe(log.size)
    const asked = tempDir()
    const withZeros = await openLog(asked, { flush: 'interval', preallocate: true })
    await withZeros.append([record(0)])
    expect(fileSize(asked, logFiles(asked)[0])).toBe(256 * 1024)
  })

  it('a crash leaves the zeros; recovery cuts them and keeps every acknowledged record', async () => {
    const live = tempDir()
    const log = await openLog(live, { flush: 'always' })
    for (let i = 0; i < 25; i++) await log.append([record(i)])
    // What the disk holds if the process dies now: the page cache as it is, no clean-shutdown marker.
    const image = tempDir()
    fs.cpSync(live, image, { recursive: true })
    fs.rmSync(path.join(image, '.lock'), { force: true })
    const [active] = logFiles(image)
    expect(fileSize(image, active)).toBe(256 * 1024)
    const recovered = await openLog(image, { flush: 'always' })
    expect(recovered.recovery?.clean).toBe(false)
    expect(recovered.recovery?.truncatedBytes).toBe(256 * 1024 - log.size)
    expect(recovered.recovery?.droppedRecords).toBe(0)
    expectRecords(recovered, 25)
    expect((await recovered.append([record(25)])).baseOffset).toBe(25)
    expectRecords(recovered, 26)
  })

  it('a roll cuts the zeros off the old segment before the new one exists', async () => {
    const dir = tempDir()
    const log = await openLog(dir, { flush: 'always', segmentBytes: 4096 })
    for (let i = 0; i < 120; i++) await log.append([record(i)])
    const segments = log.listSegments()
    expect(segments.length).toBeGreaterThan(3)
    for (const s of segments.slice(0, -1)) expect(fs.statSync(s.file).size).toBe(s.size)
    // The active one is zero-filled up to the segment size, never past it.
    expect(fs.statSync(segments.at(-1)!.file).size).toBe(4096)
  })

  it('never zero-fills past segmentBytes, when that is not a multiple of the fill', async () => {
    const dir = tempDir()
    const segmentBytes = 300 * 1024
    const log = await openLog(dir, { flush: 'always', segmentBytes })
    // 1 KiB batches: past the first 256 KiB fill, then on to the roll.
    for (let i = 0; i < 400; i++) {
      await log.append([record(i, 1000)])
      for (const s of log.listSegments()) expect(fs.statSync(s.file).size).toBeLessThanOrEqual(segmentBytes)
    }
    expect(log.segmentCount).toBeGreaterThan(1)
    expectRecords(log, 400)
  })

  it('a read-only tailer of a live log reads every acknowledged record and never the zeros', async () => {
    const dir = tempDir()
    const log = await openLog(dir, { flush: 'always' })
    for (let i = 0; i < 5; i++) await log.append([record(i)])
    const reader = await openLog(dir, { readOnly: true })
    expectRecords(reader, 5)
    for (let i = 5; i < 40; i++) await log.append([record(i)])
    expect(reader.readSync(5, { maxBytes: 1 << 20 }).map((r) => r.offset)).toEqual(Array.from({ length: 35 }, (_, i) => 5 + i))
    expect(reader.logEndOffset).toBe(40)
  })

  it('a write up to the zero-fill chunk (256 KiB) is zero-filled; a bigger one goes without zeros', async () => {
    const dir = tempDir()
    const log = await openLog(dir, { flush: 'always' })
    // ~70 KiB, what 64 appenders of ten 100-byte records make in one group.
    await log.append(Array.from({ length: 70 }, (_, i) => record(i, 1000)))
    expect(log.size).toBeGreaterThan(64 * 1024)
    expect(fileSize(dir, logFiles(dir)[0])).toBe(256 * 1024)
    const other = tempDir()
    const big = await openLog(other, { flush: 'always' })
    await big.append(Array.from({ length: 300 }, (_, i) => record(i, 1000)))
    expect(big.size).toBeGreaterThan(256 * 1024)
    expect(fileSize(other, logFiles(other)[0])).toBe(big.size)
    await big.append([record(300)])
    expect(fileSize(other, logFiles(other)[0])).toBeGreaterThan(big.size)
    expectRecords(log, 70)
    expectRecords(big, 301)
  })

  it('a full disk while zero-filling only costs the speed-up: the append is written without zeros', async () => {
    const dir = tempDir()
    const io = faultyIO()
    const log = await openLog(dir, { flush: 'always', io })
    // The first write of a new segment is its zero fill: fail that one.
    io.writeFault = { code: 'ENOSPC', times: 1 }
    expect(await log.append([record(0)])).toEqual({ baseOffset: 0, lastOffset: 0 })
    expect(fileSize(dir, logFiles(dir)[0])).toBe(log.size)
    // The next append tries again, and gets its zeros.
    await log.append([record(1)])
    expect(fileSize(dir, logFiles(dir)[0])).toBeGreaterThan(256 * 1024)
    expect(batchBytes(path.join(dir, logFiles(dir)[0]))).toBe(log.size)
    expectRecords(log, 2)
  })
})
