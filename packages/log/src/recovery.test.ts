/**
 * Recovery and corruption, after Kafka's LogLoaderTest and LogSegmentTest: damage is made in real
 * files, and the log is opened again the way it would be after a crash.
 *
 * Two honest ways to get an unclean stop in one process:
 * - a crash image: the directory of a log that is still open is copied, which is exactly what a
 *   SIGKILL at that moment would leave (the checkpoint, the unsynced tail, no clean-shutdown
 *   marker, a stale lock); the original is then closed;
 * - a clean close followed by deleting the `.clean-shutdown` marker, which forces recovery with the
 *   recovery point at the end of the log.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CHECKPOINT_FILE, CLEAN_SHUTDOWN_FILE } from './checkpoint.js'
import { defaultIO, type FileIO } from './file-io.js'
import { Log, type LogOptions } from './log.js'
import type { RecordInput } from './record-batch.js'
import { prng as random } from './test-support/storage-fixtures.js'

const T0 = 1_700_000_000_000
const OPTIONS: LogOptions = { segmentBytes: 4096, indexIntervalBytes: 256, flush: 'never' }

const dirs: string[] = []
const opened: Log[] = []

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-recovery-'))
  dirs.push(dir)
  return dir
}

async function openLog(dir: string, options: LogOptions = {}): Promise<Log> {
  const log = await Log.open(dir, { ...OPTIONS, ...options })
  opened.push(log)
  return log
}

afterEach(async () => {
  for (const log of opened.splice(0)) await log.close().catch(() => {})
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256)
  return b
}

function valueOf(i: number): Buffer {
  const b = Buffer.alloc(1 + ((i * 37) % 300))
  for (let j = 0; j < b.length; j++) b[j] = (i * 7 + j) % 256
  return b
}

/** Record i: its key, value and timestamp all follow from i. */
function rec(i: number): RecordInput {
  return { key: `key-${i}`, value: valueOf(i), timestamp: T0 + i * 10 }
}

/** Append records [from, to) in batches of 1 to 4 records. */
async function appendRange(log: Log, from: number, to: number): Promise<void> {
  let i = from
  while (i < to) {
    const n = Math.min(1 + (i % 4), to - i)
    const result = await log.append(Array.from({ length: n }, (_, j) => rec(i + j)))
    expect(result.baseOffset).toBe(i)
    i += n
  }
}

/** A log of `count` records in several segments, closed cleanly. */
async function writeLog(count: number, options: LogOptions = {}): Promise<string> {
  const dir = tempDir()
  const log = await Log.open(dir, { ...OPTIONS, ...options })
  await appendRange(log, 0, count)
  await log.close()
  return dir
}

/**
 * The files a crash would leave: `fill` runs against an open log, then its directory is copied as
 * it is. The clock stands still, so the checkpoint keeps the recovery point of the open (0).
 */
async function crashImage(count: number, options: LogOptions = {}): Promise<string> {
  const live = tempDir()
  const log = await Log.open(live, { ...OPTIONS, now: () => T0, ...options })
  await appendRange(log, 0, count)
  const image = tempDir()
  fs.cpSync(live, image, { recursive: true })
  await log.close()
  expect(fs.existsSync(path.join(image, CLEAN_SHUTDOWN_FILE))).toBe(false)
  return image
}

function segmentFiles(dir: string, suffix = '.log'): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => /^\d{20}\.log$/.test(n.replace(/\.(index|timeindex)$/, '.log')) && n.endsWith(suffix))
    .sort()
    .map((n) => path.join(dir, n))
}

interface BatchAt {
  file: string
  position: number
  size: number
  base: number
  last: number
}

/** The batches of every segment, found by reading the headers directly (no code under test). */
function batches(dir: string): BatchAt[] {
  const out: BatchAt[] = []
  for (const file of segmentFiles(dir)) {
    const data = fs.readFileSync(file)
    let pos = 0
    while (pos + 61 <= data.length) {
      const size = data.readInt32BE(pos + 8) + 12
      const base = Number(data.readBigInt64BE(pos))
      out.push({ file, position: pos, size, base, last: base + data.readInt32BE(pos + 23) })
      pos += size
    }
  }
  return out
}

