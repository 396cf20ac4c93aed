import { afterEach, describe, expect, it } from 'vitest'
import type { BatchHeader } from '@samsa/log'
import { Broker, type BrokerOptions } from './broker.js'
import { partitionForKey } from './partitioner.js'
import { prng, syncGateIO, tempDirs, tracked, turns, type SyncGateIO } from './test-support/helpers.js'

const dirs = tempDirs('producer')
const opened: Broker[] = []
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close().catch(() => undefined)
  dirs.cleanup()
})

/** 'interval' logs whose timer never fires during a test: every sync seen is one the test caused. */
const NO_TIMER = 2 ** 31 - 1

async function openBroker(options: BrokerOptions = {}): Promise<Broker> {
  const b = await Broker.open(dirs.make(), { retentionCheckIntervalMs: 0, flushIntervalMs: NO_TIMER, ...options })
  opened.push(b)
  return b
}

function headers(broker: Broker, topic: string, partition: number): BatchHeader[] {
  const out: BatchHeader[] = []
  broker.getPartition(topic, partition).log.scanBatchHeaders(0, (h) => void out.push(h))
  return out
}

const values = (n: number, prefix = 'v') => Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }))

describe('acks', () => {
  it("'all' resolves only after the fdatasync that covers the records has returned", async () => {
    const io = syncGateIO()
    const broker = await openBroker({ io })
    await broker.createTopic('t')
    const producer = broker.producer({ acks: 'all' })
    io.hold = true
    const send = tracked(producer.send('t', values(3)))
    await io.syncsStarted(1)
    await turns(10)
    expect(send.settled()).toBe(false)
    expect(io.logSyncsDone).toBe(0)
    io.release()
    const results = await send.promise
    expect(io.logSyncsDone).toBe(1)
    expect(results.map((r) => r.offset)).toEqual([0, 1, 2])
  })

  it("'all' on a topic with flush 'always' is the log's own group-committed sync, not a second one", async () => {
    const io = syncGateIO()
    const broker = await openBroker({ io })
    await broker.createTopic('t', { flush: 'always' })
    const producer = broker.producer({ acks: 'all' })
    io.hold = true
    const send = tracked(producer.send('t', values(2)))
    await io.syncsStarted(1)
    await turns(10)
    expect(send.settled()).toBe(false)
    // Not visible before it is durable: the high watermark waits for the sync.
    expect(broker.getPartition('t', 0).log.highWatermark).toBe(0)
    io.release()
    await send.promise
    expect(io.logSyncsStarted).toBe(1)
    expect(broker.getPartition('t', 0).log.highWatermark).toBe(2)
  })

  it("with the broker's blockingSync, 'all' on a flush 'always' topic is acknowledged after a blocking sync of the log", async () => {
    const { defaultIO } = await import('@samsa/log')
    const blockingSyncs: number[] = []
    const io = {
      ...defaultIO,
      fdatasyncSync(fd: number) {
        defaultIO.fdatasyncSync(fd)
        blockingSyncs.push(fd)
      },
    }
    await expect(Broker.open(dirs.make(), { blockingSync: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'SAMSA_INVALID_CONFIG' })
    const broker = await openBroker({ io, blockingSync: true })
    await broker.createTopic('t', { flush: 'always' })
    const producer = broker.producer({ acks: 'all' })
    const before = blockingSyncs.length
    const results = await Promise.all([producer.send('t', values(2)), producer.send('t', values(2, 'w'))])
    expect(results.flat().map((r) => r.offset).sort()).toEqual([0, 1, 2, 3])
    // Without the option nothing calls fdatasyncSync between open and close.
    expect(blockingSyncs.length).toBeGreaterThan(before)
    expect(broker.getPartition('t', 0).log.highWatermark).toBe(4)
  })

  it('1 resolves once the records are written and readable, without waiting for any sync', async () => {
    const io = syncGateIO()
    const broker = await openBroker({ io })
    await broker.createTopic('t')
    const producer = broker.producer({ acks: 1 })
    io.hold = true
    const results = await producer.send('t', values(3))
    expect(io.logSyncsStarted).toBe(0)
    expect(results.map((r) => r.offset)).toEqual([0, 1, 2])
    const read = await broker.getPartition('t', 0).log.read(0)
    expect(read.map((r) => r.value?.toString())).toEqual(['v0', 'v1', 'v2'])
    io.release()
  })

  it('0 resolves before the append, with offsets -1; flush() appends and reports failures', async () => {
    const broker = await openBroker()
    await broker.createTopic('t')
    await broker.createTopic('gone')
    const producer = broker.producer({ acks: 0, lingerMs: 60_000 })
    const log = broker.getPartition('t', 0).log
    const results = await producer.send('t', values(4))
    expect(results.map((r) => [r.partition, r.offset])).toEqual([
      [0, -1],
      [0, -1],
      [0, -1],
      [0, -1],
    ])
    expect(log.logEndOffset).toBe(0)
    await producer.flush()
    expect(log.logEndOffset).toBe(4)
    expect((await log.read(0)).map((r) => r.value?.toString())).toEqual(['v0', 'v1', 'v2', 'v3'])

    // A failure after an acks-0 send resolved is not lost.
    await producer.send('gone', values(1))
    await broker.deleteTopic('gone')
    await expect(producer.flush()).rejects.toMatchObject({ code: 'SAMSA_UNKNOWN_TOPIC' })
    await producer.flush() // reported once
  })

  it('group-commits concurrent acks-all senders: 64 sends share one sync, the next 64 the next one', async () => {
    const io = syncGateIO()
    const broker = await openBroker({ io })
    await broker.createTopic('t')
    const producer = broker.producer({ acks: 'all' })
    io.hold = true
    const round1 = Array.from({ length: 64 }, (_, i) => producer.send('t', values(10, `a${i}-`)))
    await io.syncsStarted(1)
    // While the first sync is held, a second round arrives: it is appended, and waits.
    const round2 = Array.from({ length: 64 }, (_, i) => producer.send('t', values(10, `b${i}-`)))
    await turns(10)
    expect(io.logSyncsStarted).toBe(1)
    io.release()
    const r1 = await Promise.all(round1)
    const r2 = await Promise.all(round2)
    expect(io.logSyncsStarted).toBe(2)
    expect(r1.flat().map((r) => r.offset)).toEqual(Array.from({ length: 640 }, (_, i) => i))
    expect(r2.flat().map((r) => r.offset)).toEqual(Array.from({ length: 640 }, (_, i) => 640 + i))
    // Each round became one RecordBatch.
    expect(headers(broker, 't', 0).map((h) => h.recordCount)).toEqual([640, 640])
  })
})

describe('partitioning and batching', () => {
  it('routes keys as Kafka does, returns results in input order, one batch per partition per tick', async () => {
    const broker = await openBroker()
    await broker.createTopic('t', { partitions: 8 })
    const producer = broker.producer({ acks: 1 })
    const messages = Array.from({ length: 1000 }, (_, i) => ({ key: `key-${i % 97}`, value: `m${i}` }))
    const results = await producer.send('t', messages)
    const next = new Array(8).fill(0)
    results.forEach((r, i) => {
      expect(r.partition).toBe(partitionForKey(messages[i].key, 8))
      expect(r.offset).toBe(next[r.partition]++)
      expect(r.topic).toBe('t')
    })
    for (let p = 0; p < 8; p++) {
      const hs = headers(broker, 't', p)
      expect(hs).toHaveLength(next[p] > 0 ? 1 : 0)
      const read = await broker.getPartition('t', p).log.read(0)
      expect(read.map((r) => r.value?.toString())).toEqual(results.flatMap((r, i) => (r.partition === p ? [messages[i].value] : [])))
    }
  })

  it('honours an explicit partition over the key', async () => {
    const broker = await openBroker()
    await broker.createTopic('t', { partitions: 4 })
    const [r] = await broker.producer({ acks: 1 }).send('t', [{ key: 'k', value: 'v', partition: (partitionForKey('k', 4) + 1) % 4 }])
    expect(r.partition).toBe((partitionForKey('k', 4) + 1) % 4)
  })

  it('sticks keyless messages to one partition per batch and moves round-robin between batches', async () => {
    const broker = await openBroker()
    await broker.createTopic('t', { partitions: 4 })
    const producer = broker.producer({ acks: 1 })
    const used: number[] = []
    for (let i = 0; i < 8; i++) {
      const results = await producer.send('t', values(5))
      expect(new Set(results.map((r) => r.partition)).size).toBe(1)
      used.push(results[0].partition)
    }
    expect(used).toEqual(Array.from({ length: 8 }, (_, i) => (used[0] + i) % 4))
  })

  it('gathers the sends of lingerMs into one batch, and splits at batchBytes', async () => {
    const broker = await openBroker()
    await broker.createTopic('t')
    const lingering = broker.producer({ acks: 1, lingerMs: 100 })
    const a = lingering.send('t', values(3, 'a'))
    await new Promise((r) => setTimeout(r, 10))
    const b = lingering.send('t', values(2, 'b'))
    expect((await a).map((r) => r.offset)).toEqual([0, 1, 2])
    expect((await b).map((r) => r.offset)).toEqual([3, 4])
    expect(headers(broker, 't', 0).map((h) => h.recordCount)).toEqual([5])

    const small = broker.producer({ acks: 1, batchBytes: 1000 })
    const results = await small.send('t', Array.from({ length: 50 }, () => ({ value: 'x'.repeat(100) })))
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => 5 + i))
    const batches = headers(broker, 't', 0).slice(1)
    expect(batches.length).toBeGreaterThan(5)
    expect(batches.reduce((n, h) => n + h.recordCount, 0)).toBe(50)
    for (const h of batches) expect(h.size).toBeLessThan(1000 + 61)
  })

  it('stamps records with the clock and keeps given timestamps', async () => {
    let clock = 1_700_000_000_000
    const broker = await openBroker({ now: () => clock })
    await broker.createTopic('t')
    const producer = broker.producer({ acks: 1 })
    const results = await producer.send('t', [{ value: 'a' }, { value: 'b', timestamp: 42 }])
    expect(results.map((r) => r.timestamp)).toEqual([clock, 42])
    clock += 1000
    const read = await broker.getPartition('t', 0).log.read(0)
    expect(read.map((r) => r.timestamp)).toEqual([1_700_000_000_000, 42])
  })

  it('writes producer id, epoch and consecutive sequences into each batch header', async () => {
    const broker = await openBroker()
    await broker.createTopic('t')
    const producer = broker.producer({ acks: 1 })
    for (const n of [3, 1, 4]) await producer.send('t', values(n))
    const hs = headers(broker, 't', 0)
    expect(hs.map((h) => [h.producerId, h.producerEpoch, h.baseSequence, h.recordCount])).toEqual([
      [producer.producerId, 0, 0, 3],
      [producer.producerId, 0, 3, 1],
      [producer.producerId, 0, 4, 4],
    ])
    const plain = broker.producer({ acks: 1, idempotent: false })
    await plain.send('t', values(1))
    expect(headers(broker, 't', 0)[3]).toMatchObject({ producerId: -1, producerEpoch: -1, baseSequence: -1 })
    expect(broker.producer().producerId).not.toBe(producer.producerId)
  })
})

