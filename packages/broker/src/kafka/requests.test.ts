/**
 * What individual requests do, with requests encoded and responses decoded by KafkaJS's protocol
 * code (test-support/kafkajs-wire.ts), where the client library would hide the detail: a replayed
 * idempotent batch, out-of-range fetches, long polls, ListOffsets by time, commits refused by
 * generation, auto-creation, and the fence between embedded and wire groups.
 */
import * as fs from 'node:fs'
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { parseFetchResponse } from '../../../log/src/test-support/kafka-fixtures.js'
import { allBatches } from '../../../log/src/test-support/storage-fixtures.js'
import { startServer, type Running } from './test-support/fixture.js'
import { KafkaJSWire } from './test-support/kafkajs-wire.js'

const running: Running[] = []
const cleanups: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  for (const r of running.splice(0)) await r.stop()
})

async function setup(options: Parameters<typeof startServer>[0] = {}): Promise<{ s: Running; wire: KafkaJSWire }> {
  const s = await startServer(options)
  running.push(s)
  const wire = await KafkaJSWire.connect(s.port)
  cleanups.push(() => wire.destroy())
  return { s, wire }
}

const fetchArgs = (topic: string, partition: number, offset: number, extra: Record<string, unknown> = {}) => ({
  replicaId: -1,
  maxWaitTime: 0,
  minBytes: 0,
  maxBytes: 1 << 20,
  topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: 1 << 20 }] }],
  ...extra,
})

describe('Produce', () => {
  it('a replayed idempotent batch gets its original offset and is not stored twice; gaps and stale epochs are refused', async () => {
    const { s, wire } = await setup()
    await s.broker.createTopic('t')
    const init = await wire.send('initProducerId', 1, { transactionalId: null, transactionTimeout: 30000 })
    expect(init.body.errorCode).toBe(0)
    const producerId = init.body.producerId as string
    const produce = (firstSequence: number, producerEpoch = 0, value = `seq-${firstSequence}`) =>
      wire.send('produce', 7, {
        acks: -1,
        timeout: 1000,
        producerId,
        producerEpoch,
        topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence, messages: [{ key: 'k', value, timestamp: 1_700_000_000_000 }, { value: `${value}-b`, timestamp: 1_700_000_000_001 }] }] }],
      })
    const partitionOf = (r: { body: { topics: { partitions: { errorCode: number; baseOffset: string }[] }[] } }) => r.body.topics[0].partitions[0]

    expect(partitionOf(await produce(0))).toMatchObject({ errorCode: 0, baseOffset: '0' })
    expect(partitionOf(await produce(2))).toMatchObject({ errorCode: 0, baseOffset: '2' })
    // The client retries sequence 2 (its answer was lost): the same offsets, nothing written.
    expect(partitionOf(await produce(2))).toMatchObject({ errorCode: 0, baseOffset: '2' })
    expect(s.broker.getPartition('t', 0).log.logEndOffset).toBe(4)
    // A gap: OUT_OF_ORDER_SEQUENCE_NUMBER (45), nothing written.
    expect(partitionOf(await produce(9))).toMatchObject({ errorCode: 45 })
    // A new epoch starts at 0; then the old epoch is fenced: INVALID_PRODUCER_EPOCH (47).
    expect(partitionOf(await produce(0, 1, 'epoch-1'))).toMatchObject({ errorCode: 0, baseOffset: '4' })
    expect(partitionOf(await produce(4, 0))).toMatchObject({ errorCode: 47 })
    const values = (await s.broker.getPartition('t', 0).log.read(0)).map((r) => r.value?.toString())
    expect(values).toEqual(['seq-0', 'seq-0-b', 'seq-2', 'seq-2-b', 'epoch-1', 'epoch-1-b'])
  })

  it('unknown topics and partitions, corrupt batches and transactional producers get their error codes', async () => {
    const { s, wire } = await setup()
    await s.broker.createTopic('t')
    const send = (topic: string, partition: number) =>
      wire.send('produce', 7, { acks: 1, timeout: 1000, topicData: [{ topic, partitions: [{ partition, messages: [{ value: 'x' }] }] }] })
    expect((await send('nope', 0)).body.topics[0].partitions[0].errorCode).toBe(3)
    expect((await send('t', 5)).body.topics[0].partitions[0].errorCode).toBe(3)
    // A batch whose CRC does not match: CORRUPT_MESSAGE (2), nothing stored.
    const { wire: bytes, correlationId, response } = await wire.encode('produce', 7, { acks: 1, timeout: 1000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ value: 'intact' }] }] }] })
    bytes[bytes.length - 1] ^= 0xff // the last byte of the record's value
    const answer = wire.expect(correlationId, (b) => response.decode(b))
    wire.write(bytes)
    expect((await answer).body.topics[0].partitions[0].errorCode).toBe(2)
    expect(s.broker.getPartition('t', 0).log.logEndOffset).toBe(0)
    const tx = await wire.send('initProducerId', 1, { transactionalId: 'tx-1', transactionTimeout: 30000 })
    expect(tx.body.errorCode).toBe(53)
    expect(s.logs).toEqual([expect.stringContaining('transactions are not supported')])
  })
})

