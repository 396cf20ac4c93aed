/**
 * The CLI beside a live writer: a service in ANOTHER process appends with the embedded API
 * (fixtures/cli-writer.mjs, the built @samsa/broker) while `samsa consume --follow` and
 * `samsa tail` run; every append must show up within 500 ms (the requirement). Read
 * commands work on the live directory; commands that change it get the writer's lock error.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, test } from 'vitest'
import { checkBuilt, cleanup, errorLines, jsonLines, ok, samsa, seed, startSamsa, startWriter, tempDir } from './cli-helpers.js'

beforeAll(checkBuilt)
afterAll(cleanup)

const isJson = (l: string) => l.startsWith('{')
const RECORD = /^rec-\d+$/

describe('following a writer in another process', () => {
  test('consume --follow sees every append within 500 ms, across segment rolls and partitions', async ({ expect }) => {
    const dir = tempDir()
    // Tiny segments, so the writer rolls several times while the CLI follows.
    await seed(dir, { topics: [{ name: 'live', partitions: 2, config: { segmentBytes: 512 } }] })
    const count = 40
    const writer = startWriter(dir, 'live', count, 50)
    await writer.waitForLines((l) => l.includes('"ready"'))
    const follower = startSamsa(['consume', 'live', '--follow', '-f', '%p %o %T %v\\n'], { dataDir: dir })
    await follower.waitForLines((l) => l.endsWith(' warm'))

    writer.send('go')
    await writer.waitForLines((l) => l.includes('"done"'))
    const seen = await follower.waitForLines((l) => / rec-\d+$/.test(l), count)
    const appended = jsonLines<{ i: number; partition: number; offset: number; appendedAt: number }>(
      writer.lines.map((l) => l.text).filter((l) => l.startsWith('{"i"')).join('\n'),
    )
    expect(appended).toHaveLength(count)

    const latencies: number[] = []
    for (const a of appended) {
      const line = seen.find((l) => l.text.endsWith(` rec-${a.i}`))
      expect(line, `rec-${a.i}`).toBeDefined()
      const [partition, offset, timestamp] = line!.text.split(' ').map(Number)
      expect([partition, offset]).toEqual([a.partition, a.offset])
      // From the record's timestamp (taken before the append) to the moment this process read
      // the follower's line: an upper bound on how long the append took to show.
      latencies.push(line!.at - timestamp)
      expect(line!.at - timestamp, `rec-${a.i} seen ${line!.at - timestamp} ms after its append`).toBeLessThanOrEqual(500)
    }
    expect(Math.min(...latencies)).toBeGreaterThanOrEqual(0)
    // Per partition, in offset order, nothing twice.
    for (const p of [0, 1]) {
      const offsets = follower.lines.map((l) => l.text.split(' ')).filter((f) => f[0] === String(p)).map((f) => Number(f[1]))
      expect(offsets).toEqual(offsets.map((_, i) => i))
    }
    expect(fs.readdirSync(path.join(dir, 'live-0')).filter((n) => n.endsWith('.log')).length).toBeGreaterThan(2)

    expect(await follower.stop('SIGINT')).toEqual({ code: 0, signal: null })
    expect(follower.stderr).toBe('')
    writer.send('exit')
    expect(await writer.exited).toEqual({ code: 0, signal: null })
  })
})

describe.concurrent('tail, -o end and read commands on a live directory', () => {
  test('tail -n N shows the last N records, then follows; tail without -n only new ones; --json', async ({ expect }) => {
    const dir = tempDir()
    const now = Date.now()
    await seed(dir, {
      topics: [{ name: 'events', partitions: 2 }],
      sends: Array.from({ length: 6 }, (_, i) => ({ topic: 'events', messages: [{ value: `old-${i}`, partition: i % 2, timestamp: now - 60_000 + i * 1000 }] })),
    })
    const lastThree = startSamsa(['tail', 'events', '-n', '3'], { dataDir: dir })
    const onlyNew = startSamsa(['tail', 'events', '--json'], { dataDir: dir })
    await lastThree.waitForLines(() => true, 3)
    // The last three by time, oldest first, across both partitions.
    expect(lastThree.lines.map((l) => l.text)).toEqual(['old-3', 'old-4', 'old-5'])

    const writer = startWriter(dir, 'events', 4, 20)
    await writer.waitForLines((l) => l.includes('"ready"'))
    writer.send('go')
    await lastThree.waitForLines((l) => RECORD.test(l), 4)
    const fresh = await onlyNew.waitForLines((l) => isJson(l) && JSON.parse(l).value.startsWith('rec-'), 4)
    expect(lastThree.lines.map((l) => l.text).slice(3).sort()).toEqual(['rec-0', 'rec-1', 'rec-2', 'rec-3', 'warm'])
    // tail without -n: nothing that was there before it started.
    expect(onlyNew.lines.map((l) => JSON.parse(l.text).value).sort()).toEqual(['rec-0', 'rec-1', 'rec-2', 'rec-3', 'warm'])
    expect(JSON.parse(fresh[0].text)).toMatchObject({ topic: 'events', key: null, headers: [] })

    expect(await lastThree.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    expect(await onlyNew.stop('SIGINT')).toEqual({ code: 0, signal: null })
    writer.send('exit')
    await writer.exited
  })

  test('consume -o end -n 2 waits for two new records and exits; --follow -o -1 starts from the last; read commands work beside the writer', async ({ expect }) => {
    const dir = tempDir()
    await seed(dir, {
      topics: [{ name: 'orders', partitions: 1 }],
      sends: [{ topic: 'orders', messages: [{ value: 'a' }, { value: 'b' }] }],
    })
    const writer = startWriter(dir, 'orders', 3, 150)
    await writer.waitForLines((l) => l.includes('"ready"'))

    const waiting = startSamsa(['consume', 'orders', '-o', 'end', '-n', '2'], { dataDir: dir })
    const fromLast = startSamsa(['consume', 'orders', '--follow', '-o', '-1'], { dataDir: dir })
    await fromLast.waitForLines((l) => l === 'warm')

    // While the writer holds the directory: read commands work, and see what it wrote.
    const list = jsonLines(await ok(['topic', 'list', '--json'], { dataDir: dir }))
    expect(list).toEqual([{ name: 'orders', partitions: 1, records: 3, size: expect.any(Number) }])
    const d = JSON.parse(await ok(['topic', 'describe', 'orders', '--json'], { dataDir: dir }))
    expect(d.partitions[0]).toMatchObject({ logStartOffset: 0, logEndOffset: 3 })
    const verify = jsonLines(await ok(['log', 'verify', '--json'], { dataDir: dir }))
    expect(verify).toEqual([expect.objectContaining({ topic: 'orders', partition: 0, records: 3, ok: true })])
    expect(await ok(['retention', 'run', '--dry-run'], { dataDir: dir })).toBe('nothing is past retention\n')
    expect(await ok(['consume', 'orders', '-e'], { dataDir: dir })).toBe('a\nb\nwarm\n')
    // ... and changing it is refused, in one line naming the writer.
    const create = await samsa(['topic', 'create', 'more'], { dataDir: dir })
    expect(create.code).toBe(1)
    expect(errorLines(create)).toEqual([expect.stringMatching(new RegExp(`^samsa: .*locked for writing by process ${writer.pid}.*\\(SAMSA_LOCKED\\)$`))])

    writer.send('go')
    expect(await waiting.exited).toEqual({ code: 0, signal: null })
    expect(waiting.lines.map((l) => l.text)).toEqual(['rec-0', 'rec-1'])
    await fromLast.waitForLines((l) => RECORD.test(l), 3)
    expect(fromLast.lines.map((l) => l.text)).toEqual(['warm', 'rec-0', 'rec-1', 'rec-2'])
    expect(await fromLast.stop('SIGINT')).toEqual({ code: 0, signal: null })
    writer.send('exit')
    await writer.exited
  })
})
