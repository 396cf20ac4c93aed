import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Log } from '@samsa/log'
import { Broker } from './broker.js'
import { DEFAULT_TOPIC_CONFIG } from './topic-config.js'
import { tempDirs } from './test-support/helpers.js'

const dirs = tempDirs('broker')
const open: Broker[] = []
afterEach(async () => {
  for (const b of open.splice(0)) await b.close().catch(() => undefined)
  dirs.cleanup()
})

async function openBroker(dir: string, options: Parameters<typeof Broker.open>[1] = {}): Promise<Broker> {
  const b = await Broker.open(dir, { retentionCheckIntervalMs: 0, ...options })
  open.push(b)
  return b
}

function entries(dir: string): string[] {
  return fs.readdirSync(dir).sort()
}

describe('topic lifecycle', () => {
  it('creates, lists, describes, alters, grows and deletes topics, and all of it survives reopening', async () => {
    const dir = dirs.make()
    let broker = await openBroker(dir, { partitions: 2 })
    await broker.createTopic('orders', { partitions: 3, retentionMs: 60_000, segmentBytes: 4096 })
    await broker.createTopic('audit')
    await broker.createTopic('doomed', { partitions: 2 })
    expect(await broker.listTopics()).toEqual(['audit', 'doomed', 'orders'])

    const producer = broker.producer({ acks: 1 })
    const sent = await producer.send('orders', [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 0 },
      { value: 'c', partition: 2 },
    ])
    expect(sent.map((r) => [r.partition, r.offset])).toEqual([
      [0, 0],
      [0, 1],
      [2, 0],
    ])

    const d = await broker.describeTopic('orders')
    expect(d.name).toBe('orders')
    expect(d.config).toEqual({ ...DEFAULT_TOPIC_CONFIG, retentionMs: 60_000, segmentBytes: 4096 })
    expect(d.overrides).toEqual({ retentionMs: 60_000, segmentBytes: 4096 })
    expect(d.partitions.map((p) => [p.partition, p.logStartOffset, p.logEndOffset, p.segments])).toEqual([
      [0, 0, 2, 1],
      [1, 0, 0, 1],
      [2, 0, 1, 1],
    ])
    expect(d.partitions[0].size).toBe(fs.statSync(path.join(dir, 'orders-0', '00000000000000000000.log')).size)
    expect(d.partitions[0].size).toBeGreaterThan(0)
    expect((await broker.describeTopic('audit')).partitions).toHaveLength(2) // the broker's default

    expect(await broker.alterTopicConfig('orders', { retentionMs: null, 'retention.bytes': '1000000' })).toMatchObject({
      retentionMs: DEFAULT_TOPIC_CONFIG.retentionMs,
      retentionBytes: 1_000_000,
      segmentBytes: 4096,
    })
    await broker.createPartitions('orders', 5)
    await broker.deleteTopic('doomed')
    expect(entries(dir).filter((n) => n.startsWith('doomed'))).toEqual([])
    await broker.close()

    broker = await openBroker(dir, { partitions: 2 })
    expect(await broker.listTopics()).toEqual(['audit', 'orders'])
    const again = await broker.describeTopic('orders')
    expect(again.overrides).toEqual({ retentionBytes: 1_000_000, segmentBytes: 4096 })
    expect(again.partitions.map((p) => p.logEndOffset)).toEqual([2, 0, 1, 0, 0])
    const records = await broker.getPartition('orders', 0).log.read(0)
    expect(records.map((r) => r.value?.toString())).toEqual(['a', 'b'])
    expect(broker.recovery.recoveredPartitions).toEqual([])
    // A deleted name can be used again, and starts empty.
    await broker.createTopic('doomed')
    expect((await broker.describeTopic('doomed')).partitions.map((p) => p.logEndOffset)).toEqual([0, 0])
  })

  it('keeps partition data in <dataDir>/<topic>-<partition> and the registry in <dataDir>/meta', async () => {
    const dir = dirs.make()
    const broker = await openBroker(dir)
    await broker.createTopic('t.x_y-z', { partitions: 2 })
    expect(entries(dir)).toEqual(['.lock', 'meta', 't.x_y-z-0', 't.x_y-z-1'])
    await broker.close()
    expect(entries(dir)).toEqual(['meta', 't.x_y-z-0', 't.x_y-z-1'])
  })

  it('refuses a second writer of the same data directory', async () => {
    const dir = dirs.make()
    await openBroker(dir)
    await expect(Broker.open(dir)).rejects.toMatchObject({ code: 'SAMSA_LOCKED' })
  })

  it('creates topics on first send only with autoCreateTopics', async () => {
    const dir = dirs.make()
    let broker = await openBroker(dir)
    await expect(broker.producer().send('fresh', [{ value: 'x' }])).rejects.toMatchObject({ code: 'SAMSA_UNKNOWN_TOPIC' })
    expect(await broker.listTopics()).toEqual([])
    await broker.close()
    broker = await openBroker(dir, { autoCreateTopics: true, partitions: 3 })
    const producer = broker.producer()
    const results = await Promise.all([producer.send('fresh', [{ value: 'x' }]), producer.send('fresh', [{ value: 'y' }])])
    expect(results.flat()).toHaveLength(2)
    expect((await broker.describeTopic('fresh')).partitions).toHaveLength(3)
    await expect(producer.send('../fresh', [{ value: 'x' }])).rejects.toMatchObject({ code: 'SAMSA_INVALID_TOPIC_NAME' })
  })

  it('reopens partitions when a config that shapes the log changes, keeping their data', async () => {
    const dir = dirs.make()
    const broker = await openBroker(dir)
    await broker.createTopic('t')
    const producer = broker.producer({ acks: 1 })
    await producer.send('t', [{ value: 'before' }])
    const logBefore = broker.getPartition('t', 0).log
    await broker.alterTopicConfig('t', { segmentBytes: 200 })
    const logAfter = broker.getPartition('t', 0).log
    expect(logAfter).not.toBe(logBefore)
    for (let i = 0; i < 5; i++) await producer.send('t', [{ value: 'x'.repeat(100) }])
    expect(logAfter.segmentCount).toBeGreaterThan(2)
    expect((await logAfter.read(0)).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5])
    // A retention change reopens nothing.
    await broker.alterTopicConfig('t', { retentionMs: 1000 })
    expect(broker.getPartition('t', 0).log).toBe(logAfter)
  })

  it('opens 1,000 partitions after a crash, recovering every one before Broker.open resolves', async () => {
    const dir = dirs.make()
    const broker = await openBroker(dir, { openConcurrency: 32 })
    await broker.createTopic('wide', { partitions: 1000 })
    const producer = broker.producer({ acks: 1, idempotent: false })
    await producer.send(
      'wide',
      Array.from({ length: 1000 }, (_, p) => ({ value: `v${p}`, partition: p })),
    )
    await broker.close()
    // As after a crash: no log has its clean-shutdown marker, so every one is scanned and checked.
    for (let p = 0; p < 1000; p++) fs.rmSync(path.join(dir, `wide-${p}`, '.clean-shutdown'))
    // Garbage after the last batch of one partition: a torn write.
    fs.appendFileSync(path.join(dir, 'wide-7', '00000000000000000000.log'), Buffer.alloc(40, 0xab))

    const reopened = await openBroker(dir, { openConcurrency: 32 })
    expect(reopened.recovery.recoveredPartitions).toHaveLength(1000)
    const torn = reopened.recovery.recoveredPartitions.find((r) => r.partition === 7)
    expect(torn?.report.truncatedBytes).toBe(40)
    const d = await reopened.describeTopic('wide')
    expect(d.partitions.every((p) => p.logEndOffset === 1)).toBe(true)
    expect((await reopened.getPartition('wide', 999).log.read(0))[0].value?.toString()).toBe('v999')
  })
})

