/**
 * `samsa consume -g`, `samsa group list|describe|reset-offsets|delete`, end to end with the
 * built CLI: joining and committing, lag, every reset form (a dry run unless --execute), and a
 * group consumer running in another process beside read-only group commands.
 */
import { afterAll, beforeAll, describe, test } from 'vitest'
import { checkBuilt, cleanup, errorLines, jsonLines, ok, samsa, seed, startSamsa, tempDir } from './cli-helpers.js'

const HOUR = 3_600_000
const now = Date.now()
/** Partition 0 gets a record at each of these times; partition 1 at the first three. */
const T = [now - 5 * HOUR, now - 4 * HOUR, now - 3 * HOUR, now - 2 * HOUR, now - HOUR]
const iso = (ms: number) => new Date(ms).toISOString()

beforeAll(checkBuilt)
afterAll(cleanup)

interface Lag {
  topic: string
  partition: number
  committedOffset: number | null
  logEndOffset: number
  lag: number | null
}

async function lagOf(dir: string, group: string): Promise<{ totalLag: number; committed: (number | null)[]; raw: Record<string, unknown> }> {
  const d = JSON.parse(await ok(['group', 'describe', group, '--json'], { dataDir: dir }))
  return { totalLag: d.totalLag, committed: (d.partitions as Lag[]).map((p) => p.committedOffset), raw: d }
}

async function seedOrders(dir: string): Promise<void> {
  await seed(dir, {
    topics: [{ name: 'orders', partitions: 2 }],
    sends: [
      ...T.map((timestamp, i) => ({ topic: 'orders', messages: [{ value: `p0-${i}`, partition: 0, timestamp }] })),
      ...T.slice(0, 3).map((timestamp, i) => ({ topic: 'orders', messages: [{ value: `p1-${i}`, partition: 1, timestamp }] })),
    ],
  })
}