describe('Fetch', () => {
  it('serves the stored bytes as they are, with the high watermark, log start and no preferred replica', async () => {
    const { s, wire } = await setup()
    await s.broker.createTopic('t', { segmentBytes: 300 })
    const producer = s.broker.producer({ acks: 1 })
    for (let i = 0; i < 10; i++) await producer.send('t', [{ key: `k${i}`, value: `value-${i}`.repeat(5), headers: { i: String(i) } }])
    const stored = allBatches(s.broker.getPartition('t', 0).dir)
    expect(new Set(stored.map((b) => b.file)).size).toBeGreaterThan(1) // spans segments

    const res = await wire.send('fetch', 11, fetchArgs('t', 0, 3))
    const parsed = parseFetchResponse(res.raw, 11)
    const p = parsed.topics[0].partitions[0]
    expect(p).toMatchObject({ errorCode: 0, highWatermark: 10, lastStableOffset: 10, logStartOffset: 0, abortedTransactions: [], preferredReadReplica: -1, partialTail: null })
    const fileBytes = stored.filter((b) => b.lastOffset >= 3).map((b) => fs.readFileSync(b.file).subarray(b.position, b.position + b.size))
    expect(p.records!.equals(Buffer.concat(fileBytes))).toBe(true)
    // And KafkaJS reads the records out of them.
    expect(res.body.responses[0].partitions[0].messages.map((m: { offset: string }) => m.offset)).toEqual(['3', '4', '5', '6', '7', '8', '9'])
  })

  it('OFFSET_OUT_OF_RANGE only above the high watermark or below the log start; at the high watermark an empty answer', async () => {
    const { s, wire } = await setup()
    await s.broker.createTopic('t', { segmentBytes: 200 })
    const producer = s.broker.producer({ acks: 1 })
    for (let i = 0; i < 10; i++) await producer.send('t', [{ value: `v${i}`.repeat(10) }])
    await s.broker.deleteRecords('t', 0, 5)
    const start = s.broker.getPartition('t', 0).log.logStartOffset
    expect(start).toBe(5)
    const at = async (offset: number) => (await wire.send('fetch', 11, fetchArgs('t', 0, offset))).body.responses[0].partitions[0]
    expect(await at(10)).toMatchObject({ errorCode: 0, highWatermark: '10', lastStartOffset: '5', messages: [] })
    expect(await at(11)).toMatchObject({ errorCode: 1, highWatermark: '10' })
    expect(await at(4)).toMatchObject({ errorCode: 1, lastStartOffset: '5' })
    expect((await at(5)).messages.map((m: { offset: string }) => m.offset)).toEqual(['5', '6', '7', '8', '9'])
    const unknown = await wire.send('fetch', 4, fetchArgs('nope', 0, 0))
    expect(unknown.body.responses[0].partitions[0].errorCode).toBe(3)
  })

  it('long-polls at the high watermark until data arrives (not until max wait), and answers what there is at max wait', async () => {
    const { s, wire } = await setup()
    await s.broker.createTopic('t')
    const t0 = Date.now()
    const held = wire.send('fetch', 11, fetchArgs('t', 0, 0, { maxWaitTime: 20_000, minBytes: 1 }))
    await new Promise((r) => setTimeout(r, 200))
    await s.broker.producer({ acks: 1 }).send('t', [{ value: 'wake up' }])
    const res = await held
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(res.body.responses[0].partitions[0].messages.map((m: { value: Buffer }) => m.value.toString())).toEqual(['wake up'])

    // min_bytes more than there will ever be: answered at max wait with what there is.
    const big = await wire.send('fetch', 11, fetchArgs('t', 0, 0, { maxWaitTime: 300, minBytes: 1 << 20 }))
    expect(big.body.responses[0].partitions[0].messages).toHaveLength(1)

    // A consumer at the end does not spin: an idle second sees a handful of fetches, not hundreds.
    const kafka = new Kafka({ clientId: 'idle', brokers: [s.bootstrap], logLevel: logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId: 'idle-group', maxWaitTimeInMs: 500 })
    await consumer.connect()
    cleanups.push(() => consumer.disconnect())
    await consumer.subscribe({ topic: 't', fromBeginning: true })
    let got = 0
    await consumer.run({ eachMessage: async () => void got++ })
    while (got < 1) await new Promise((r) => setTimeout(r, 20))
    const before = s.server.requestCounts.get(1) ?? 0
    await new Promise((r) => setTimeout(r, 1000))
    expect((s.server.requestCounts.get(1) ?? 0) - before).toBeLessThanOrEqual(4)
  })
})