/** Every record reads back with its offset, key, value and timestamp: exactly offsets [0, count). */
function expectRecords(log: Log, count: number): void {
  const got = log.readSync(log.logStartOffset, { maxBytes: 64 * 1024 * 1024 })
  expect(got.map((r) => r.offset)).toEqual(Array.from({ length: count }, (_, i) => i))
  for (const r of got) {
    expect(r.key?.toString()).toBe(`key-${r.offset}`)
    expect(r.value?.equals(valueOf(r.offset))).toBe(true)
    expect(r.timestamp).toBe(T0 + r.offset * 10)
  }
  expect(log.logEndOffset).toBe(count)
}

/** Lookups that go through the indexes: a read at every offset, a timestamp search for every record. */
async function expectLookups(log: Log, count: number): Promise<void> {
  for (let o = 0; o < count; o++) {
    const [r] = log.readSync(o, { maxRecords: 1 })
    expect(r?.offset).toBe(o)
    expect(r?.key?.toString()).toBe(`key-${o}`)
  }
  for (let i = 0; i < count; i++) {
    expect(await log.offsetForTimestamp(T0 + i * 10)).toBe(i)
    expect(await log.offsetForTimestamp(T0 + i * 10 - 5)).toBe(i)
  }
  expect(await log.offsetForTimestamp(T0 + count * 10)).toBeNull()
}

async function expectAppendResumes(log: Log, count: number): Promise<void> {
  await appendRange(log, count, count + 5)
  expectRecords(log, count + 5)
}

