/**
 * The KafkaJS client, unchanged, against the wire server: admin, an idempotent producer with acks
 * -1 (gzip included), and a consumer group of two members splitting four partitions, with every
 * record processed once and the offsets committed and resumed across a restart of the server.
 */
import { CompressionTypes, Kafka, logLevel, type Consumer, type EachMessagePayload } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { syncGateIO, tracked, turns } from '../test-support/helpers.js'
import { startServer, type Running } from './test-support/fixture.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const running: Running[] = []
const cleanups: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  for (const r of running.splice(0)) await r.stop()
})

async function start(...args: Parameters<typeof startServer>): Promise<Running> {
  const r = await startServer(...args)
  running.push(r)
  return r
}

function client(s: { bootstrap: string }, clientId = 'samsa-test'): Kafka {
  return new Kafka({ clientId, brokers: [s.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } })
}

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('KafkaJS admin', () => {
  it('createTopics (broker defaults for -1, Kafka config names), listTopics, fetchTopicOffsets, deleteTopics', async () => {
    const s = await start({ broker: { partitions: 2 } })
    const admin = client(s).admin()
    await admin.connect()
    cleanups.push(() => admin.disconnect())

    expect(
      await admin.createTopics({
        topics: [{ topic: 'orders', numPartitions: 4, configEntries: [{ name: 'retention.ms', value: '3600000' }] }, { topic: 'defaults' }],
      }),
    ).toBe(true)
    expect((await admin.listTopics()).sort()).toEqual(['defaults', 'orders'])
    const orders = await s.broker.describeTopic('orders')
    expect(orders.partitions).toHaveLength(4)
    expect(orders.config.retentionMs).toBe(3_600_000)
    expect((await s.broker.describeTopic('defaults')).partitions).toHaveLength(2) // -1: the broker's default

    // Creating it again is refused with TOPIC_ALREADY_EXISTS, which KafkaJS reports as false.
    expect(await admin.createTopics({ topics: [{ topic: 'orders' }] })).toBe(false)
    const creationErrors = async (topics: Parameters<typeof admin.createTopics>[0]['topics']) => {
      const err = await admin.createTopics({ topics }).catch((e: { errors?: { type: string; message: string }[] }) => e)
      return (err as { errors?: { type: string; message: string }[] }).errors?.map((e) => [e.type, e.message])
    }
    expect(await creationErrors([{ topic: 'bad', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }])).toEqual([['INVALID_CONFIG', expect.any(String)]])
    expect(await creationErrors([{ topic: 'replicated', replicationFactor: 3 }])).toEqual([['INVALID_REPLICATION_FACTOR', expect.any(String)]])
    expect(await creationErrors([{ topic: 'no/slashes' }])).toEqual([['INVALID_TOPIC_EXCEPTION', expect.any(String)]])
    expect((await admin.listTopics()).sort()).toEqual(['defaults', 'orders'])

    const producer = s.broker.producer({ acks: 1 })
    await producer.send('orders', [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 0 },
      { value: 'c', partition: 3 },
    ])
    await s.broker.deleteRecords('orders', 0, 1)
    expect(await admin.fetchTopicOffsets('orders')).toEqual([
      { partition: 0, offset: '2', high: '2', low: '1' },
      { partition: 1, offset: '0', high: '0', low: '0' },
      { partition: 2, offset: '0', high: '0', low: '0' },
      { partition: 3, offset: '1', high: '1', low: '0' },
    ])

    await admin.deleteTopics({ topics: ['defaults'] })
    expect(await admin.listTopics()).toEqual(['orders'])
    expect(s.broker.getTopic('defaults')).toBeUndefined()
  })
})