describe('ListOffsets', () => {
  it('-1 is the high watermark, -2 the log start, a timestamp the first record at or after it', async () => {
    const { s, wire } = await setup()
    await s.broker.createTopic('t')
    const producer = s.broker.producer({ acks: 1 })
    for (let i = 0; i < 5; i++) await producer.send('t', [{ value: `v${i}`, timestamp: 1_000_000 + i * 1000 }])
    const ask = async (version: number, timestamp: number) =>
      (await wire.send('listOffsets', version, { replicaId: -1, topics: [{ topic: 't', partitions: [{ partition: 0, timestamp }] }] })).body.responses[0].partitions[0]
    expect(await ask(2, -1)).toMatchObject({ errorCode: 0, offset: '5', timestamp: '-1' })
    expect(await ask(2, -2)).toMatchObject({ errorCode: 0, offset: '0' })
    expect(await ask(1, 1_002_500)).toMatchObject({ errorCode: 0, offset: '3', timestamp: '1003000' })
    expect(await ask(1, 1_002_000)).toMatchObject({ offset: '2', timestamp: '1002000' })
    expect(await ask(2, 9_999_999)).toMatchObject({ errorCode: 0, offset: '-1', timestamp: '-1' })
    expect(await ask(0, -1)).toMatchObject({ errorCode: 0, offsets: ['5'] })
    const missing = await wire.send('listOffsets', 2, { replicaId: -1, topics: [{ topic: 'nope', partitions: [{ partition: 0, timestamp: -1 }] }] })
    expect(missing.body.responses[0].partitions[0].errorCode).toBe(3)
  })
})