describe('bad input to send: typed errors, nothing written', () => {
  it('refuses the whole call when any message is bad', async () => {
    const broker = await openBroker()
    await broker.createTopic('t', { partitions: 2, maxMessageBytes: 200 })
    const producer = broker.producer({ acks: 1 })
    const ok = { value: 'fine' }
    const refuse = async (messages: unknown, code: string) =>
      expect(producer.send('t', messages as never)).rejects.toMatchObject({ code })
    await refuse([ok, { value: 'x'.repeat(300) }], 'SAMSA_MESSAGE_TOO_LARGE')
    await refuse([ok, { key: 'k'.repeat(150), value: 'x'.repeat(100) }], 'SAMSA_MESSAGE_TOO_LARGE')
    await refuse([ok, { value: 'v', headers: [{ key: 'h', value: 'x'.repeat(250) }] }], 'SAMSA_MESSAGE_TOO_LARGE')
    await refuse([ok, { value: 'v', partition: 2 }], 'SAMSA_UNKNOWN_PARTITION')
    await refuse([ok, { value: 'v', partition: -1 }], 'SAMSA_UNKNOWN_PARTITION')
    await refuse([ok, { value: 'v', partition: 0.5 }], 'SAMSA_INVALID_MESSAGE')
    await refuse([ok, { value: 42 }], 'SAMSA_INVALID_MESSAGE')
    await refuse([ok, { key: {}, value: 'v' }], 'SAMSA_INVALID_MESSAGE')
    await refuse([ok, { value: 'v', headers: [{ key: 1, value: 'x' }] }], 'SAMSA_INVALID_MESSAGE')
    await refuse([ok, { value: 'v', headers: { h: 5 } }], 'SAMSA_INVALID_MESSAGE')
    await refuse([ok, { value: 'v', timestamp: 'now' }], 'SAMSA_INVALID_MESSAGE')
    await refuse([ok, null], 'SAMSA_INVALID_MESSAGE')
    await refuse('not an array', 'SAMSA_INVALID_MESSAGE')
    await expect(producer.send('missing', [ok])).rejects.toMatchObject({ code: 'SAMSA_UNKNOWN_TOPIC' })
    await expect(producer.send('a/b', [ok])).rejects.toMatchObject({ code: 'SAMSA_INVALID_TOPIC_NAME' })
    await producer.flush()
    expect((await broker.describeTopic('t')).partitions.map((p) => p.logEndOffset)).toEqual([0, 0])
    // A message right at the limit goes through.
    expect(await producer.send('t', [{ value: 'x'.repeat(150) }])).toHaveLength(1)
  })

  it('refuses bad options and a producer used after close', async () => {
    const broker = await openBroker()
    await broker.createTopic('t')
    expect(() => broker.producer({ acks: 2 as never })).toThrow(expect.objectContaining({ code: 'SAMSA_INVALID_CONFIG' }))
    expect(() => broker.producer({ lingerMs: -1 })).toThrow(expect.objectContaining({ code: 'SAMSA_INVALID_CONFIG' }))
    expect(() => broker.producer({ idempotent: 'yes' as never })).toThrow(expect.objectContaining({ code: 'SAMSA_INVALID_CONFIG' }))
    expect(() => broker.producer({ ack: 1 } as never)).toThrow(expect.objectContaining({ code: 'SAMSA_INVALID_CONFIG' }))
    const producer = broker.producer({ lingerMs: 10_000, acks: 1 })
    const pending = producer.send('t', values(2))
    await producer.close()
    expect((await pending).map((r) => r.offset)).toEqual([0, 1]) // close sends what was queued
    await expect(producer.send('t', values(1))).rejects.toMatchObject({ code: 'SAMSA_PRODUCER_CLOSED' })
    expect(broker.getPartition('t', 0).log.logEndOffset).toBe(2)
  })
})