describe.concurrent('consumer groups', () => {
  test('-g joins the group and commits: describe shows lag 0, then the lag of new records, which the next run picks up', async ({ expect }) => {
    const dir = tempDir()
    await seedOrders(dir)
    const first = await ok(['consume', 'orders', '-g', 'billing', '-e', '-f', '%p:%o %v\\n'], { dataDir: dir })
    expect(first.split('\n').filter(Boolean).sort()).toEqual(['0:0 p0-0', '0:1 p0-1', '0:2 p0-2', '0:3 p0-3', '0:4 p0-4', '1:0 p1-0', '1:1 p1-1', '1:2 p1-2'])

    const table = await ok(['group', 'describe', 'billing'], { dataDir: dir })
    const lines = table.split('\n')
    expect(lines[0]).toBe('GROUP billing  STATE Empty  MEMBERS 0')
    const head = lines.findIndex((l) => l.startsWith('TOPIC'))
    expect(lines[head].split(/\s{2,}/)).toEqual(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'MEMBER'])
    expect(lines.slice(head + 1).filter(Boolean).map((l) => l.trim().split(/\s+/))).toEqual([
      ['orders', '0', '5', '5', '0', '-'],
      ['orders', '1', '3', '3', '0', '-'],
    ])
    const described = await lagOf(dir, 'billing')
    expect(described.totalLag).toBe(0)
    expect(described.raw).toMatchObject({ groupId: 'billing', state: 'Empty', members: [] })
    expect(described.raw.partitions).toEqual([
      expect.objectContaining({ topic: 'orders', partition: 0, committedOffset: 5, logEndOffset: 5, lag: 0 }),
      expect.objectContaining({ topic: 'orders', partition: 1, committedOffset: 3, logEndOffset: 3, lag: 0 }),
    ])

    const list = await ok(['group', 'list'], { dataDir: dir })
    expect(list.split('\n').slice(0, 2).map((l) => l.trim().split(/\s+/))).toEqual([
      ['GROUP', 'STATE', 'MEMBERS', 'PROTOCOL-TYPE'],
      ['billing', 'Empty', '0', 'embedded'],
    ])
    expect(jsonLines(await ok(['group', 'list', '--json'], { dataDir: dir }))).toEqual([{ groupId: 'billing', state: 'Empty', members: 0, protocolType: 'embedded' }])

    await ok(['produce', 'orders', '-p', '0'], { dataDir: dir, input: 'new-a\nnew-b\n' })
    expect(await lagOf(dir, 'billing')).toMatchObject({ totalLag: 2, committed: [5, 3] })
    // -n 1 reads one record from where the group left off, and commits just that one.
    expect(await ok(['consume', 'orders', '-g', 'billing', '-e', '-n', '1'], { dataDir: dir })).toBe('new-a\n')
    expect(await lagOf(dir, 'billing')).toMatchObject({ totalLag: 1, committed: [6, 3] })
    expect(await ok(['consume', 'orders', '-g', 'billing', '-e', '--json'], { dataDir: dir })).toMatch(/^\{"topic":"orders","partition":0,"offset":6,"timestamp":\d+,"headers":\[\],"key":null,"value":"new-b"\}\n$/)
    expect(await lagOf(dir, 'billing')).toMatchObject({ totalLag: 0, committed: [7, 3] })

    // -p is the group's business, and -o can only say where a group without commits starts.
    const withP = await samsa(['consume', 'orders', '-g', 'billing', '-p', '0', '-e'], { dataDir: dir })
    expect(withP.code).toBe(2)
    expect(errorLines(withP)[0]).toBe('samsa: -p cannot be combined with -g: the group assigns partitions (SAMSA_USAGE)')

    expect(await ok(['group', 'delete', 'billing'], { dataDir: dir })).toBe('deleted group billing\n')
    expect(await ok(['group', 'list'], { dataDir: dir })).toBe('no consumer groups\n')
    const gone = await samsa(['group', 'describe', 'billing'], { dataDir: dir })
    expect(gone.code).toBe(1)
    expect(errorLines(gone)).toEqual(['samsa: no consumer group "billing"; see samsa group list (SAMSA_UNKNOWN_GROUP)'])
  })

  test('reset-offsets: each of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by; a dry run unless --execute', async ({ expect }) => {
    const dir = tempDir()
    await seedOrders(dir)
    await ok(['consume', 'orders', '-g', 'g', '-e'], { dataDir: dir })
    expect((await lagOf(dir, 'g')).committed).toEqual([5, 3])

    const dry = await ok(['group', 'reset-offsets', 'g', '--topic', 'orders', '--to-earliest'], { dataDir: dir })
    expect(dry.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/))).toEqual([
      ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
      ['orders', '0', '5', '0'],
      ['orders', '1', '3', '0'],
      ['dry', 'run:', 'nothing', 'changed;', 'add', '--execute', 'to', 'apply'],
    ])
    expect((await lagOf(dir, 'g')).committed).toEqual([5, 3]) // unchanged

    const reset = async (...how: string[]) => {
      const out = await ok(['group', 'reset-offsets', 'g', '--topic', 'orders', ...how, '--execute', '--json'], { dataDir: dir })
      const plan = jsonLines<{ partition: number; to: number; executed: boolean }>(out)
      expect(plan.every((p) => p.executed)).toBe(true)
      const committed = (await lagOf(dir, 'g')).committed
      expect(committed).toEqual(plan.map((p) => p.to))
      return committed
    }
    expect(await reset('--to-earliest')).toEqual([0, 0])
    expect(await reset('--to-latest')).toEqual([5, 3])
    expect(await reset('--to-offset', '2')).toEqual([2, 2])
    expect(await reset('--shift-by', '-1')).toEqual([1, 1])
    expect(await reset('--to-datetime', iso(T[3]))).toEqual([3, 3]) // partition 1 has nothing that late: its end
    expect(await reset('--to-datetime', '-90m')).toEqual([4, 3]) // a relative time is a value, not a flag
    expect(await reset('--shift-by', '-2')).toEqual([2, 1])

    // A dry run with --json says so and changes nothing.
    const plan = jsonLines(await ok(['group', 'reset-offsets', 'g', '--topic', 'orders', '--to-latest', '--json'], { dataDir: dir }))
    expect(plan).toEqual([
      { topic: 'orders', partition: 0, from: 2, to: 5, executed: false },
      { topic: 'orders', partition: 1, from: 1, to: 3, executed: false },
    ])
    expect((await lagOf(dir, 'g')).committed).toEqual([2, 1])

    const two = await samsa(['group', 'reset-offsets', 'g', '--topic', 'orders', '--to-earliest', '--to-latest'], { dataDir: dir })
    expect(two.code).toBe(2)
    expect(errorLines(two)[0]).toBe('samsa: give exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime T, --shift-by N (SAMSA_USAGE)')
    const noTopic = await samsa(['group', 'reset-offsets', 'g', '--to-earliest'], { dataDir: dir })
    expect(noTopic.code).toBe(2)
    expect(errorLines(noTopic)[0]).toMatch(/^samsa: Missing required argument: topic \(SAMSA_USAGE\)$/)
  })

  test('a group consumer in another process: read-only group commands beside it show its members; it commits on exit', async ({ expect }) => {
    const dir = tempDir()
    await seedOrders(dir)
    const live = startSamsa(['consume', 'orders', '-g', 'live', '-f', '%p:%o\\n'], { dataDir: dir })
    await live.waitForLines((l) => /^\d:\d$/.test(l), 8)

    // The consuming process publishes its members within about a second.
    let d: { state: string; members: { assignment: unknown[] }[] } = { state: '', members: [] }
    for (let i = 0; i < 50 && d.members.length === 0; i++) {
      d = JSON.parse(await ok(['group', 'describe', 'live', '--json'], { dataDir: dir }))
      if (d.members.length === 0) await new Promise((r) => setTimeout(r, 100))
    }
    expect(d).toMatchObject({ groupId: 'live', state: 'Stable', members: [expect.objectContaining({ clientId: 'samsa' })] })
    expect(d.members[0].assignment).toHaveLength(2)
    const table = await ok(['group', 'list'], { dataDir: dir })
    expect(table).toMatch(/^live\s+Stable\s+1\s+embedded$/m)
    const text = await ok(['group', 'describe', 'live'], { dataDir: dir })
    expect(text).toMatch(/MEMBER\s+CLIENT-ID\s+PARTITIONS/)
    expect(text).toContain('orders-0,orders-1')

    // Changing the directory needs the writer's lock, which the consumer holds.
    for (const args of [['group', 'delete', 'live'], ['consume', 'orders', '-g', 'other', '-e']]) {
      const r = await samsa(args, { dataDir: dir })
      expect(r.code).toBe(1)
      expect(errorLines(r)).toEqual([expect.stringMatching(new RegExp(`^samsa: .*locked for writing by process ${live.pid}.*\\(SAMSA_LOCKED\\)$`))])
    }

    expect(await live.stop('SIGINT')).toEqual({ code: 0, signal: null })
    const after = await lagOf(dir, 'live')
    expect(after).toMatchObject({ totalLag: 0, committed: [5, 3] })
    expect(after.raw).toMatchObject({ state: 'Empty', members: [] })
  })
})
