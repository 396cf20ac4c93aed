import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FileCache } from './file-cache.js'
import { defaultIO, type FileIO } from './file-io.js'
import { Log } from './log.js'
import { pad20, prng, randInt, segmentBases, tempDirs } from './test-support/storage-fixtures.js'

const dirs = tempDirs('file-cache')
afterEach(() => dirs.cleanup())

/** defaultIO, recording which files are opened and closed (and reads of index files). */
function recordingIO(): FileIO & { opened: string[]; closed: string[]; indexReads: string[] } {
  const names = new Map<number, string>()
  const io = {
    ...defaultIO,
    opened: [] as string[],
    closed: [] as string[],
    indexReads: [] as string[],
    openSync(file: string, flags: string) {
      const fd = defaultIO.openSync(file, flags)
      names.set(fd, file)
      io.opened.push(file)
      return fd
    },
    closeSync(fd: number) {
      io.closed.push(names.get(fd) ?? `fd ${fd}`)
      names.delete(fd)
      defaultIO.closeSync(fd)
    },
    readFileSync(file: string) {
      if (file.endsWith('.index')) io.indexReads.push(path.basename(file))
      return defaultIO.readFileSync(file)
    },
  }
  return io
}

function makeFiles(dir: string, names: string[]): string[] {
  return names.map((n) => {
    const file = path.join(dir, n)
    fs.writeFileSync(file, n)
    return file
  })
}

/** Whether `fd` is an open descriptor of `file` (same inode). */
function isOpenOn(fd: number, file: string): boolean {
  try {
    return fs.fstatSync(fd).ino === fs.statSync(file).ino
  } catch {
    return false
  }
}