describe('Metadata', () => {
  it('creates a named unknown topic only when the broker allows auto-creation', async () => {
    const off = await setup()
    const res = await off.wire.send('metadata', 4, { topics: ['fresh'], allowAutoTopicCreation: true })
    expect(res.body.topicMetadata).toEqual([{ topicErrorCode: 3, topic: 'fresh', isInternal: false, partitionMetadata: [] }])
    expect(off.s.broker.getTopic('fresh')).toBeUndefined()

    const on = await setup({ broker: { autoCreateTopics: true, partitions: 3 } })
    const created = await on.wire.send('metadata', 4, { topics: ['fresh'], allowAutoTopicCreation: true })
    expect(created.body.topicMetadata[0]).toMatchObject({ topicErrorCode: 0, topic: 'fresh' })
    expect(created.body.topicMetadata[0].partitionMetadata).toHaveLength(3)
    const refused = await on.wire.send('metadata', 4, { topics: ['other'], allowAutoTopicCreation: false })
    expect(refused.body.topicMetadata[0].topicErrorCode).toBe(3)
    const invalid = await on.wire.send('metadata', 4, { topics: ['bad name!'], allowAutoTopicCreation: true })
    expect(invalid.body.topicMetadata[0].topicErrorCode).toBe(17)
    expect(invalid.body.controllerId).toBe(0)
    expect(invalid.body.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: on.s.port, rack: null }])
  })

  it('advertises the host and port it is told to', async () => {
    const { s, wire } = await setup({ server: { advertisedHost: 'kafka.example', advertisedPort: 19092 } })
    expect((await wire.send('metadata', 1, { topics: [] })).body.brokers).toEqual([{ nodeId: 0, host: 'kafka.example', port: 19092, rack: null }])
    expect((await wire.send('findCoordinator', 2, { groupId: 'g' })).body.coordinator).toEqual({ nodeId: 0, host: 'kafka.example', port: 19092 })
    expect(s.server.address().port).not.toBe(19092)
  })
})