describe('recovery of a crash image', () => {
  it('recovers a log that was never closed whole, rebuilding the active index', async () => {
    const dir = await crashImage(120)
    expect(segmentFiles(dir).length).toBeGreaterThan(3)
    const log = await openLog(dir)
    expect(log.recovery).toMatchObject({ clean: false, damage: null, truncatedBytes: 0, droppedRecords: 0, segmentsDeleted: 0 })
    expect(log.recovery?.segmentsRecovered).toBe(segmentFiles(dir).length)
    expectRecords(log, 120)
    await expectLookups(log, 120)
    await expectAppendResumes(log, 120)
  })

  it('a clean shutdown skips recovery', async () => {
    const dir = await writeLog(60)
    const log = await openLog(dir)
    expect(log.recovery).toBeNull()
    expectRecords(log, 60)
  })

  for (const seed of [1, 2, 3, 4]) {
    for (const how of ['crash image', 'clean close'] as const) {
      it(`nonsense appended to the active .log is cut off (${how}, seed ${seed})`, async () => {
        const dir = how === 'crash image' ? await crashImage(80) : await writeLog(80)
        const active = segmentFiles(dir).at(-1) as string
        const size = fs.statSync(active).size
        const rand = random(seed)
        const nonsense = randomBytes(rand, 1 + Math.floor(rand() * 5000))
        fs.appendFileSync(active, nonsense)

        const log = await openLog(dir)
        expect(log.recovery).toMatchObject({ clean: false, truncatedBytes: nonsense.length, repaired: false })
        expect(log.recovery?.damage).toMatchObject({ file: active, position: size })
        expect(fs.statSync(active).size).toBe(size)
        expectRecords(log, 80)
        await expectAppendResumes(log, 80)
      })
    }
  }

  for (const seed of [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]) {
    it(`random bytes from a random batch onward: exactly the valid prefix survives (seed ${seed})`, async () => {
      const count = 150
      const dir = await crashImage(count)
      const rand = random(seed)
      const all = batches(dir)
      const victim = all[1 + Math.floor(rand() * (all.length - 1))]
      const size = fs.statSync(victim.file).size
      const fd = fs.openSync(victim.file, 'r+')
      fs.writeSync(fd, randomBytes(rand, size - victim.position), 0, size - victim.position, victim.position)
      fs.closeSync(fd)
      const later = segmentFiles(dir).filter((f) => f > victim.file)
      // Random bytes say nothing countable; the later segments' records are counted.
      const countable = later.length === 0 ? 0 : count - Number(path.basename(later[0], '.log'))

      const log = await openLog(dir)
      expect(log.recovery?.damage).toMatchObject({ file: victim.file, position: victim.position })
      expect(log.recovery?.droppedRecords).toBe(countable)
      expect(log.recovery?.segmentsDeleted).toBe(victim.position === 0 && victim.base > 0 ? later.length + 1 : later.length)
      for (const f of later) expect(fs.existsSync(f)).toBe(false)
      expectRecords(log, victim.base)
      await expectLookups(log, victim.base)
      await expectAppendResumes(log, victim.base)
    })
  }

  it('a zero-filled tail (the size grew, the data never came) is cut off', async () => {
    const dir = await crashImage(90)
    const active = segmentFiles(dir).at(-1) as string
    const size = fs.statSync(active).size
    fs.appendFileSync(active, Buffer.alloc(8192))
    const log = await openLog(dir)
    expect(log.recovery).toMatchObject({ truncatedBytes: 8192 })
    expect(fs.statSync(active).size).toBe(size)
    expectRecords(log, 90)
    await expectAppendResumes(log, 90)
  })

  it('zeroed last batches (written pages that never reached the disk) are cut off', async () => {
    const dir = await crashImage(90)
    const inActive = batches(dir).filter((b) => b.file === segmentFiles(dir).at(-1))
    expect(inActive.length).toBeGreaterThan(2)
    const first = inActive[inActive.length - 2]
    const fd = fs.openSync(first.file, 'r+')
    const end = fs.fstatSync(fd).size
    fs.writeSync(fd, Buffer.alloc(end - first.position), 0, end - first.position, first.position)
    fs.closeSync(fd)
    const log = await openLog(dir)
    expect(log.recovery?.damage).toMatchObject({ file: first.file, position: first.position })
    expectRecords(log, first.base)
    await expectAppendResumes(log, first.base)
  })

  it('a torn last batch (a write cut short) is cut off', async () => {
    const dir = await crashImage(90)
    const last = batches(dir).at(-1) as BatchAt
    fs.truncateSync(last.file, last.position + Math.floor(last.size / 2))
    const log = await openLog(dir)
    expect(log.recovery?.damage).toMatchObject({ file: last.file, position: last.position })
    expect(fs.statSync(last.file).size).toBe(last.position)
    expectRecords(log, last.base)
    await expectAppendResumes(log, last.base)
  })

  it('a batch whose offset does not follow is cut off, though its CRC (which does not cover the offset) is valid', async () => {
    const dir = await crashImage(90)
    const inActive = batches(dir).filter((b) => b.file === segmentFiles(dir).at(-1))
    const victim = inActive[Math.floor(inActive.length / 2)]
    const fd = fs.openSync(victim.file, 'r+')
    const header = Buffer.alloc(8)
    header.writeBigInt64BE(BigInt(victim.base + 1000))
    fs.writeSync(fd, header, 0, 8, victim.position)
    fs.closeSync(fd)
    const log = await openLog(dir)
    expect(log.recovery?.damage).toMatchObject({ file: victim.file, position: victim.position })
    expect(log.recovery?.damage?.problem).toMatch(/does not follow/)
    expectRecords(log, victim.base)
    await expectAppendResumes(log, victim.base)
  })

  it('a missing segment above the recovery point cuts the log where it was', async () => {
    const dir = await crashImage(150)
    const logs = segmentFiles(dir)
    expect(logs.length).toBeGreaterThan(4)
    const missing = logs[2]
    const base = Number(path.basename(missing, '.log'))
    for (const suffix of ['.log', '.index', '.timeindex']) fs.rmSync(missing.replace(/\.log$/, suffix))
    const log = await openLog(dir)
    expect(log.recovery?.damage?.problem).toMatch(/segment starts at offset/)
    expect(log.recovery?.droppedRecords).toBe(150 - Number(path.basename(logs[3], '.log')))
    expectRecords(log, base)
    expect(segmentFiles(dir)).toEqual(logs.slice(0, 2))
    await expectAppendResumes(log, base)
  })

  it('stray .tmp, .deleted, stale lock and orphaned index files are removed', async () => {
    for (const how of ['crash image', 'clean close'] as const) {
      const dir = how === 'crash image' ? await crashImage(40) : await writeLog(40)
      const strays = [
        `${CHECKPOINT_FILE}.tmp`,
        `${CLEAN_SHUTDOWN_FILE}.tmp`,
        '00000000000000000000.log.deleted',
        '00000000000000000007.index.deleted',
        '00000000000000000007.timeindex.deleted',
        '00000000000000099999.index',
        '00000000000000099999.timeindex',
        '.lock.stale-12345',
      ]
      for (const name of strays) fs.writeFileSync(path.join(dir, name), 'leftover')
      // A reader changes nothing.
      const reader = await openLog(dir, { readOnly: true })
      expectRecords(reader, 40)
      await reader.close()
      for (const name of strays) expect(fs.existsSync(path.join(dir, name))).toBe(true)

      const log = await openLog(dir)
      for (const name of strays) expect(fs.existsSync(path.join(dir, name)), `${name} after a ${how}`).toBe(false)
      if (how === 'crash image') expect(log.recovery?.strayFilesRemoved).toBe(strays.length)
      expectRecords(log, 40)
      await log.close()
    }
  })

  it('an unreadable checkpoint falls back to recovering every segment', async () => {
    const dir = await writeLog(100)
    fs.writeFileSync(path.join(dir, CHECKPOINT_FILE), '{"logStartOff')
    const log = await openLog(dir)
    expect(log.recovery?.clean).toBe(false)
    expect(log.recovery?.segmentsRecovered).toBe(segmentFiles(dir).length)
    expectRecords(log, 100)
  })
})