describe('FileCache', () => {
  it('hands out one read descriptor per file and reuses it', () => {
    const io = recordingIO()
    const [a] = makeFiles(dirs.make(), ['a'])
    const cache = new FileCache(4, io)
    const fd = cache.acquire(a)
    expect(cache.acquire(a)).toBe(fd)
    expect(io.opened).toEqual([a])
    const buf = Buffer.alloc(1)
    fs.readSync(fd, buf, 0, 1, 0)
    expect(buf.toString()).toBe('a')
    expect(() => fs.writeSync(fd, 'x')).toThrow() // read-only
    cache.release(a)
  })

  it('evicts the least recently used file first, closing its descriptor', () => {
    const io = recordingIO()
    const [a, b, c, d, e] = makeFiles(dirs.make(), ['a', 'b', 'c', 'd', 'e'])
    const cache = new FileCache(3, io)
    const fdA = cache.acquire(a)
    const fdB = cache.acquire(b)
    cache.acquire(c)
    cache.acquire(a) // a is now the most recent: b is the oldest
    expect(io.closed).toEqual([])
    cache.acquire(d)
    expect(io.closed).toEqual([b])
    expect(cache.size).toBe(3)
    expect(isOpenOn(fdA, a)).toBe(true)
    expect(isOpenOn(fdB, b)).toBe(false)
    cache.acquire(e) // then c
    expect(io.closed).toEqual([b, c])
    cache.acquire(b) // reopened; a goes next
    expect(io.closed).toEqual([b, c, a])
    expect(io.opened).toEqual([a, b, c, d, e, b])
    expect(cache.size).toBe(3)
  })

  it('never holds more than its capacity (random use)', () => {
    const io = recordingIO()
    const files = makeFiles(dirs.make(), Array.from({ length: 40 }, (_, i) => `f${i}`))
    const cache = new FileCache(8, io)
    const rand = prng(1)
    const recent: string[] = []
    for (let i = 0; i < 2000; i++) {
      const f = files[randInt(rand, 0, files.length - 1)]
      const fd = cache.acquire(f)
      expect(isOpenOn(fd, f)).toBe(true)
      expect(cache.size).toBeLessThanOrEqual(8)
      // Model: the 8 most recently used files are the open ones.
      const at = recent.indexOf(f)
      if (at >= 0) recent.splice(at, 1)
      recent.push(f)
      if (recent.length > 8) recent.shift()
    }
    const open = new Set(io.opened)
    for (const f of io.closed) open.delete(f)
    // Files can be opened several times; count what is open now.
    const counts = new Map<string, number>()
    for (const f of io.opened) counts.set(f, (counts.get(f) ?? 0) + 1)
    for (const f of io.closed) counts.set(f, (counts.get(f) ?? 0) - 1)
    const openNow = [...counts].filter(([, n]) => n > 0).map(([f]) => f).sort()
    expect(openNow).toEqual([...recent].sort())
  })

  it('release closes a file at once; releasing an unknown file does nothing', () => {
    const io = recordingIO()
    const [a, b] = makeFiles(dirs.make(), ['a', 'b'])
    const cache = new FileCache(2, io)
    const fdA = cache.acquire(a)
    cache.acquire(b)
    cache.release(a)
    expect(io.closed).toEqual([a])
    expect(isOpenOn(fdA, a)).toBe(false)
    expect(cache.size).toBe(1)
    cache.release(a)
    cache.release(path.join(path.dirname(a), 'never-opened'))
    expect(io.closed).toEqual([a])
    const again = cache.acquire(a)
    expect(isOpenOn(again, a)).toBe(true)
    expect(io.closed).toEqual([a]) // there was room: nothing evicted
  })

  it('releaseDir closes the files under that directory only', () => {
    const io = recordingIO()
    const root = dirs.make()
    for (const d of ['orders-1', 'orders-10']) fs.mkdirSync(path.join(root, d))
    const [x, y] = makeFiles(path.join(root, 'orders-1'), ['x', 'y'])
    const [z] = makeFiles(path.join(root, 'orders-10'), ['z'])
    const cache = new FileCache(10, io)
    cache.acquire(x)
    cache.acquire(z)
    cache.acquire(y)
    cache.releaseDir(path.join(root, 'orders-1'))
    expect(io.closed.sort()).toEqual([x, y].sort())
    expect(cache.size).toBe(1)
  })

  it('needs room for at least one file', () => {
    expect(() => new FileCache(0, defaultIO)).toThrow(RangeError)
  })
})

/** The process's soft and hard limits on open files, or null where prlimit is not available. */
function fileLimits(): { soft: string; hard: string } | null {
  try {
    const out = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--raw', '--noheadings', '-o', 'SOFT,HARD'], { encoding: 'utf8' })
    const [soft, hard] = out.trim().split(/\s+/)
    return { soft, hard }
  } catch {
    return null
  }
}

