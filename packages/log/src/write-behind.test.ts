/**
 * Write-behind (file-io.ts): with flush 'interval' or 'never' the log asks a worker thread to
 * fdatasync the active segment every `writeBehindBytes`, on a descriptor of the worker's own.
 */
import * as fs from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultIO, type FileIO } from './file-io.js'
import { Log } from './log.js'
import { tempDirs } from './test-support/storage-fixtures.js'

const dirs = tempDirs('write-behind')
const tempDir = () => dirs.make()
const logs: Log[] = []

afterEach(async () => {
  for (const log of logs.splice(0)) await log.close().catch(() => {})
  dirs.cleanup()
})

/** Descriptors of this process (every thread's) that point at `file`. */
function descriptorsOf(file: string): number {
  let n = 0
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) n++
    } catch {
      // Closed while we looked.
    }
  }
  return n
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

function countingIO(): FileIO & { requests: string[]; ended: string[]; sizes: number[]; log: Log | null } {
  const io = {
    ...defaultIO,
    requests: [] as string[],
    ended: [] as string[],
    /** The log's size at each request made. */
    sizes: [] as number[],
    log: null as Log | null,
    writeBehind(file: string) {
      const made = defaultIO.writeBehind(file)
      if (made) {
        io.requests.push(file)
        io.sizes.push(io.log?.size ?? -1)
      }
      return made
    },
    endWriteBehind(file: string) {
      io.ended.push(file)
      defaultIO.endWriteBehind(file)
    },
  }
  return io
}

const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ value: Buffer.alloc(1000, i) }))

describe('write-behind', () => {
  it('the worker syncs on a descriptor of its own, busy until done, and closes it when told', async () => {
    const dir = tempDir()
    const file = fs.realpathSync(dir) + '/data'
    fs.writeFileSync(file, Buffer.alloc(1 << 20, 1))
    expect(descriptorsOf(file)).toBe(0)
    expect(defaultIO.writeBehind(file)).toBe(true)
    // One request at a time: the next is refused until the worker reports the first done (it has
    // a MiB of dirty pages to write, so it cannot be done already).
    expect(defaultIO.writeBehind(file)).toBe(false)
    await until('the worker took the next request', () => defaultIO.writeBehind(file))
    await until('the worker holds the file open', () => descriptorsOf(file) === 1)
    defaultIO.endWriteBehind(file)
    await until('the worker closed the file', () => descriptorsOf(file) === 0)
  })

  for (const flush of ['interval', 'never'] as const) {
    it(`with flush '${flush}' it is asked for every writeBehindBytes, and the segment ends it when it rolls`, async () => {
      const dir = tempDir()
      const io = countingIO()
      const log = await Log.open(dir, { flush, io, writeBehindBytes: 256 * 1024, segmentBytes: 4 * 1024 * 1024 })
      logs.push(log)
      io.log = log
      // 100 KB a batch: a request every third batch at most, fewer while the worker is busy.
      for (let i = 0; i < 60; i++) {
        await log.append(batch(100))
        await new Promise((r) => setTimeout(r, 2))
      }
      expect(io.requests.length).toBeGreaterThan(1)
      for (let i = 1; i < io.sizes.length; i++) expect(io.sizes[i] - io.sizes[i - 1]).toBeGreaterThanOrEqual(256 * 1024)
      const first = log.listSegments()[0].file
      expect(io.requests.every((f) => f === first || log.listSegments().some((s) => s.file === f))).toBe(true)
      expect(log.segmentCount).toBeGreaterThan(1)
      // The rolled-away segment's descriptor in the worker is closed once the log is done with it.
      await log.flush()
      expect(io.ended).toContain(first)
      await until('the worker closed the old segment', () => descriptorsOf(first) === 0)
      const records = log.readSync(0, { maxBytes: 64 * 1024 * 1024 })
      expect(records).toHaveLength(6000)
    })
  }

  it("is not used with flush 'always' (every append is synced) or when set to 0", async () => {
    for (const options of [{ flush: 'always' as const }, { flush: 'never' as const, writeBehindBytes: 0 }]) {
      const io = countingIO()
      const log = await Log.open(tempDir(), { ...options, io })
      logs.push(log)
      for (let i = 0; i < 100; i++) await log.append(batch(100))
      expect(io.requests).toEqual([])
    }
  })

  it('refuses a negative or non-numeric writeBehindBytes with a typed error', async () => {
    await expect(Log.open(tempDir(), { writeBehindBytes: -1 })).rejects.toMatchObject({ code: 'SAMSA_INVALID_ARGUMENT' })
    await expect(Log.open(tempDir(), { writeBehindBytes: 'x' as unknown as number })).rejects.toMatchObject({ code: 'SAMSA_INVALID_ARGUMENT' })
  })
})