describe('offsets and groups', () => {
  it('OffsetFetch answers -1 when nothing is committed; commits are checked against the group', async () => {
    const { s, wire } = await setup()
    await s.broker.createTopic('t', { partitions: 2 })
    const fetchOffsets = async () =>
      (await wire.send('offsetFetch', 4, { groupId: 'g', topics: [{ topic: 't', partitions: [{ partition: 0 }, { partition: 1 }] }] })).body.responses[0].partitions
    expect(await fetchOffsets()).toEqual([
      { partition: 0, offset: '-1', metadata: '', errorCode: 0 },
      { partition: 1, offset: '-1', metadata: '', errorCode: 0 },
    ])
    const commit = async (generation: number, memberId: string, offset = '7') =>
      (await wire.send('offsetCommit', 5, { groupId: 'g', groupGenerationId: generation, memberId, topics: [{ topic: 't', partitions: [{ partition: 1, offset, metadata: 'm' }] }] })).body.responses[0].partitions[0].errorCode

    // No members: a commit from outside the group (generation -1) is taken, as Kafka does.
    expect(await commit(-1, '')).toBe(0)
    expect((await fetchOffsets())[1]).toEqual({ partition: 1, offset: '7', metadata: 'm', errorCode: 0 })
    expect(s.groups.offsets.get('g', 't', 1)).toMatchObject({ offset: 7, metadata: 'm' })

    // With a member: only it, at its generation.
    const join = await wire.send('joinGroup', 3, { groupId: 'g', sessionTimeout: 30_000, rebalanceTimeout: 30_000, memberId: '', protocolType: 'consumer', groupProtocols: [{ name: 'range', metadata: Buffer.alloc(0) }] })
    const { memberId, generationId } = join.body
    expect(await commit(-1, '')).toBe(25) // UNKNOWN_MEMBER_ID
    expect(await commit(generationId, memberId, '8')).toBe(27) // REBALANCE_IN_PROGRESS: before its SyncGroup
    await wire.send('syncGroup', 3, { groupId: 'g', generationId, memberId, groupAssignment: [{ memberId, memberAssignment: Buffer.alloc(0) }] })
    expect(await commit(generationId + 1, memberId)).toBe(22) // ILLEGAL_GENERATION
    expect(await commit(generationId, 'someone-else')).toBe(25)
    expect(await commit(generationId, memberId, '9')).toBe(0)
    expect((await fetchOffsets())[1].offset).toBe('9')
    // A topic that does not exist.
    const unknown = await wire.send('offsetCommit', 5, { groupId: 'g', groupGenerationId: generationId, memberId, topics: [{ topic: 'nope', partitions: [{ partition: 0, offset: '1' }] }] })
    expect(unknown.body.responses[0].partitions[0].errorCode).toBe(3)
    expect(s.groups.describeGroup('g')).toMatchObject({ protocolType: 'consumer', members: [{ memberId }] })
  })

  it('embedded consumers and wire clients cannot share a group id', async () => {
    const { s, wire } = await setup()
    await s.broker.createTopic('t')
    const embedded = s.groups.consumer({ groupId: 'embedded-group', autoOffsetReset: 'earliest' })
    cleanups.push(() => embedded.close())
    await embedded.subscribe(['t'])
    await embedded.poll({ timeoutMs: 50 })
    const join = (groupId: string) =>
      wire.send('joinGroup', 3, { groupId, sessionTimeout: 30_000, rebalanceTimeout: 30_000, memberId: '', protocolType: 'consumer', groupProtocols: [{ name: 'range', metadata: Buffer.alloc(0) }] })
    expect((await join('embedded-group')).body.errorCode).toBe(23) // INCONSISTENT_GROUP_PROTOCOL
    expect(s.logs.some((l) => l.includes('embedded member'))).toBe(true)

    expect((await join('wire-group')).body.errorCode).toBe(0)
    const intruder = s.groups.consumer({ groupId: 'wire-group' })
    cleanups.push(() => intruder.close())
    await intruder.subscribe(['t'])
    await expect(intruder.poll({ timeoutMs: 50 })).rejects.toMatchObject({ code: 'SAMSA_INCONSISTENT_GROUP_PROTOCOL' })
  })

  it('KafkaJS admin lists and describes groups, wire and embedded', async () => {
    const { s } = await setup()
    await s.broker.createTopic('t', { partitions: 2 })
    const kafka = new Kafka({ clientId: 'admin', brokers: [s.bootstrap], logLevel: logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId: 'wire-g', maxWaitTimeInMs: 100 })
    await consumer.connect()
    cleanups.push(() => consumer.disconnect())
    await consumer.subscribe({ topic: 't' })
    let joined = false
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true))
    await consumer.run({ eachMessage: async () => undefined })
    while (!joined) await new Promise((r) => setTimeout(r, 20))
    await s.groups.offsets.commit('embedded-g', [{ topic: 't', partition: 0, offset: 1 }])

    const admin = kafka.admin()
    await admin.connect()
    cleanups.push(() => admin.disconnect())
    const { groups } = await admin.listGroups()
    expect(groups.sort((a, b) => a.groupId.localeCompare(b.groupId))).toEqual([
      { groupId: 'embedded-g', protocolType: 'embedded' },
      { groupId: 'wire-g', protocolType: 'consumer' },
    ])
    const described = await admin.describeGroups(['wire-g', 'embedded-g', 'never-seen'])
    const byId = Object.fromEntries(described.groups.map((g) => [g.groupId, g]))
    expect(byId['wire-g']).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocol: 'RoundRobinAssigner' })
    expect(byId['wire-g'].members).toHaveLength(1)
    expect(byId['wire-g'].members[0]).toMatchObject({ clientId: 'admin', clientHost: '/127.0.0.1' })
    expect(byId['embedded-g']).toMatchObject({ state: 'Empty', protocolType: 'embedded', members: [] })
    expect(byId['never-seen']).toMatchObject({ state: 'Dead', members: [] })
    // KafkaJS reads the offsets the group committed.
    expect(await admin.fetchOffsets({ groupId: 'embedded-g', topics: ['t'] })).toEqual([
      { topic: 't', partitions: expect.arrayContaining([{ partition: 0, offset: '1', metadata: null }, { partition: 1, offset: '-1', metadata: null }]) },
    ])
  })
})