describe('index files', () => {
  type Damage = (file: string, rand: () => number) => void
  const damages: Record<string, Damage> = {
    deleted: (file) => fs.rmSync(file),
    'truncated to a partial entry': (file) => fs.truncateSync(file, Math.max(0, fs.statSync(file).size - 5)),
    'truncated to whole entries': (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 24) * 12),
    'emptied': (file) => fs.truncateSync(file, 0),
    'garbage of the same size': (file, rand) => fs.writeFileSync(file, randomBytes(rand, fs.statSync(file).size)),
    'nonsense appended': (file, rand) => fs.appendFileSync(file, randomBytes(rand, 24 * (1 + Math.floor(rand() * 10)))),
    'all 0xff': (file) => fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 0xff)),
    // Ordered, plausible and wrong: what an index left from before a truncation looks like.
    'shifted by one': (file) => {
      const data = fs.readFileSync(file)
      const size = file.endsWith('.timeindex') ? 12 : 8
      for (let i = 0; i + size <= data.length; i += size) {
        if (size === 8) data.writeInt32BE(data.readInt32BE(i + 4) + 1, i + 4)
        else data.writeBigInt64BE(data.readBigInt64BE(i) + 1n, i)
      }
      fs.writeFileSync(file, data)
    },
  }
  const rebuiltWhole = new Set(['deleted', 'truncated to a partial entry', 'emptied', 'garbage of the same size', 'nonsense appended', 'all 0xff', 'shifted by one'])

  let seed = 100
  for (const [name, damage] of Object.entries(damages)) {
    for (const which of ['.index', '.timeindex'] as const) {
      for (const where of ['closed', 'active'] as const) {
        for (const stop of ['clean', 'unclean'] as const) {
          const s = seed++
          it(`${name} ${which} of the ${where} segment, ${stop} stop: lookups stay right and the file is rebuilt`, async () => {
            const count = 140
            const dir = await writeLog(count)
            const logs = segmentFiles(dir)
            expect(logs.length).toBeGreaterThan(3)
            const file = (where === 'active' ? logs.at(-1) : logs[1])!.replace(/\.log$/, which)
            const original = fs.readFileSync(file)
            expect(original.length).toBeGreaterThan(which === '.index' ? 8 : 12)
            damage(file, random(s))
            if (stop === 'unclean') fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE))

            const log = await openLog(dir)
            expectRecords(log, count)
            await expectLookups(log, count)
            await log.close()
            if (rebuiltWhole.has(name)) expect(fs.readFileSync(file).equals(original), `${file} rebuilt`).toBe(true)

            const again = await openLog(dir)
            expect(again.recovery).toBeNull()
            await expectLookups(again, count)
          })
        }
      }
    }
  }

  it('a read-only open rebuilds a damaged index in memory and leaves the file alone', async () => {
    const dir = await writeLog(140)
    const file = segmentFiles(dir, '.index')[1]
    const garbage = randomBytes(random(7), fs.statSync(file).size)
    fs.writeFileSync(file, garbage)
    const log = await openLog(dir, { readOnly: true })
    await expectLookups(log, 140)
    expect(fs.readFileSync(file).equals(garbage)).toBe(true)
  })

  it("an index copied from another segment (ordered, but not this log's) is rebuilt", async () => {
    const dir = await writeLog(140)
    const [, second, third] = segmentFiles(dir, '.index')
    const original = fs.readFileSync(third)
    fs.copyFileSync(second, third)
    fs.copyFileSync(second.replace(/\.index$/, '.timeindex'), third.replace(/\.index$/, '.timeindex'))
    const log = await openLog(dir)
    await expectLookups(log, 140)
    await log.close()
    expect(fs.readFileSync(third).equals(original)).toBe(true)
  })
})