function setSoftFileLimit(soft: string, hard: string): void {
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:${hard}`], { stdio: 'ignore' })
}

function openDescriptors(): number {
  return fs.readdirSync('/proc/self/fd').length
}

describe('a log of 10,000 tiny segments', () => {
  it('opens and reads across every segment with a bounded number of descriptors and loaded indexes', async () => {
    const SEGMENTS = 10_000
    const CAPACITY = 64
    const dir = dirs.make()
    const io = recordingIO()
    class WatchedCache extends FileCache {
      peak = 0
      override acquire(file: string): number {
        const fd = super.acquire(file)
        this.peak = Math.max(this.peak, this.size)
        return fd
      }
    }
    const files = new WatchedCache(CAPACITY, io)
    const procFd = fs.existsSync('/proc/self/fd')
    const limits = fileLimits()
    if (limits === null) console.warn('prlimit is not available: the open-file limit is not lowered for this test')
    // Far fewer descriptors than segments: without the cache, reading them all fails with EMFILE.
    if (limits !== null) setSoftFileLimit('512', limits.hard)
    const logs: Log[] = []
    try {
      // segmentBytes 1: every append rolls.
      const writer = await Log.open(dir, { segmentBytes: 1, flush: 'never', files, io })
      logs.push(writer)
      for (let i = 0; i < SEGMENTS; i++) {
        await writer.append([{ key: `k${i}`, value: `v${i}`, timestamp: 1_000_000 + i }])
        // A rolled segment keeps its write descriptor until the flusher has synced it.
        if (i % 100 === 99) await writer.flush()
      }
      expect(writer.segmentCount).toBe(SEGMENTS)
      await writer.close()
      expect(segmentBases(dir)).toHaveLength(SEGMENTS)
      expect(fs.existsSync(path.join(dir, `${pad20(SEGMENTS - 1)}.timeindex`))).toBe(true)

      const baseline = procFd ? openDescriptors() : 0
      let peakDescriptors = 0
      const sample = (): void => {
        if (procFd) peakDescriptors = Math.max(peakDescriptors, openDescriptors())
      }
      files.peak = 0
      io.indexReads.length = 0
      const log = await Log.open(dir, { segmentBytes: 1, flush: 'never', files, io })
      logs.push(log)
      sample()
      expect(log.segmentCount).toBe(SEGMENTS)
      expect(log.logEndOffset).toBe(SEGMENTS)
      // Opening does not read every segment's index.
      expect(io.indexReads.length).toBeLessThan(10)

      // One read across all of them.
      const all = await log.read(0, { maxBytes: 64 * 1024 * 1024 })
      sample()
      expect(all).toHaveLength(SEGMENTS)
      all.forEach((r, i) => {
        expect(r.offset).toBe(i)
        expect(r.value?.toString()).toBe(`v${i}`)
      })
      // And at random, which makes the cache evict all the time.
      const rand = prng(4)
      for (let i = 0; i < 2000; i++) {
        const offset = randInt(rand, 0, SEGMENTS - 1)
        const [r] = await log.read(offset, { maxRecords: 1 })
        expect(r.key?.toString()).toBe(`k${offset}`)
        if (i % 100 === 0) sample()
      }
      // Streamed, one record at a time.
      let next = 0
      for await (const r of log.stream()) {
        expect(r.offset).toBe(next++)
        if (next % 1000 === 0) sample()
      }
      expect(next).toBe(SEGMENTS)
      expect(await log.offsetForTimestamp(1_000_000 + 7777)).toBe(7777)

      expect(files.peak).toBeLessThanOrEqual(CAPACITY)
      expect(files.peak).toBe(CAPACITY) // it was used to the full, not bypassed
      if (procFd) expect(peakDescriptors - baseline).toBeLessThanOrEqual(CAPACITY + 8)

      // Indexes are loaded when needed and dropped again: segment 0's index, loaded by the first
      // read, was dropped while reading far away, so reading it again loads it from disk again ...
      const name0 = `${pad20(0)}.index`
      const reads0 = io.indexReads.filter((n) => n === name0).length
      expect(reads0).toBeGreaterThanOrEqual(1)
      await log.read(0, { maxRecords: 1 })
      expect(io.indexReads.filter((n) => n === name0).length).toBe(reads0 + 1)
      // ... while a segment read a moment ago still has its index in memory.
      await log.read(0, { maxRecords: 1 })
      expect(io.indexReads.filter((n) => n === name0).length).toBe(reads0 + 1)
      // At most a bounded number stay loaded: after 100 other segments, segment 0 is gone again.
      for (let s = 5000; s < 5100; s++) await log.read(s, { maxRecords: 1 })
      await log.read(0, { maxRecords: 1 })
      expect(io.indexReads.filter((n) => n === name0).length).toBe(reads0 + 2)

      await log.close()
    } finally {
      // Descriptors first (a failure may have left many open), then the limit.
      for (const l of logs) await l.close().catch(() => {})
      for (const file of segmentBases(dir)) files.release(path.join(dir, `${pad20(file)}.log`))
      if (limits !== null) setSoftFileLimit(limits.soft, limits.hard)
    }
  })
})
