/**
 * kcat (librdkafka) against the wire server: metadata, producing keyed lines, reading them back,
 * and a balanced consumer group whose commits land in the broker's offset store.
 * kcat comes from Debian's package; .ci/run installs it.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hasKcat, kcat, startServer, type Running } from './test-support/fixture.js'

const running: Running[] = []
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop()
})

async function start(...args: Parameters<typeof startServer>): Promise<Running> {
  const r = await startServer(...args)
  running.push(r)
  return r
}

interface KcatMessage {
  topic: string
  partition: number
  offset: number
  key: string | null
  payload: string | null
}

const parseJsonLines = (out: string): KcatMessage[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as KcatMessage)

beforeAll(() => {
  if (!hasKcat()) throw new Error('kcat is not installed: apt-get install -y kcat (CI installs it in .ci/run)')
})

describe('kcat', () => {
  it('-L lists the broker, the topics and their partitions', async () => {
    const s = await start()
    await s.broker.createTopic('orders', { partitions: 3 })
    await s.broker.createTopic('audit')
    const r = await kcat(['-b', s.bootstrap, '-L', '-J'])
    expect(r.code, r.stderr).toBe(0)
    const meta = JSON.parse(r.stdout)
    expect(meta.brokers).toEqual([{ id: 0, name: `127.0.0.1:${s.port}` }])
    expect(meta.controllerid).toBe(0)
    const topics = Object.fromEntries(
      (meta.topics as { topic: string; partitions: { partition: number; leader: number }[] }[]).map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.leader])]),
    )
    expect(topics).toEqual({ orders: [[0, 0], [1, 0], [2, 0]], audit: [[0, 0]] })
    expect(s.logs.filter((l) => !l.includes('group'))).toEqual([])
  })

  it('-P with acks -1 and small requests, many in flight: every line stored once, in order', async () => {
    const s = await start()
    await s.broker.createTopic('events')
    const n = 20_000
    const lines = Array.from({ length: n }, (_, i) => `line ${i}`)
    // Small requests with no linger: librdkafka sends the next ones while the first wait for their
    // fsync, and the server starts them at once (up to 16 were in flight when this was written).
    const produced = await kcat(
      ['-b', s.bootstrap, '-P', '-t', 'events', '-X', 'acks=-1', '-X', 'linger.ms=0', '-X', 'batch.num.messages=200'],
      { input: lines.join('\n') + '\n', timeoutMs: 60_000 },
    )
    expect(produced.code, produced.stderr).toBe(0)
    expect(s.server.requestCounts.get(0) ?? 0).toBeGreaterThanOrEqual(n / 200)
    const log = s.broker.getPartition('events', 0).log
    expect(log.logEndOffset).toBe(n)
    const values: string[] = []
    for (let offset = 0; offset < n; ) {
      const got = await log.read(offset, { maxBytes: 1 << 20 })
      for (const r of got) values.push(r.value!.toString())
      offset = got[got.length - 1].offset + 1
    }
    expect(values).toEqual(lines)
  })

  it('-P produces keyed lines; -C -o beginning -e reads them back with their keys, values and offsets', async () => {
    const s = await start()
    await s.broker.createTopic('orders', { partitions: 3 })
    const lines = Array.from({ length: 60 }, (_, i) => `key-${i % 7}:value ${i} ${'x'.repeat(i)}`)
    const produced = await kcat(['-b', s.bootstrap, '-P', '-t', 'orders', '-K', ':'], { input: lines.join('\n') + '\n' })
    expect(produced.code, produced.stderr).toBe(0)

    const consumed = await kcat(['-b', s.bootstrap, '-C', '-t', 'orders', '-o', 'beginning', '-e', '-J'])
    expect(consumed.code, consumed.stderr).toBe(0)
    const got = parseJsonLines(consumed.stdout)
    expect(got).toHaveLength(60)
    // Same key, same partition; per partition, offsets 0.. in the order the lines were written.
    const byPartition = new Map<number, KcatMessage[]>()
    for (const m of got) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m])
    const partitionOfKey = new Map<string, number>()
    for (const m of got) {
      expect(partitionOfKey.get(m.key!) ?? m.partition).toBe(m.partition)
      partitionOfKey.set(m.key!, m.partition)
    }
    for (const [partition, msgs] of byPartition) {
      expect(msgs.map((m) => m.offset)).toEqual(msgs.map((_, i) => i))
      const expected = lines.filter((l) => partitionOfKey.get(l.slice(0, l.indexOf(':'))) === partition)
      expect(msgs.map((m) => `${m.key}:${m.payload}`)).toEqual(expected)
      // The embedded API sees exactly the same records at the same offsets.
      const records = await s.broker.getPartition('orders', partition).log.read(0, { maxBytes: 1 << 20 })
      expect(records.map((r) => [r.offset, r.key?.toString(), r.value?.toString()])).toEqual(msgs.map((m) => [m.offset, m.key, m.payload]))
    }
  })

  it('-G consumes as a balanced group and commits: describeGroup shows lag 0', async () => {
    const s = await start()
    await s.broker.createTopic('events', { partitions: 2 })
    const producer = s.broker.producer({ acks: 1 })
    await producer.send(
      'events',
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 })),
    )
    const r = await kcat(['-b', s.bootstrap, '-G', 'kcat-group', '-X', 'auto.offset.reset=earliest', '-e', '-J', 'events'], { timeoutMs: 60_000 })
    expect(r.code, r.stderr).toBe(0)
    const got = parseJsonLines(r.stdout)
    expect(got.map((m) => m.payload).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`).sort())

    const d = s.groups.describeGroup('kcat-group')
    expect(d.protocolType).toBe('consumer')
    expect(d.partitions.map((p) => [p.partition, p.committedOffset, p.lag])).toEqual([
      [0, 10, 0],
      [1, 10, 0],
    ])
    expect(d.totalLag).toBe(0)
    // The member left when kcat exited.
    expect(d.members).toEqual([])
  })

  it('a zstd batch (which embedded readers could not decode) is refused as an unsupported compression type, and nothing is stored', async () => {
    const s = await start()
    await s.broker.createTopic('t')
    const r = await kcat(['-b', s.bootstrap, '-P', '-t', 't', '-z', 'zstd'], { input: ('a'.repeat(500) + '\n').repeat(20) })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('Broker: Unsupported compression type')
    expect(s.broker.getPartition('t', 0).log.logEndOffset).toBe(0)
  })
})
