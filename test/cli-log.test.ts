/**
 * `samsa log dump`, `samsa log verify` and `samsa retention run`, end to end with the built CLI,
 * on data directories written by the embedded API in another process: batch lines checked
 * against each other and the records, index sanity checks catching a bad entry, verify catching
 * a flipped byte (naming the file and byte position), and retention by time and by size.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, test } from 'vitest'
import { CLI, checkBuilt, cleanup, errorLines, jsonLines, ok, run, samsa, seed, type SeedSpec, tempDir } from './cli-helpers.js'

const DAY = 86_400_000

beforeAll(checkBuilt)
afterAll(cleanup)

/** Topic `big`: 12 batches of 10 records of ~300 bytes, in 16 KiB segments; `small`: one batch; `other`: one record. */
function logSpec(): SeedSpec {
  return {
    topics: [
      { name: 'big', partitions: 1, config: { segmentBytes: 16_384 } },
      { name: 'small', partitions: 1 },
      { name: 'other', partitions: 1 },
    ],
    sends: [
      ...Array.from({ length: 12 }, (_, b) => ({
        topic: 'big',
        messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${b * 10 + i}`, value: `v${b * 10 + i}-${'x'.repeat(300)}` })),
      })),
      {
        topic: 'small',
        messages: [
          { key: 'k1', value: 'hello', headers: [{ key: 'a', value: '1' }], timestamp: 1_700_000_000_000 },
          { key: null, value: 'world', timestamp: 1_700_000_000_005 },
        ],
      },
      { topic: 'other', messages: [{ value: 'fine' }] },
    ],
  }
}

interface BatchJson {
  file: string
  baseOffset: number
  lastOffset: number
  count: number
  position: number
  size: number
  crc: number
  isValid: boolean
  problem: string | null
  compression: string
  maxTimestamp: number
}

const segmentLogs = (partitionDir: string) =>
  fs
    .readdirSync(partitionDir)
    .filter((n) => /^\d{20}\.log$/.test(n))
    .sort()
    .map((n) => path.join(partitionDir, n))

/** `baseOffset: 0 lastOffset: 9 ...` lines as objects. */
function parseKv(line: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of line.matchAll(/(\w+): (\S+)/g)) out[m[1]] = m[2]
  return out
}

describe.concurrent('log dump', () => {
  test('a partition directory: one line per batch, like kafka-dump-log, consistent with --json and with the offsets', async ({ expect }) => {
    const dir = tempDir()
    await seed(dir, logSpec())
    const part = path.join(dir, 'big-0')
    const logs = segmentLogs(part)
    expect(logs.length).toBeGreaterThanOrEqual(3)

    const text = await ok(['log', 'dump', part])
    const lines = text.split('\n').filter(Boolean)
    expect(lines.filter((l) => l.startsWith('Dumping ')).map((l) => l.slice('Dumping '.length))).toEqual(logs)
    const batches = lines.filter((l) => l.startsWith('baseOffset:')).map(parseKv)
    expect(batches).toHaveLength(12)
    for (const b of batches) {
      expect(Object.keys(b)).toEqual(expect.arrayContaining(['baseOffset', 'lastOffset', 'count', 'position', 'CreateTime', 'size', 'crc', 'isvalid', 'compression', 'producerId']))
      expect(b).toMatchObject({ count: '10', isvalid: 'true', compression: 'none' })
      expect(Number(b.lastOffset) - Number(b.baseOffset)).toBe(9)
    }

    const json = jsonLines<BatchJson>(await ok(['log', 'dump', part, '--json']))
    expect(json.map((b) => [b.baseOffset, b.lastOffset, b.position, b.size, b.crc])).toEqual(
      batches.map((b) => [b.baseOffset, b.lastOffset, b.position, b.size, b.crc].map(Number)),
    )
    // Offsets run on from batch to batch across segments; positions from 0 by size within a segment,
    // and a segment's file ends where its last batch does.
    expect(json.map((b) => b.baseOffset)).toEqual(Array.from({ length: 12 }, (_, i) => i * 10))
    for (const log of logs) {
      const own = json.filter((b) => b.file === log)
      expect(own.length).toBeGreaterThan(0)
      expect(own[0].position).toBe(0)
      for (let i = 1; i < own.length; i++) expect(own[i].position).toBe(own[i - 1].position + own[i - 1].size)
      expect(fs.statSync(log).size).toBe(own.at(-1)!.position + own.at(-1)!.size)
      expect(path.basename(log)).toBe(`${String(own[0].baseOffset).padStart(20, '0')}.log`)
    }
    expect(json.every((b) => b.isValid && b.problem === null)).toBe(true)
  })

  test('--records prints every record; a single .log file', async ({ expect }) => {
    const dir = tempDir()
    await seed(dir, logSpec())
    const file = path.join(dir, 'small-0', '00000000000000000000.log')
    const out = await ok(['log', 'dump', file, '--records'])
    const lines = out.split('\n').filter(Boolean)
    expect(lines[0]).toBe(`Dumping ${file}`)
    expect(parseKv(lines[1])).toMatchObject({ baseOffset: '0', lastOffset: '1', count: '2', position: '0', CreateTime: '1700000000005', isvalid: 'true' })
    expect(lines.slice(2)).toEqual([
      '| offset: 0 CreateTime: 1700000000000 keySize: 2 valueSize: 5 headers: [a=1] key: k1 payload: hello',
      '| offset: 1 CreateTime: 1700000000005 keySize: -1 valueSize: 5 headers: [] key: null payload: world',
    ])
    const [batch] = jsonLines<BatchJson & { records: unknown[] }>(await ok(['log', 'dump', file, '--records', '--json']))
    expect(batch.records).toEqual([
      { offset: 0, timestamp: 1_700_000_000_000, key: 'k1', value: 'hello', headers: [{ key: 'a', value: '1' }] },
      { offset: 1, timestamp: 1_700_000_000_005, key: null, value: 'world', headers: [] },
    ])
  })

  test('--index prints the index entries and sanity-checks them: a bad entry is named and fails the command', async ({ expect }) => {
    const dir = tempDir()
    await seed(dir, logSpec())
    const part = path.join(dir, 'big-0')
    const batches = jsonLines<BatchJson>(await ok(['log', 'dump', part, '--json']))

    const entries = jsonLines<{ file: string; offset: number; position: number; timestamp?: number; problem: string | null }>(
      await ok(['log', 'dump', part, '--index', '--json']),
    ).filter((e) => e.file.endsWith('.index'))
    expect(entries.length).toBeGreaterThan(0)
    for (const e of entries) {
      // Each entry points at the start of a batch and names that batch's last offset.
      const log = e.file.replace(/\.index$/, '.log')
      expect(batches.find((b) => b.file === log && b.position === e.position)?.lastOffset).toBe(e.offset)
      expect(e.problem).toBeNull()
    }
    const text = await ok(['log', 'dump', part, '--index'])
    expect(text).toContain(`offset: ${entries[0].offset} position: ${entries[0].position}\n`)
    expect(text).toMatch(/^timestamp: \d+ offset: \d+$/m)
    expect(text).not.toContain('problem')

    // The same entries from the .index file alone, and the .timeindex alone.
    const indexFile = entries[0].file
    const alone = jsonLines(await ok(['log', 'dump', indexFile, '--json']))
    expect(alone).toEqual(entries.filter((e) => e.file === indexFile))
    expect(await ok(['log', 'dump', indexFile.replace(/\.index$/, '.timeindex')])).toMatch(/^Dumping .*\.timeindex\ntimestamp: \d+ offset: \d+\n/)

    // Point the first entry one byte past its batch's start.
    const buf = fs.readFileSync(indexFile)
    const wrong = buf.readInt32BE(4) + 1
    buf.writeInt32BE(wrong, 4)
    fs.writeFileSync(indexFile, buf)
    const r = await samsa(['log', 'dump', part, '--index'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`offset: ${entries[0].offset} position: ${wrong} problem: position ${wrong} is not the start of a valid batch\n`)
    expect(errorLines(r)).toEqual(['samsa: 1 invalid batch(es) or index entries found; see the lines marked problem (SAMSA_CORRUPT_BATCH)'])
  })

  test('a path that is not there, or not a segment file, fails with one line', async ({ expect }) => {
    const dir = tempDir()
    const missing = await samsa(['log', 'dump', path.join(dir, 'nope-0')])
    expect(missing.code).toBe(1)
    expect(errorLines(missing)).toEqual([`samsa: no such file or directory: ${path.join(dir, 'nope-0')} (SAMSA_NOT_FOUND)`])
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hi')
    const other = await samsa(['log', 'dump', path.join(dir, 'notes.txt')])
    expect(other.code).toBe(2)
    expect(errorLines(other)[0]).toMatch(/^samsa: .*notes\.txt is not a \.log, \.index or \.timeindex file or a partition directory \(SAMSA_USAGE\)$/)
  })
})

describe.concurrent('log verify', () => {
  test('CRC-checks every partition; a flipped byte fails it, naming the file and byte position', async ({ expect }) => {
    const dir = tempDir()
    await seed(dir, logSpec())
    const clean = await samsa(['log', 'verify'], { dataDir: dir })
    expect(clean.code).toBe(0)
    expect(clean.stderr).toBe('') // no progress bar when stderr is not a terminal
    const lines = clean.stdout.split('\n').filter(Boolean)
    const segments = segmentLogs(path.join(dir, 'big-0')).length
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(new RegExp(`^big-0: ${segments} segment\\(s\\), 12 batch\\(es\\), 120 record\\(s\\), [\\d.]+ KiB  OK$`))
    expect(lines[1]).toMatch(/^other-0: 1 segment\(s\), 1 batch\(es\), 1 record\(s\), \d+ B {2}OK$/)
    expect(lines[2]).toMatch(/^small-0: 1 segment\(s\), 1 batch\(es\), 2 record\(s\), \d+ B {2}OK$/)
    const json = jsonLines(await ok(['log', 'verify', '--json'], { dataDir: dir }))
    expect(json.map((p) => [p.topic, p.partition, p.segments, p.batches, p.records, p.ok])).toEqual([
      ['big', 0, segments, 12, 120, true],
      ['other', 0, 1, 1, 1, true],
      ['small', 0, 1, 1, 2, true],
    ])

    // Flip one byte inside the records of the second batch of the second segment.
    const batches = jsonLines<BatchJson>(await ok(['log', 'dump', path.join(dir, 'big-0'), '--json']))
    const file = segmentLogs(path.join(dir, 'big-0'))[1]
    const target = batches.filter((b) => b.file === file)[1]
    const at = target.position + 100
    const fd = fs.openSync(file, 'r+')
    const byte = Buffer.alloc(1)
    fs.readSync(fd, byte, 0, 1, at)
    byte[0] ^= 0xff
    fs.writeSync(fd, byte, 0, 1, at)
    fs.closeSync(fd)

    const bad = await samsa(['log', 'verify'], { dataDir: dir })
    expect(bad.code).toBe(1)
    const [message, ...more] = errorLines(bad)
    expect(more).toEqual([])
    const m = /^samsa: corrupt batch in (\S+) at byte (\d+) \(the batch at bytes (\d+)-(\d+)\): CRC-32C mismatch: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8} \(SAMSA_CORRUPT_BATCH\)$/.exec(message)
    expect(m, message).not.toBeNull()
    const [, named, position, from, to] = m!
    expect(named).toBe(file)
    expect(Number(position)).toBe(target.position)
    expect(Number(from)).toBeLessThanOrEqual(at)
    expect(Number(to)).toBeGreaterThanOrEqual(at)
    expect(Number(to)).toBe(target.position + target.size - 1)
    // The other partitions are still reported, and fine.
    expect(bad.stdout).toMatch(new RegExp(`^big-0: .* CORRUPT at byte ${target.position} of ${file.replace(/[.]/g, '\\.')}`, 'm'))
    expect(bad.stdout).toMatch(/^other-0: .* OK$/m)

    const badJson = jsonLines(
      (await samsa(['log', 'verify', 'big', '--json'], { dataDir: dir })).stdout,
    )
    expect(badJson).toEqual([expect.objectContaining({ topic: 'big', partition: 0, ok: false, file, position: target.position, batchBytes: target.size })])
    // One topic at a time: `other` is fine.
    expect((await samsa(['log', 'verify', 'other'], { dataDir: dir })).code).toBe(0)

    const dump = await samsa(['log', 'dump', file])
    expect(dump.code).toBe(1)
    const marked = dump.stdout.split('\n').filter((l) => l.includes('isvalid: false'))
    expect(marked).toHaveLength(1)
    expect(parseKv(marked[0])).toMatchObject({ position: String(target.position), problem: 'CRC-32C' })

    const unknown = await samsa(['log', 'verify', 'nope'], { dataDir: dir })
    expect(unknown.code).toBe(1)
    expect(errorLines(unknown)).toEqual([`samsa: no partitions of topic nope in ${dir} (SAMSA_UNKNOWN_TOPIC)`])
  })
})

describe.concurrent('log verify and dump on preallocated zeros', () => {
  test('zeros after the last batch of the active segment are a note, not damage; in a closed segment they are', async ({ expect }) => {
    const dir = tempDir()
    await seed(dir, logSpec())
    const bigDir = path.join(dir, 'big-0')
    const files = segmentLogs(bigDir)
    const active = files.at(-1)!
    const size = fs.statSync(active).size
    // What a writer with `preallocate` leaves behind when it is killed.
    fs.appendFileSync(active, Buffer.alloc(65_536))
    const verified = await samsa(['log', 'verify', 'big'], { dataDir: dir })
    expect(verified.code).toBe(0)
    expect(verified.stdout).toMatch(/^big-0: .* 12 batch\(es\), 120 record\(s\), .*OK {2}\(note: 65536 zero bytes after the last batch of .*preallocated/m)
    const json = jsonLines(await ok(['log', 'verify', 'big', '--json'], { dataDir: dir }))
    expect(json).toEqual([expect.objectContaining({ ok: true, records: 120, note: expect.stringContaining('65536 zero bytes') })])

    const dump = await samsa(['log', 'dump', active])
    expect(dump.code).toBe(0)
    const lines = dump.stdout.split('\n').filter(Boolean)
    expect(lines.at(-1)).toBe(`position: ${size} size: 65536 zeros: the rest of the file is zero bytes (preallocated by a writer that is running or crashed, or pages a power loss took; cut when the log is next opened for writing)`)
    expect(lines.filter((l) => l.includes('isvalid: false'))).toEqual([])
    const dumpJson = jsonLines<BatchJson & { zeros?: boolean }>(await ok(['log', 'dump', active, '--json']))
    expect(dumpJson.at(-1)).toMatchObject({ position: size, size: 65_536, zeros: true, isValid: true })

    // A closed segment is cut before the next one exists: zeros at its end are lost data.
    const closed = files[0]
    const closedSize = fs.statSync(closed).size
    fs.appendFileSync(closed, Buffer.alloc(100))
    const bad = await samsa(['log', 'verify', 'big'], { dataDir: dir })
    expect(bad.code).toBe(1)
    expect(errorLines(bad)).toEqual([
      `samsa: corrupt batch in ${closed} at byte ${closedSize} (the batch at bytes ${closedSize}-${closedSize + 99}): 100 zero bytes after the last batch of a closed segment (SAMSA_CORRUPT_BATCH)`,
    ])
  })
})

describe.concurrent('log verify on a terminal', () => {
  // util-linux `script` gives the command a pseudo-terminal, as a person's shell would.
  const hasScript = fs.existsSync('/usr/bin/script')
  test.runIf(hasScript)('draws a progress bar, then one summary line (needs util-linux script)', async ({ expect }) => {
    const dir = tempDir()
    await seed(dir, logSpec())
    const command = [process.execPath, CLI, '--data-dir', dir, 'log', 'verify'].map((a) => `'${a}'`).join(' ')
    const r = await run('/usr/bin/script', ['-qec', command, '/dev/null'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`\r[${'#'.repeat(30)}] 100%`)
    expect(r.stdout).toMatch(/verified 3 partition\(s\), [\d.]+ KiB\r?\n$/)
    expect(r.stdout).not.toContain('OK') // per-partition lines are for pipes and files
  })
})

describe.concurrent('retention run', () => {
  test('--dry-run shows what would go and changes nothing; run deletes it (by time and by size); then there is nothing left to do', async ({ expect }) => {
    const dir = tempDir()
    const old = Date.now() - 3 * DAY
    const batch = (topic: string, n: number, timestamp?: number) => ({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `${topic}-${n}-${i}-${'y'.repeat(300)}`, ...(timestamp !== undefined ? { timestamp } : {}) })),
    })
    await seed(dir, {
      topics: [
        { name: 'bytes', partitions: 1, config: { segmentBytes: 16_384, retentionBytes: 20_000 } },
        { name: 'aged', partitions: 1, config: { segmentBytes: 16_384, retentionMs: DAY } },
        { name: 'keep', partitions: 1, config: { segmentBytes: 16_384 } },
      ],
      sends: [
        ...Array.from({ length: 12 }, (_, n) => batch('bytes', n)),
        ...Array.from({ length: 10 }, (_, n) => batch('aged', n, old)),
        ...Array.from({ length: 3 }, (_, n) => batch('aged', 10 + n)),
        ...Array.from({ length: 12 }, (_, n) => batch('keep', n)),
      ],
    })
    const describe = async (topic: string) => JSON.parse(await ok(['topic', 'describe', topic, '--json'], { dataDir: dir })).partitions[0]
    const before = { bytes: await describe('bytes'), aged: await describe('aged') }

    const plan = jsonLines<{ topic: string; partition: number; segments: { baseOffset: number; size: number; file: string; largestTimestamp: number }[]; bytes: number; logStartOffset: number; dryRun: boolean }>(
      await ok(['retention', 'run', '--dry-run', '--json'], { dataDir: dir }),
    )
    expect(plan.map((p) => [p.topic, p.partition, p.dryRun])).toEqual([
      ['bytes', 0, true],
      ['aged', 0, true],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))))
    const aged = plan.find((p) => p.topic === 'aged')!
    const bytes = plan.find((p) => p.topic === 'bytes')!
    // By time: exactly the segments whose newest record is older than a day.
    expect(aged.segments.length).toBeGreaterThan(0)
    for (const s of aged.segments) expect(s.largestTimestamp).toBe(old)
    expect(aged.segments.length).toBe(before.aged.segments - 1)
    // By size: the oldest segments, while the partition would still be at least retentionBytes without them.
    expect(bytes.segments.length).toBeGreaterThan(0)
    expect(before.bytes.size - bytes.bytes).toBeGreaterThanOrEqual(20_000)
    for (const p of plan) expect(p.bytes).toBe(p.segments.reduce((n, s) => n + s.size, 0))

    const text = await ok(['retention', 'run', '--dry-run'], { dataDir: dir })
    expect(text.split('\n')[0].split(/\s{2,}/)).toEqual(['TOPIC', 'PARTITION', 'SEGMENTS', 'SIZE', 'NEW-LOG-START-OFFSET'])
    expect(text).toMatch(new RegExp(`^aged\\s+0\\s+${aged.segments.length}\\s+[\\d.]+ KiB\\s+${aged.logStartOffset}$`, 'm'))
    expect(text).toMatch(/\nwould delete [\d.]+ KiB in \d+ segment\(s\)\n$/)
    // Nothing changed.
    expect(await describe('aged')).toEqual(before.aged)
    expect(await describe('bytes')).toEqual(before.bytes)
    for (const p of plan) for (const s of p.segments) expect(fs.existsSync(s.file)).toBe(true)

    const done = await ok(['retention', 'run'], { dataDir: dir })
    expect(done).toMatch(/\ndeleted [\d.]+ KiB in \d+ segment\(s\)\n$/)
    for (const p of plan) {
      for (const s of p.segments) expect(fs.existsSync(s.file)).toBe(false)
      const after = await describe(p.topic)
      expect(after.logStartOffset).toBe(p.logStartOffset)
      expect(after.segments).toBe((p.topic === 'aged' ? before.aged : before.bytes).segments - p.segments.length)
      const first = await ok(['consume', p.topic, '-e', '-n', '1', '-f', '%o\\n'], { dataDir: dir })
      expect(Number(first)).toBe(p.logStartOffset)
    }
    expect((await describe('keep')).logStartOffset).toBe(0)

    expect(await ok(['retention', 'run'], { dataDir: dir })).toBe('nothing was past retention\n')
    expect(await ok(['retention', 'run', '--dry-run'], { dataDir: dir })).toBe('nothing is past retention\n')
    expect(await ok(['retention', 'run', '--json'], { dataDir: dir })).toBe('')
  })
})