describe('many producers', () => {
  it('gives every record a unique offset, contiguous per partition, under concurrent senders', async () => {
    const broker = await openBroker()
    await broker.createTopic('t', { partitions: 16 })
    const rand = prng(7)
    const producers = Array.from({ length: 8 }, (_, i) => broker.producer({ acks: i % 2 === 0 ? 1 : 'all', lingerMs: i % 3 }))
    const sent: { partition: number; offset: number; value: string }[] = []
    await Promise.all(
      producers.map(async (producer, i) => {
        for (let s = 0; s < 40; s++) {
          const messages = Array.from({ length: 1 + Math.floor(rand() * 20) }, (_, j) => {
            const value = `p${i}-s${s}-${j}`
            const r = rand()
            return r < 0.3 ? { value, partition: Math.floor(rand() * 16) } : r < 0.7 ? { value, key: `k${Math.floor(rand() * 1000)}` } : { value }
          })
          const results = await producer.send('t', messages)
          results.forEach((r, j) => sent.push({ partition: r.partition, offset: r.offset, value: messages[j].value }))
        }
      }),
    )
    for (let p = 0; p < 16; p++) {
      const mine = sent.filter((s) => s.partition === p).sort((a, b) => a.offset - b.offset)
      expect(mine.map((s) => s.offset)).toEqual(Array.from({ length: mine.length }, (_, i) => i))
      const log = broker.getPartition('t', p).log
      expect(log.logEndOffset).toBe(mine.length)
      const read = await log.read(0, { maxBytes: 64 * 1024 * 1024 })
      expect(read.map((r) => r.value?.toString())).toEqual(mine.map((s) => s.value))
    }
  })
})