describe('damage below the recovery point', () => {
  /**
   * A log whose checkpoint holds a recovery point inside its first segment while later segments
   * exist: the clock moves once, after `checkpointed` records, so one checkpoint is written there.
   */
  async function liveLogWithRecoveryPointInFirstSegment(): Promise<{ dir: string; log: Log; count: number; checkpointed: number }> {
    const dir = tempDir()
    let clock = T0
    const log = await Log.open(dir, { ...OPTIONS, flush: 'always', now: () => clock })
    opened.push(log)
    await appendRange(log, 0, 10)
    clock += 10_000
    await appendRange(log, 10, 12)
    const checkpoint = JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8'))
    expect(checkpoint.recoveryPoint).toBe(12)
    await appendRange(log, 12, 120)
    expect(segmentFiles(dir).length).toBeGreaterThan(3)
    expect(JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8')).recoveryPoint).toBe(12)
    return { dir, log, count: 120, checkpointed: 12 }
  }

  function flipByteIn(b: BatchAt): number {
    // A byte of the records, covered by the CRC.
    const at = b.position + 61 + Math.floor((b.size - 61) / 2)
    const fd = fs.openSync(b.file, 'r+')
    const one = Buffer.alloc(1)
    fs.readSync(fd, one, 0, 1, at)
    one[0] ^= 0x5a
    fs.writeSync(fd, one, 0, 1, at)
    fs.closeSync(fd)
    return at
  }

  it('a flipped byte in a closed segment: an error on read, SAMSA_CORRUPT_LOG on an unclean open, then repair', async () => {
    const { dir, log, count, checkpointed } = await liveLogWithRecoveryPointInFirstSegment()
    const first = segmentFiles(dir)[0]
    const victim = batches(dir).filter((b) => b.file === first && b.last < checkpointed)[1]
    expect(victim.base).toBeGreaterThan(0)
    flipByteIn(victim)

    // The live log reports the damage on read, naming the file and the batch's position.
    let readError: unknown = null
    try {
      log.readSync(victim.base)
    } catch (err) {
      readError = err
    }
    expect(readError).toMatchObject({ code: 'SAMSA_CORRUPT_BATCH', file: first, position: victim.position })
    expect((readError as Error).message).toContain(`${first} at byte ${victim.position}`)

    // What a kill -9 now would leave behind.
    const image = tempDir()
    fs.cpSync(dir, image, { recursive: true })
    await log.close()
    const imageFirst = path.join(image, path.basename(first))
    const sizes = segmentFiles(image).map((f) => fs.statSync(f).size)

    const err = await Log.open(image, OPTIONS).then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'SAMSA_CORRUPT_LOG', retriable: false, file: imageFirst, position: victim.position })
    expect((err as Error).message).toContain(`${imageFirst} at byte ${victim.position}`)
    expect((err as Error).message).toContain('repair')
    // A failed open changes nothing, and leaves the directory unlocked.
    expect(segmentFiles(image).map((f) => fs.statSync(f).size)).toEqual(sizes)
    await expect(Log.open(image, OPTIONS)).rejects.toMatchObject({ code: 'SAMSA_CORRUPT_LOG' })

    const repaired = await openLog(image, { repair: true })
    expect(repaired.recovery).toMatchObject({
      clean: false,
      repaired: true,
      damage: { file: imageFirst, position: victim.position },
      droppedRecords: count - victim.base,
      segmentsDeleted: sizes.length - 1,
    })
    expect(fs.statSync(imageFirst).size).toBe(victim.position)
    expectRecords(repaired, victim.base)
    await expectLookups(repaired, victim.base)
    await expectAppendResumes(repaired, victim.base)
    await repaired.close()
    const again = await openLog(image)
    expect(again.recovery).toBeNull()
    expectRecords(again, victim.base + 5)
  })

  it('after a clean close the damage is found by reads, and by a repair open, which checks every segment', async () => {
    const dir = await writeLog(120)
    const second = segmentFiles(dir)[1]
    const victim = batches(dir).filter((b) => b.file === second)[2]
    flipByteIn(victim)

    const log = await openLog(dir)
    expect(log.recovery).toBeNull()
    expect(() => log.readSync(victim.base)).toThrow(expect.objectContaining({ code: 'SAMSA_CORRUPT_BATCH', position: victim.position }))
    await log.close()

    const repaired = await openLog(dir, { repair: true })
    expect(repaired.recovery).toMatchObject({ repaired: true, damage: { file: second, position: victim.position }, droppedRecords: 120 - victim.base })
    expectRecords(repaired, victim.base)
    await expectAppendResumes(repaired, victim.base)
  })

  it('a flipped byte in the last segment below the recovery point: SAMSA_CORRUPT_LOG, and repair counts what it drops', async () => {
    const dir = await writeLog(120)
    const last = segmentFiles(dir).at(-1) as string
    const inLast = batches(dir).filter((b) => b.file === last)
    expect(inLast.length).toBeGreaterThan(3)
    const victim = inLast[1]
    flipByteIn(victim)
    fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE))

    await expect(Log.open(dir, OPTIONS)).rejects.toMatchObject({ code: 'SAMSA_CORRUPT_LOG', file: last, position: victim.position })
    const repaired = await openLog(dir, { repair: true })
    expect(repaired.recovery).toMatchObject({ repaired: true, damage: { file: last, position: victim.position }, droppedRecords: 120 - victim.base })
    expectRecords(repaired, victim.base)
    await expectAppendResumes(repaired, victim.base)
  })
})