describe('KafkaJS idempotent producer', () => {
  it('acks -1, plain and gzip batches: answered only once fsynced; stored as sent, with the producer id and sequences the broker checks', async () => {
    // Syncs of .log files are counted and can be held; the periodic flush is out of the way.
    const io = syncGateIO()
    const s = await start({ broker: { io, flushIntervalMs: 3_600_000 } })
    cleanups.push(() => io.release()) // never leave syncs held for the broker's close
    await s.broker.createTopic('payments', { partitions: 2 })
    const producer = client(s).producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    cleanups.push(() => producer.disconnect())

    io.hold = true
    const syncsBefore = io.logSyncsStarted
    const sending = tracked(
      producer.send({
        topic: 'payments',
        acks: -1,
        messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `plain-${i}`, partition: 0, headers: { n: String(i) } })),
      }),
    )
    await io.syncsStarted(syncsBefore + 1)
    await turns(20)
    expect(sending.settled()).toBe(false) // appended, but not answered before the fsync completes
    io.release()
    const plain = await sending.promise
    const gzip = await producer.send({
      topic: 'payments',
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: Array.from({ length: 5 }, (_, i) => ({ key: `g${i}`, value: `gzip-${i}`.repeat(20), partition: 0 })),
    })
    expect(plain).toEqual([expect.objectContaining({ topicName: 'payments', partition: 0, errorCode: 0, baseOffset: '0' })])
    expect(gzip).toEqual([expect.objectContaining({ partition: 0, errorCode: 0, baseOffset: '5' })])

    // acks 1 does not wait for a sync: it is answered while syncs are held. (KafkaJS allows acks 1
    // only without idempotence.)
    const plainProducer = client(s).producer()
    await plainProducer.connect()
    cleanups.push(() => plainProducer.disconnect())
    io.hold = true
    const syncsNow = io.logSyncsStarted
    const one = await plainProducer.send({ topic: 'payments', acks: 1, messages: [{ value: 'acks-1', partition: 1 }] })
    expect(one).toEqual([expect.objectContaining({ partition: 1, errorCode: 0, baseOffset: '0' })])
    expect(io.logSyncsStarted).toBe(syncsNow)
    io.release()

    const p0 = s.broker.getPartition('payments', 0)
    const headers: { producerId: number; producerEpoch: number; baseSequence: number; attributes: number; baseOffset: number }[] = []
    p0.log.scanBatchHeaders(0, (h) => void headers.push(h))
    expect(headers).toHaveLength(2)
    const pid = headers[0].producerId
    expect(pid).toBeGreaterThanOrEqual(0)
    expect(headers.map((h) => [h.baseOffset, h.producerId, h.producerEpoch, h.baseSequence, h.attributes & 7])).toEqual([
      [0, pid, 0, 0, 0],
      [5, pid, 0, 5, 1], // gzip
    ])
    // The partition's producer state took the batches in: the next expected sequence is 10.
    expect(p0.producers.entry(pid)?.batches.map((b) => [b.firstSeq, b.lastSeq, b.firstOffset])).toEqual([
      [0, 4, 0],
      [5, 9, 5],
    ])

    const records = await p0.log.read(0)
    expect(records.map((r) => [r.offset, r.key?.toString(), r.value?.toString()])).toEqual([
      ...Array.from({ length: 5 }, (_, i) => [i, `k${i}`, `plain-${i}`]),
      ...Array.from({ length: 5 }, (_, i) => [5 + i, `g${i}`, `gzip-${i}`.repeat(20)]),
    ])
    expect(records[3].headers).toEqual([{ key: 'n', value: Buffer.from('3') }])
  })
})

describe('KafkaJS consumer group', () => {
  it('two members split four partitions; every record is processed once; offsets resume after a server restart', async () => {
    let s = await start()
    const dir = s.dir
    await s.broker.createTopic('work', { partitions: 4 })

    const processed: { member: number; partition: number; offset: number; value: string }[] = []
    const assignments = new Map<number, number[]>()
    const startMembers = async (bootstrap: string) => {
      const consumers: Consumer[] = []
      for (const member of [0, 1]) {
        const c = client({ bootstrap }, `member-${member}`).consumer({ groupId: 'workers', maxWaitTimeInMs: 200, heartbeatInterval: 500, sessionTimeout: 10_000 })
        c.on(c.events.GROUP_JOIN, (e) => assignments.set(member, ((e.payload.memberAssignment as Record<string, number[]>).work ?? []).slice().sort()))
        await c.connect()
        await c.subscribe({ topic: 'work', fromBeginning: true })
        await c.run({
          eachMessage: async ({ partition, message }: EachMessagePayload) => {
            processed.push({ member, partition, offset: Number(message.offset), value: message.value!.toString() })
          },
        })
        consumers.push(c)
      }
      // Stable with both members, each owning two partitions, before anything is produced.
      await until(() => assignments.get(0)?.length === 2 && assignments.get(1)?.length === 2, 'a two-member assignment')
      return consumers
    }
    const stopMembers = async (consumers: Consumer[]) => {
      for (const c of consumers) await c.disconnect()
    }

    let consumers = await startMembers(s.bootstrap)
    expect([...assignments.get(0)!, ...assignments.get(1)!].sort()).toEqual([0, 1, 2, 3])
    const describe = s.groups.describeGroup('workers')
    expect(describe.members).toHaveLength(2)
    expect(describe.members.flatMap((m) => m.assignment.map((tp) => tp.partition)).sort()).toEqual([0, 1, 2, 3])

    const producer = client(s).producer()
    await producer.connect()
    await producer.send({ topic: 'work', acks: -1, messages: Array.from({ length: 200 }, (_, i) => ({ key: `key-${i}`, value: `first-${i}` })) })
    await producer.disconnect()
    await until(() => processed.length >= 200, '200 records processed')
    await stopMembers(consumers)

    const firstRound = processed.splice(0)
    expect(firstRound.map((p) => p.value).sort()).toEqual(Array.from({ length: 200 }, (_, i) => `first-${i}`).sort())
    const seen = new Set(firstRound.map((p) => `${p.partition}:${p.offset}`))
    expect(seen.size).toBe(200) // none twice
    for (const p of firstRound) expect(assignments.get(p.member)).toContain(p.partition)
    const committed = s.groups.describeGroup('workers')
    expect(committed.totalLag).toBe(0)
    expect(committed.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3])

    // Restart the server on the same data directory (and port); write more while it is down.
    const port = s.port
    await s.stop({ keepDir: true })
    running.splice(running.indexOf(s), 1)
    s = await start({ dir, server: { port } })
    await s.broker.producer({ acks: 'all' }).send('work', Array.from({ length: 100 }, (_, i) => ({ key: `key-${i}`, value: `second-${i}` })))

    assignments.clear()
    consumers = await startMembers(s.bootstrap)
    cleanups.push(() => stopMembers(consumers))
    await until(() => processed.length >= 100, '100 more records processed')
    await new Promise((r) => setTimeout(r, 500)) // nothing old comes back late
    expect(processed.map((p) => p.value).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `second-${i}`).sort())
    expect(new Set(processed.map((p) => `${p.partition}:${p.offset}`)).size).toBe(100)
  })
})