describe('bad input to topic administration: typed errors, nothing written', () => {
  it('refuses bad names, partition counts, unknown keys and wrong types', async () => {
    const dir = dirs.make()
    const broker = await openBroker(dir, { maxPartitions: 50 })
    const before = entries(dir)
    const refuse = async (p: Promise<unknown>, code: string) => expect(p).rejects.toMatchObject({ code })
    await refuse(broker.createTopic('../escape'), 'SAMSA_INVALID_TOPIC_NAME')
    await refuse(broker.createTopic('t', { partitions: 0 }), 'SAMSA_INVALID_PARTITIONS')
    await refuse(broker.createTopic('t', { partitions: -3 }), 'SAMSA_INVALID_PARTITIONS')
    await refuse(broker.createTopic('t', { partitions: 51 }), 'SAMSA_INVALID_PARTITIONS')
    await refuse(broker.createTopic('t', { partitions: 1.5 }), 'SAMSA_INVALID_PARTITIONS')
    await refuse(broker.createTopic('t', { retentionMsec: 5 } as never), 'SAMSA_INVALID_CONFIG')
    await refuse(broker.createTopic('t', { retentionMs: '5' } as never), 'SAMSA_INVALID_CONFIG')
    await refuse(broker.createTopic('t', { flush: 'sometimes' } as never), 'SAMSA_INVALID_CONFIG')
    await refuse(broker.createTopic('t', { cleanupPolicy: 'compact' } as never), 'SAMSA_INVALID_CONFIG')
    await refuse(broker.createTopic('t', { segmentBytes: 2 ** 31 }), 'SAMSA_INVALID_CONFIG')
    expect(await broker.listTopics()).toEqual([])
    expect(entries(dir)).toEqual(before)

    await broker.createTopic('t', { partitions: 2 })
    await refuse(broker.createTopic('t'), 'SAMSA_TOPIC_EXISTS')
    await broker.createTopic('a.b')
    await refuse(broker.createTopic('a_b'), 'SAMSA_TOPIC_EXISTS') // Kafka refuses names differing only in . and _
    await refuse(broker.createPartitions('t', 2), 'SAMSA_INVALID_PARTITIONS')
    await refuse(broker.createPartitions('t', 1), 'SAMSA_INVALID_PARTITIONS')
    await refuse(broker.createPartitions('t', 51), 'SAMSA_INVALID_PARTITIONS')
    await refuse(broker.createPartitions('nope', 3), 'SAMSA_UNKNOWN_TOPIC')
    await refuse(broker.alterTopicConfig('t', { partitions: 4 }), 'SAMSA_INVALID_CONFIG')
    await refuse(broker.alterTopicConfig('t', { maxMessageBytes: -1 }), 'SAMSA_INVALID_CONFIG')
    await refuse(broker.alterTopicConfig('nope', { retentionMs: 1 }), 'SAMSA_UNKNOWN_TOPIC')
    await refuse(broker.deleteTopic('nope'), 'SAMSA_UNKNOWN_TOPIC')
    await refuse(broker.describeTopic('nope'), 'SAMSA_UNKNOWN_TOPIC')
    await refuse(broker.deleteRecords('t', 2, 0), 'SAMSA_UNKNOWN_PARTITION')
    await refuse(broker.deleteRecords('t', 0, 5), 'SAMSA_OFFSET_OUT_OF_RANGE')
    expect((await broker.describeTopic('t')).partitions).toHaveLength(2)
    expect((await broker.describeTopic('t')).overrides).toEqual({})
  })

  it('refuses bad broker options', async () => {
    const dir = dirs.make()
    await expect(Broker.open(dir, { retentionMs: 'forever' } as never)).rejects.toMatchObject({ code: 'SAMSA_INVALID_CONFIG' })
    await expect(Broker.open(dir, { bogus: 1 } as never)).rejects.toMatchObject({ code: 'SAMSA_INVALID_CONFIG' })
    await expect(Broker.open(dir, { partitions: 0 })).rejects.toMatchObject({ code: 'SAMSA_INVALID_PARTITIONS' })
    await expect(Broker.open(dir, { autoCreateTopics: 'yes' } as never)).rejects.toMatchObject({ code: 'SAMSA_INVALID_CONFIG' })
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it('refuses everything after close', async () => {
    const broker = await openBroker(dirs.make())
    await broker.createTopic('t')
    const producer = broker.producer()
    await broker.close()
    await expect(broker.createTopic('u')).rejects.toMatchObject({ code: 'SAMSA_BROKER_CLOSED' })
    await expect(broker.listTopics()).rejects.toMatchObject({ code: 'SAMSA_BROKER_CLOSED' })
    await expect(producer.send('t', [{ value: 'x' }])).rejects.toMatchObject({ code: 'SAMSA_PRODUCER_CLOSED' })
    expect(() => broker.producer()).toThrow(expect.objectContaining({ code: 'SAMSA_BROKER_CLOSED' }))
  })
})

describe('the data directory as found on disk', () => {
  it('adopts partition directories the registry does not know, and ignores anything that is not one', async () => {
    const dir = dirs.make()
    // Logs written without a broker, as if the metadata had been lost.
    for (const p of [0, 1, 2]) {
      const log = await Log.open(path.join(dir, `lost-${p}`))
      await log.append([{ value: `p${p}` }])
      await log.close()
    }
    fs.mkdirSync(path.join(dir, 'not-a-partition'))
    fs.mkdirSync(path.join(dir, '..-0')) // an invalid topic name with a log marker must not be taken
    fs.writeFileSync(path.join(dir, '..-0', 'samsa.checkpoint'), '{}')
    fs.mkdirSync(path.join(dir, 'empty-0')) // no log marker
    const broker = await openBroker(dir)
    expect(broker.recovery.adoptedTopics).toEqual(['lost'])
    expect(await broker.listTopics()).toEqual(['lost'])
    expect((await broker.describeTopic('lost')).partitions.map((p) => p.logEndOffset)).toEqual([1, 1, 1])
    expect(fs.existsSync(path.join(dir, 'not-a-partition'))).toBe(true)
  })

  it('opens read-only beside a live writer, and refuses to write', async () => {
    const dir = dirs.make()
    const writer = await openBroker(dir)
    await writer.createTopic('t', { partitions: 2 })
    await writer.producer({ acks: 1 }).send('t', [{ value: 'one', partition: 1 }])
    const reader = await openBroker(dir, { readOnly: true })
    expect(await reader.listTopics()).toEqual(['t'])
    expect((await reader.getPartition('t', 1).log.read(0)).map((r) => r.value?.toString())).toEqual(['one'])
    await expect(reader.createTopic('u')).rejects.toMatchObject({ code: 'SAMSA_READ_ONLY' })
    expect(() => reader.producer()).toThrow(expect.objectContaining({ code: 'SAMSA_READ_ONLY' }))
    await expect(Broker.open(dirs.make(), { readOnly: true })).rejects.toMatchObject({ code: 'SAMSA_BROKER_NOT_FOUND' })
  })
})