describe('the checkpoint and the clean-shutdown marker', () => {
  it('are replaced atomically: temp file, fdatasync, rename, fsync of the directory', async () => {
    const calls: string[] = []
    const fds = new Map<number, string>()
    const name = (file: string) => path.basename(file)
    const io: FileIO = {
      ...defaultIO,
      openSync(file, flags) {
        const fd = defaultIO.openSync(file, flags)
        fds.set(fd, name(file))
        if (/checkpoint|clean-shutdown/.test(file)) calls.push(`open ${name(file)} ${flags}`)
        return fd
      },
      writevSync(fd, buffers, position) {
        if (/checkpoint|clean-shutdown/.test(fds.get(fd) ?? '')) calls.push(`write ${fds.get(fd)}`)
        return defaultIO.writevSync(fd, buffers, position)
      },
      fdatasyncSync(fd) {
        if (/checkpoint|clean-shutdown/.test(fds.get(fd) ?? '')) calls.push(`fdatasync ${fds.get(fd)}`)
        defaultIO.fdatasyncSync(fd)
      },
      closeSync(fd) {
        if (/checkpoint|clean-shutdown/.test(fds.get(fd) ?? '')) calls.push(`close ${fds.get(fd)}`)
        defaultIO.closeSync(fd)
      },
      renameSync(from, to) {
        if (/checkpoint|clean-shutdown/.test(from)) calls.push(`rename ${name(from)} ${name(to)}`)
        defaultIO.renameSync(from, to)
      },
      unlinkSync(file) {
        if (/checkpoint|clean-shutdown/.test(file)) calls.push(`unlink ${name(file)}`)
        defaultIO.unlinkSync(file)
      },
      fsyncDirSync(dir) {
        calls.push('fsync dir')
        defaultIO.fsyncDirSync(dir)
      },
    }
    const dir = tempDir()
    const log = await openLog(dir, { io })
    await appendRange(log, 0, 10)
    await log.close()
    const replace = (file: string) => [
      `open ${file}.tmp w`,
      `write ${file}.tmp`,
      `fdatasync ${file}.tmp`,
      `close ${file}.tmp`,
      `rename ${file}.tmp ${file}`,
      'fsync dir',
    ]
    const text = calls.join('\n')
    expect(text).toContain(replace(CHECKPOINT_FILE).join('\n'))
    expect(text).toContain(replace(CLEAN_SHUTDOWN_FILE).join('\n'))
    // On close the checkpoint goes first: the marker must never vouch for an older recovery point.
    expect(text.lastIndexOf(`rename ${CHECKPOINT_FILE}.tmp`)).toBeLessThan(text.lastIndexOf(`rename ${CLEAN_SHUTDOWN_FILE}.tmp`))

    calls.length = 0
    const again = await openLog(dir, { io })
    // The marker goes (durably) before anything can be appended.
    expect(calls.join('\n')).toContain(`unlink ${CLEAN_SHUTDOWN_FILE}\nfsync dir`)
    expect(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE))).toBe(false)
    await again.close()
  })

  it("an append that lands while close is syncing (flush 'never') is synced before the marker claims a clean shutdown", async () => {
    const events: string[] = []
    const logFds = new Set<number>()
    let duringSync: (() => void) | null = null
    const io: FileIO = {
      ...defaultIO,
      openSync(file, flags) {
        const fd = defaultIO.openSync(file, flags)
        if (file.endsWith('.log')) logFds.add(fd)
        else logFds.delete(fd)
        return fd
      },
      writevSync(fd, buffers, position) {
        if (logFds.has(fd)) events.push('write')
        return defaultIO.writevSync(fd, buffers, position)
      },
      fdatasyncSync(fd) {
        if (logFds.has(fd)) events.push('sync')
        defaultIO.fdatasyncSync(fd)
      },
      async fdatasync(fd) {
        if (logFds.has(fd)) events.push('sync')
        const hook = duringSync
        duringSync = null
        hook?.()
        return defaultIO.fdatasync(fd)
      },
    }
    const dir = tempDir()
    const log = await openLog(dir, { io, flush: 'never' })
    await appendRange(log, 0, 10)
    let late: Promise<unknown> | null = null
    duringSync = () => {
      late = log.append([rec(10)])
    }
    await log.close()
    expect(await late).toEqual({ baseOffset: 10, lastOffset: 10 })
    expect(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE))).toBe(true)
    expect(events.lastIndexOf('sync')).toBeGreaterThan(events.lastIndexOf('write'))
    const again = await openLog(dir)
    expect(again.recovery).toBeNull()
    expectRecords(again, 11)
  })
})
