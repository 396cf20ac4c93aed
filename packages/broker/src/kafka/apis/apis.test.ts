/**
 * Every API at every version, checked against KafkaJS 2.2.4's own protocol code:
 * - a request KafkaJS encodes (with its header and size prefix, as it goes on the wire) must come
 *   out of FrameDecoder + decodeRequest with the values KafkaJS was given;
 * - a response we encode must decode with KafkaJS's decoder to the values we meant, with every
 *   byte read (KafkaJS's decoders ignore trailing bytes, so that is tracked separately).
 */
import { createRequire } from 'node:module'
import { decodeBatch } from '@samsa/log'
import { describe, expect, it } from 'vitest'
import { fixtureBatches } from '../../../../log/src/test-support/kafka-fixtures.js'
import { FrameDecoder } from '../frame.js'
import { decodeRequest } from '../request.js'
import { Writer } from '../wire.js'
import { SUPPORTED_VERSIONS, type ApiCodec } from './index.js'
import * as apis from './index.js'
import type { FetchRequest } from './fetch.js'
import type { ProduceRequest } from './produce.js'

const require = createRequire(import.meta.url)
const createRequest = require('kafkajs/src/protocol/request')
const Decoder = require('kafkajs/src/protocol/decoder')
const Long = require('kafkajs/src/utils/long')

// ------------------------------------------------------------------------------------------------
// How far KafkaJS's decoder read into the buffer we handed it.

const farthest = new Map<Buffer, number>()
for (const name of Object.getOwnPropertyNames(Decoder.prototype)) {
  if (!name.startsWith('read')) continue
  const original = Decoder.prototype[name]
  Decoder.prototype[name] = function (this: { buffer: Buffer; offset: number }, ...args: unknown[]) {
    const out = original.apply(this, args)
    const note = () => {
      if (farthest.has(this.buffer)) farthest.set(this.buffer, Math.max(farthest.get(this.buffer) ?? 0, this.offset))
    }
    note()
    if (out instanceof Promise) return out.then((v: unknown) => (note(), v))
    return out
  }
}

/** Our response, encoded, then decoded by KafkaJS; fails if KafkaJS left bytes unread. */
async function viaKafkaJS<Res>(codec: ApiCodec<unknown, Res>, version: number, response: Res, kafkajsResponse: { decode: (b: Buffer) => Promise<unknown> }) {
  const w = new Writer(16)
  codec.encodeResponse(w, version, response)
  const buf = w.toBuffer()
  farthest.set(buf, 0)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const decoded: any = await kafkajsResponse.decode(buf)
  expect(farthest.get(buf), `${codec.name} v${version}: KafkaJS read ${farthest.get(buf)} of ${buf.length} bytes`).toBe(buf.length)
  farthest.delete(buf)
  return decoded
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function kafkajs(api: string, version: number, args: Record<string, unknown> = {}): { request: any; response: any } {
  const { protocol } = require(`kafkajs/src/protocol/requests/${api}`)
  return protocol({ version })(args)
}

/** Encode a KafkaJS request as it is sent (size prefix, header v1), then frame and decode it as the server does. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function decodeFromKafkaJS(request: any) {
  const wire: Buffer = (await createRequest({ correlationId: 4242, clientId: 'kafkajs-test', request })).buffer
  // Deliver it in awkward pieces, as TCP may.
  const decoder = new FrameDecoder()
  const frames: Buffer[] = []
  for (let i = 0; i < wire.length; i += 7) frames.push(...decoder.push(wire.subarray(i, i + 7)))
  expect(frames).toHaveLength(1)
  expect(decoder.pendingBytes).toBe(0)
  const decoded = decodeRequest(frames[0])
  expect(decoded.header).toEqual({ apiKey: request.apiKey, apiVersion: request.apiVersion, correlationId: 4242, clientId: 'kafkajs-test', headerVersion: 1 })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return decoded.request as any
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const throttle = (d: any) => d.clientSideThrottleTime ?? d.throttleTime

// ------------------------------------------------------------------------------------------------

describe('the advertised version table', () => {
  it('is exactly the ranges of the issue and KAFKA-PROTOCOL-NOTES.md', () => {
    expect(SUPPORTED_VERSIONS).toEqual([
      { apiKey: 0, minVersion: 3, maxVersion: 7 }, // Produce
      { apiKey: 1, minVersion: 4, maxVersion: 11 }, // Fetch
      { apiKey: 2, minVersion: 0, maxVersion: 2 }, // ListOffsets
      { apiKey: 3, minVersion: 0, maxVersion: 4 }, // Metadata
      { apiKey: 8, minVersion: 0, maxVersion: 5 }, // OffsetCommit
      { apiKey: 9, minVersion: 1, maxVersion: 4 }, // OffsetFetch
      { apiKey: 10, minVersion: 0, maxVersion: 2 }, // FindCoordinator
      { apiKey: 11, minVersion: 0, maxVersion: 5 }, // JoinGroup
      { apiKey: 12, minVersion: 0, maxVersion: 3 }, // Heartbeat
      { apiKey: 13, minVersion: 0, maxVersion: 1 }, // LeaveGroup
      { apiKey: 14, minVersion: 0, maxVersion: 3 }, // SyncGroup
      { apiKey: 15, minVersion: 0, maxVersion: 2 }, // DescribeGroups
      { apiKey: 16, minVersion: 0, maxVersion: 2 }, // ListGroups
      { apiKey: 18, minVersion: 0, maxVersion: 3 }, // ApiVersions
      { apiKey: 19, minVersion: 0, maxVersion: 3 }, // CreateTopics
      { apiKey: 20, minVersion: 0, maxVersion: 1 }, // DeleteTopics
      { apiKey: 22, minVersion: 0, maxVersion: 1 }, // InitProducerId
    ])
  })
})

describe('the harness', () => {
  it('notices a response with a byte more than KafkaJS reads', async () => {
    const padded: ApiCodec<unknown, { throttleTimeMs: number; errorCode: number }> = {
      ...apis.Heartbeat,
      encodeResponse(w, v, res) {
        apis.Heartbeat.encodeResponse(w, v, res as never)
        w.int8(0)
      },
    }
    await expect(viaKafkaJS(padded, 1, { throttleTimeMs: 0, errorCode: 0 }, kafkajs('heartbeat', 1).response)).rejects.toThrow(/read 6 of 7 bytes/)
  })
})

describe('ApiVersions', () => {
  it.each(range(0, 2))('v%i: KafkaJS request decodes; our response decodes in KafkaJS', async (v) => {
    const { request, response } = kafkajs('apiVersions', v)
    expect(await decodeFromKafkaJS(request)).toEqual({ clientSoftwareName: null, clientSoftwareVersion: null })
    const decoded = await viaKafkaJS(apis.ApiVersions, v, { errorCode: 0, apiKeys: SUPPORTED_VERSIONS, throttleTimeMs: 3 }, response)
    expect(decoded.errorCode).toBe(0)
    expect(decoded.apiVersions).toEqual(SUPPORTED_VERSIONS)
    if (v >= 1) expect(throttle(decoded)).toBe(3)
  })

  it('v3 (librdkafka): request header v2 with tagged fields, flexible body; response keeps header v0', () => {
    // As librdkafka 2.0.2 sends it: header v1 fields, then an empty tag section (header v2), then
    // compact strings for the client software name and version and an empty tag section.
    const body = new Writer()
      .int16(18)
      .int16(3)
      .int32(1)
      .string('rdkafka')
      .emptyTaggedFields()
      .compactString('librdkafka')
      .compactString('2.0.2')
      .emptyTaggedFields()
      .toBuffer()
    const wire = Buffer.concat([Buffer.from([0, 0, 0, body.length]), body])
    const [frame] = new FrameDecoder().push(wire)
    const decoded = decodeRequest(frame)
    expect(decoded.header).toEqual({ apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'rdkafka', headerVersion: 2 })
    expect(decoded.request).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' })

    const w = new Writer()
    apis.ApiVersions.encodeResponse(w, 3, { errorCode: 0, apiKeys: SUPPORTED_VERSIONS.slice(0, 2), throttleTimeMs: 0 })
    // error 0, compact array of 2 (+1), each key/min/max and an empty tag section, throttle, tags.
    expect([...w.toBuffer()]).toEqual([0, 0, 3, 0, 0, 0, 3, 0, 7, 0, 0, 1, 0, 4, 0, 11, 0, 0, 0, 0, 0, 0])
  })

  it('an unsupported ApiVersions version is answered in the v0 shape with error 35', async () => {
    const w = new Writer()
    apis.ApiVersions.encodeResponse(w, 0, { errorCode: 35, apiKeys: SUPPORTED_VERSIONS, throttleTimeMs: 0 })
    const buf = w.toBuffer()
    const { encodeUnsupportedApiVersions } = await import('./api-versions.js')
    const w2 = new Writer()
    encodeUnsupportedApiVersions(w2, SUPPORTED_VERSIONS)
    expect(w2.toBuffer()).toEqual(buf)
    // KafkaJS's v0 decoder turns 35 into its "version not supported" error, as the real broker's answer.
    const { response } = kafkajs('apiVersions', 0)
    await expect(response.decode(buf)).rejects.toThrow(/version/i)
  })
})

describe('Metadata', () => {
  it.each(range(0, 4))('v%i', async (v) => {
    const { request, response } = kafkajs('metadata', v, { topics: ['a', 'b'], allowAutoTopicCreation: false })
    expect(await decodeFromKafkaJS(request)).toEqual({ topics: ['a', 'b'], allowAutoTopicCreation: v >= 4 ? false : true })

    const decoded = await viaKafkaJS(
      apis.Metadata,
      v,
      {
        throttleTimeMs: 5,
        brokers: [{ nodeId: 0, host: 'localhost', port: 9092, rack: null }],
        clusterId: 'samsa',
        controllerId: 0,
        topics: [
          {
            errorCode: 0,
            name: 'a',
            isInternal: false,
            partitions: [
              { errorCode: 0, partition: 0, leaderId: 0, replicaNodes: [0], isrNodes: [0] },
              { errorCode: 0, partition: 1, leaderId: 0, replicaNodes: [0], isrNodes: [0] },
            ],
          },
          { errorCode: 3, name: 'b', isInternal: false, partitions: [] },
        ],
      },
      response,
    )
    expect(decoded.brokers).toEqual([{ nodeId: 0, host: 'localhost', port: 9092, ...(v >= 1 ? { rack: null } : {}) }])
    if (v >= 1) expect(decoded.controllerId).toBe(0)
    if (v >= 2) expect(decoded.clusterId).toBe('samsa')
    if (v >= 3) expect(throttle(decoded)).toBe(5)
    expect(decoded.topicMetadata).toEqual([
      {
        topicErrorCode: 0,
        topic: 'a',
        ...(v >= 1 ? { isInternal: false } : {}),
        partitionMetadata: [
          { partitionErrorCode: 0, partitionId: 0, leader: 0, replicas: [0], isr: [0] },
          { partitionErrorCode: 0, partitionId: 1, leader: 0, replicas: [0], isr: [0] },
        ],
      },
      { topicErrorCode: 3, topic: 'b', ...(v >= 1 ? { isInternal: false } : {}), partitionMetadata: [] },
    ])
  })

  it('all topics: an empty list at v0, null from v1', async () => {
    expect(await decodeFromKafkaJS(kafkajs('metadata', 0, { topics: [] }).request)).toMatchObject({ topics: null })
    // KafkaJS always names its topics (its writeNullableArray(null) throws), so null is built here.
    const body = new Writer().int16(3).int16(4).int32(1).string('c').int32(-1).bool(true).toBuffer()
    const [frame] = new FrameDecoder().push(Buffer.concat([Buffer.from([0, 0, 0, body.length]), body]))
    expect(decodeRequest(frame).request).toEqual({ topics: null, allowAutoTopicCreation: true })
    // KafkaJS writes an empty list as -1: "all topics", as it means it.
    expect(await decodeFromKafkaJS(kafkajs('metadata', 1, { topics: [] }).request)).toMatchObject({ topics: null })
    const none = new Writer().int16(3).int16(1).int32(1).string('c').int32(0).toBuffer()
    const [noneFrame] = new FrameDecoder().push(Buffer.concat([Buffer.from([0, 0, 0, none.length]), none]))
    expect(decodeRequest(noneFrame).request).toEqual({ topics: [], allowAutoTopicCreation: true })
  })
})

describe('Produce', () => {
  const now = 1_700_000_000_000
  const messages = [
    { key: 'k1', value: 'v1', timestamp: now, headers: { h: 'x' } },
    { key: null, value: 'v2', timestamp: now + 1 },
  ]

  it.each(range(3, 7))('v%i: the RecordBatch arrives intact; the response decodes in KafkaJS', async (v) => {
    const { request, response } = kafkajs('produce', v, {
      acks: -1,
      timeout: 30000,
      compression: v === 7 ? 1 : 0, // gzip at v7
      producerId: Long.fromValue(1234),
      producerEpoch: 2,
      topicData: [{ topic: 'orders', partitions: [{ partition: 3, firstSequence: 10, messages }] }],
    })
    const decoded = await decodeFromKafkaJS(request)
    expect(decoded).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 30000 })
    expect(decoded.topics).toHaveLength(1)
    expect(decoded.topics[0].name).toBe('orders')
    expect(decoded.topics[0].partitions.map((p: { partition: number }) => p.partition)).toEqual([3])
    const batch = decoded.topics[0].partitions[0].records as Buffer
    const { header, records } = decodeBatch(batch, 0)
    expect(batch.length).toBe(header.size)
    expect(header).toMatchObject({ producerId: 1234, producerEpoch: 2, baseSequence: 10, lastOffsetDelta: 1 })
    expect(header.attributes & 7).toBe(v === 7 ? 1 : 0)
    expect(records.map((r) => [r.key?.toString() ?? null, r.value?.toString(), r.timestamp])).toEqual([
      ['k1', 'v1', now],
      [null, 'v2', now + 1],
    ])
    expect(records[0].headers).toEqual([{ key: 'h', value: Buffer.from('x') }])

    const res = await viaKafkaJS(
      apis.Produce,
      v,
      {
        topics: [{ name: 'orders', partitions: [{ partition: 3, errorCode: 0, baseOffset: 2 ** 40, logAppendTimeMs: -1, logStartOffset: 17 }] }],
        throttleTimeMs: 9,
      },
      response,
    )
    expect(throttle(res)).toBe(9)
    expect(res.topics).toEqual([
      {
        topicName: 'orders',
        partitions: [{ partition: 3, errorCode: 0, baseOffset: String(2 ** 40), logAppendTime: '-1', ...(v >= 5 ? { logStartOffset: '17' } : {}) }],
      },
    ])
  })

  it('the recorded produce_v3 and produce_v7 requests decode, with the same batches the fixture parser finds', async () => {
    const { fixtureBytes, loadProduceRequest } = await import('../../../../log/src/test-support/kafka-fixtures.js')
    for (const [name, version] of [
      ['produce_v3_request.json', 3],
      ['produce_v7_request.json', 7],
    ] as const) {
      const body = fixtureBytes(name)
      const header = new Writer().int16(0).int16(version).int32(1).string('fixture').toBuffer()
      const wire = Buffer.concat([Buffer.alloc(4), header, body])
      wire.writeInt32BE(wire.length - 4, 0)
      const [frame] = new FrameDecoder().push(wire)
      const decoded = decodeRequest(frame).request as ProduceRequest
      const expected = loadProduceRequest(name)
      expect(decoded.acks).toBe(expected.acks)
      expect(decoded.topics.map((t) => t.name)).toEqual(expected.topics.map((t) => t.topic))
      const ours = decoded.topics.flatMap((t) => t.partitions.map((p) => p.records as Buffer))
      const theirs = expected.topics.flatMap((t) => t.partitions.map((p) => p.records))
      expect(ours).toEqual(theirs)
      expect(ours.length).toBeGreaterThan(0)
      for (const records of ours) expect(decodeBatch(records, 0).records.length).toBeGreaterThan(0)
    }
  })
})

describe('Fetch', () => {
  it.each(range(4, 11))('v%i: KafkaJS request decodes', async (v) => {
    const { request } = kafkajs('fetch', v, {
      replicaId: -1,
      maxWaitTime: 5000,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      topics: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, fetchOffset: '42', maxBytes: 1048576 },
            { partition: 1, fetchOffset: String(2 ** 40), maxBytes: 1048576 },
          ],
        },
      ],
      rackId: 'r1',
    })
    const decoded = await decodeFromKafkaJS(request)
    expect(decoded).toMatchObject({ replicaId: -1, maxWaitMs: 5000, minBytes: 1, maxBytes: 10485760, isolationLevel: 1 })
    expect(decoded.topics).toEqual([
      {
        name: 'orders',
        partitions: [
          { partition: 0, currentLeaderEpoch: -1, fetchOffset: 42, logStartOffset: -1, maxBytes: 1048576 },
          { partition: 1, currentLeaderEpoch: -1, fetchOffset: 2 ** 40, logStartOffset: -1, maxBytes: 1048576 },
        ],
      },
    ])
    if (v >= 7) expect(decoded).toMatchObject({ sessionId: 0, sessionEpoch: -1, forgottenTopics: [] })
    if (v >= 11) expect(decoded.rackId).toBe('r1')
  })

  it.each(range(4, 11))('v%i: stored batches are served as they are and KafkaJS reads their records', async (v) => {
    const { response } = kafkajs('fetch', v, { topics: [] })
    const batches = fixtureBatches('fetch_v4_response.json')
    expect(batches.length).toBeGreaterThan(0)
    const decoded = await viaKafkaJS(
      apis.Fetch,
      v,
      {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: 0,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, errorCode: 0, highWatermark: 3, lastStableOffset: 3, logStartOffset: 0, abortedTransactions: [], preferredReadReplica: -1, records: batches },
              { partition: 1, errorCode: 1, highWatermark: 0, lastStableOffset: 0, logStartOffset: 0, abortedTransactions: [], preferredReadReplica: -1, records: [] },
            ],
          },
        ],
      },
      response,
    )
    if (v >= 7) expect(decoded).toMatchObject({ errorCode: 0, sessionId: 0 })
    expect(decoded.responses).toHaveLength(1)
    const [p0, p1] = decoded.responses[0].partitions
    expect(decoded.responses[0].topicName).toBe('orders')
    expect(p0).toMatchObject({ partition: 0, errorCode: 0, highWatermark: '3', lastStableOffset: '3', abortedTransactions: [] })
    if (v >= 5) expect(p0.lastStartOffset ?? p0.logStartOffset).toBe('0')
    if (v >= 11) expect(p0.preferredReadReplica).toBe(-1)
    expect(p0.messages.map((m: { offset: string; key: Buffer; value: Buffer }) => [m.offset, m.key.toString(), m.value.toString()])).toEqual([
      ['0', 'key-0', 'some-value-0'],
      ['1', 'key-1', 'some-value-1'],
      ['2', 'key-2', 'some-value-2'],
    ])
    expect(p1).toMatchObject({ partition: 1, errorCode: 1, messages: [] })
  })

  it('the recorded fetch_v4 and fetch_v11 requests decode', async () => {
    const { fixtureBytes } = await import('../../../../log/src/test-support/kafka-fixtures.js')
    for (const [name, version] of [
      ['fetch_v4_request.json', 4],
      ['fetch_v11_request.json', 11],
    ] as const) {
      const body = fixtureBytes(name)
      const header = new Writer().int16(1).int16(version).int32(1).string('fixture').toBuffer()
      const wire = Buffer.concat([Buffer.alloc(4), header, body])
      wire.writeInt32BE(wire.length - 4, 0)
      const [frame] = new FrameDecoder().push(wire)
      const decoded = decodeRequest(frame).request as FetchRequest
      expect(decoded.topics.length).toBeGreaterThan(0)
      for (const t of decoded.topics) {
        expect(t.name.length).toBeGreaterThan(0)
        for (const p of t.partitions) expect(p.fetchOffset).toBeGreaterThanOrEqual(0)
      }
      expect(decoded.maxWaitMs).toBeGreaterThanOrEqual(0)
    }
  })
})

describe('ListOffsets', () => {
  it.each(range(0, 2))('v%i', async (v) => {
    const { request, response } = kafkajs('listOffsets', v, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: -1 }, { partition: 1, timestamp: -2 }, { partition: 2, timestamp: 1509827900073 }] }],
    })
    const decoded = await decodeFromKafkaJS(request)
    expect(decoded).toEqual({
      replicaId: -1,
      isolationLevel: v >= 2 ? 1 : 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partition: 0, timestamp: -1, maxNumOffsets: 1 },
            { partition: 1, timestamp: -2, maxNumOffsets: 1 },
            { partition: 2, timestamp: 1509827900073, maxNumOffsets: 1 },
          ],
        },
      ],
    })
    const res = await viaKafkaJS(
      apis.ListOffsets,
      v,
      {
        throttleTimeMs: 4,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, errorCode: 0, timestamp: -1, offset: 100 },
              { partition: 1, errorCode: 3, timestamp: -1, offset: -1 },
            ],
          },
        ],
      },
      response,
    )
    if (v >= 2) expect(res.throttleTime).toBe(4)
    expect(res.responses).toEqual([
      {
        topic: 'orders',
        partitions:
          v === 0
            ? [
                { partition: 0, errorCode: 0, offsets: ['100'] },
                { partition: 1, errorCode: 3, offsets: [] },
              ]
            : [
                { partition: 0, errorCode: 0, timestamp: '-1', offset: '100' },
                { partition: 1, errorCode: 3, timestamp: '-1', offset: '-1' },
              ],
      },
    ])
  })
})

describe('FindCoordinator', () => {
  it.each(range(0, 2))('v%i', async (v) => {
    const { request, response } = kafkajs('findCoordinator', v, { groupId: 'g1', coordinatorType: 0 })
    expect(await decodeFromKafkaJS(request)).toEqual({ key: 'g1', keyType: 0 })
    const res = await viaKafkaJS(apis.FindCoordinator, v, { throttleTimeMs: 2, errorCode: 0, errorMessage: null, nodeId: 0, host: 'h', port: 9093 }, response)
    expect(res).toMatchObject({ errorCode: 0, coordinator: { nodeId: 0, host: 'h', port: 9093 } })
    if (v >= 1) expect(res).toMatchObject({ errorMessage: null })
    if (v >= 1) expect(throttle(res)).toBe(2)
  })
})

describe('JoinGroup', () => {
  it.each(range(0, 5))('v%i', async (v) => {
    const { request, response } = kafkajs('joinGroup', v, {
      groupId: 'g1',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: 'm-1',
      groupInstanceId: null,
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 2]) }],
    })
    expect(await decodeFromKafkaJS(request)).toEqual({
      groupId: 'g1',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: v >= 1 ? 60000 : 30000,
      memberId: 'm-1',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 2]) }],
    })
    const res = await viaKafkaJS(
      apis.JoinGroup,
      v,
      {
        throttleTimeMs: 1,
        errorCode: 0,
        generationId: 7,
        protocolName: 'RoundRobinAssigner',
        leader: 'm-1',
        memberId: 'm-1',
        members: [
          { memberId: 'm-1', groupInstanceId: null, metadata: Buffer.from([1]) },
          { memberId: 'm-2', groupInstanceId: null, metadata: Buffer.from([2, 2]) },
        ],
      },
      response,
    )
    expect(res).toMatchObject({ errorCode: 0, generationId: 7, groupProtocol: 'RoundRobinAssigner', leaderId: 'm-1', memberId: 'm-1' })
    expect(res.members.map((m: { memberId: string; memberMetadata: Buffer }) => [m.memberId, [...m.memberMetadata]])).toEqual([
      ['m-1', [1]],
      ['m-2', [2, 2]],
    ])
    if (v >= 2) expect(throttle(res)).toBe(1)
  })
})

describe('SyncGroup', () => {
  it.each(range(0, 3))('v%i', async (v) => {
    const { request, response } = kafkajs('syncGroup', v, {
      groupId: 'g1',
      generationId: 7,
      memberId: 'm-1',
      groupInstanceId: null,
      groupAssignment: [{ memberId: 'm-1', memberAssignment: Buffer.from([9, 8]) }],
    })
    expect(await decodeFromKafkaJS(request)).toEqual({
      groupId: 'g1',
      generationId: 7,
      memberId: 'm-1',
      groupInstanceId: null,
      assignments: [{ memberId: 'm-1', assignment: Buffer.from([9, 8]) }],
    })
    const res = await viaKafkaJS(apis.SyncGroup, v, { throttleTimeMs: 6, errorCode: 27, assignment: Buffer.from([5, 4, 3]) }, response)
    expect(res.errorCode).toBe(27)
    expect([...res.memberAssignment]).toEqual([5, 4, 3])
    if (v >= 1) expect(throttle(res)).toBe(6)
  })
})

describe('Heartbeat', () => {
  it.each(range(0, 3))('v%i', async (v) => {
    const { request, response } = kafkajs('heartbeat', v, { groupId: 'g1', groupGenerationId: 7, memberId: 'm-1', groupInstanceId: null })
    expect(await decodeFromKafkaJS(request)).toEqual({ groupId: 'g1', generationId: 7, memberId: 'm-1', groupInstanceId: null })
    const res = await viaKafkaJS(apis.Heartbeat, v, { throttleTimeMs: 8, errorCode: 0 }, response)
    expect(res.errorCode).toBe(0)
    if (v >= 1) expect(throttle(res)).toBe(8)
  })
})

describe('LeaveGroup', () => {
  it.each(range(0, 1))('v%i', async (v) => {
    const { request, response } = kafkajs('leaveGroup', v, { groupId: 'g1', memberId: 'm-1' })
    expect(await decodeFromKafkaJS(request)).toEqual({ groupId: 'g1', memberId: 'm-1' })
    const res = await viaKafkaJS(apis.LeaveGroup, v, { throttleTimeMs: 8, errorCode: 0 }, response)
    expect(res.errorCode).toBe(0)
    if (v >= 1) expect(throttle(res)).toBe(8)
  })
})

describe('OffsetCommit', () => {
  it.each(range(0, 5))('v%i', async (v) => {
    const { request, response } = kafkajs('offsetCommit', v, {
      groupId: 'g1',
      groupGenerationId: 7,
      memberId: 'm-1',
      retentionTime: -1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '42', timestamp: 1509827900073, metadata: 'meta' }, { partition: 1, offset: '0' }] }],
    })
    expect(await decodeFromKafkaJS(request)).toEqual({
      groupId: 'g1',
      generationId: v >= 1 ? 7 : -1,
      memberId: v >= 1 ? 'm-1' : '',
      retentionTimeMs: -1,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partition: 0, offset: 42, commitTimestamp: v === 1 ? 1509827900073 : -1, metadata: 'meta' },
            { partition: 1, offset: 0, commitTimestamp: v === 1 ? expect.any(Number) : -1, metadata: null },
          ],
        },
      ],
    })
    const res = await viaKafkaJS(
      apis.OffsetCommit,
      v,
      { throttleTimeMs: 3, topics: [{ name: 'orders', partitions: [{ partition: 0, errorCode: 0 }, { partition: 1, errorCode: 22 }] }] },
      response,
    )
    expect(res.responses).toEqual([
      {
        topic: 'orders',
        partitions: [
          { partition: 0, errorCode: 0 },
          { partition: 1, errorCode: 22 },
        ],
      },
    ])
    if (v >= 3) expect(throttle(res)).toBe(3)
  })
})

describe('OffsetFetch', () => {
  it.each(range(1, 4))('v%i', async (v) => {
    const { request, response } = kafkajs('offsetFetch', v, { groupId: 'g1', topics: [{ topic: 'orders', partitions: [{ partition: 0 }, { partition: 1 }] }] })
    expect(await decodeFromKafkaJS(request)).toEqual({ groupId: 'g1', topics: [{ name: 'orders', partitions: [0, 1] }] })
    const res = await viaKafkaJS(
      apis.OffsetFetch,
      v,
      {
        throttleTimeMs: 2,
        errorCode: 0,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, offset: 42, metadata: 'meta', errorCode: 0 },
              { partition: 1, offset: -1, metadata: null, errorCode: 0 },
            ],
          },
        ],
      },
      response,
    )
    expect(res.responses).toEqual([
      {
        topic: 'orders',
        partitions: [
          { partition: 0, offset: '42', metadata: 'meta', errorCode: 0 },
          { partition: 1, offset: '-1', metadata: null, errorCode: 0 },
        ],
      },
    ])
    if (v >= 2) expect(res.errorCode).toBe(0)
    if (v >= 3) expect(throttle(res)).toBe(2)
  })
})

describe('CreateTopics', () => {
  it.each(range(0, 3))('v%i', async (v) => {
    const { request, response } = kafkajs('createTopics', v, {
      topics: [
        { topic: 'a' },
        { topic: 'b', numPartitions: 4, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '1000' }], replicaAssignment: [{ partition: 0, replicas: [0] }] },
      ],
      validateOnly: true,
      timeout: 5000,
    })
    expect(await decodeFromKafkaJS(request)).toEqual({
      topics: [
        { name: 'a', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] },
        { name: 'b', numPartitions: 4, replicationFactor: 1, assignments: [{ partition: 0, brokerIds: [0] }], configs: [{ name: 'retention.ms', value: '1000' }] },
      ],
      timeoutMs: 5000,
      validateOnly: v >= 1,
    })
    const res = await viaKafkaJS(
      apis.CreateTopics,
      v,
      {
        throttleTimeMs: 1,
        topics: [
          { name: 'a', errorCode: 0, errorMessage: null },
          { name: 'b', errorCode: 36, errorMessage: 'exists' },
        ],
      },
      response,
    )
    expect(res.topicErrors).toEqual([
      { topic: 'a', errorCode: 0, ...(v >= 1 ? { errorMessage: null } : {}) },
      { topic: 'b', errorCode: 36, ...(v >= 1 ? { errorMessage: 'exists' } : {}) },
    ])
    if (v >= 2) expect(throttle(res)).toBe(1)
  })
})

describe('DeleteTopics', () => {
  it.each(range(0, 1))('v%i', async (v) => {
    const { request, response } = kafkajs('deleteTopics', v, { topics: ['a', 'b'], timeout: 5000 })
    expect(await decodeFromKafkaJS(request)).toEqual({ topics: ['a', 'b'], timeoutMs: 5000 })
    const res = await viaKafkaJS(
      apis.DeleteTopics,
      v,
      {
        throttleTimeMs: 1,
        topics: [
          { name: 'a', errorCode: 0 },
          { name: 'b', errorCode: 3 },
        ],
      },
      response,
    )
    expect(res.topicErrors).toEqual([
      { topic: 'a', errorCode: 0 },
      { topic: 'b', errorCode: 3 },
    ])
    if (v >= 1) expect(throttle(res)).toBe(1)
  })
})

describe('InitProducerId', () => {
  it.each(range(0, 1))('v%i', async (v) => {
    const { request, response } = kafkajs('initProducerId', v, { transactionalId: null, transactionTimeout: 30000 })
    expect(await decodeFromKafkaJS(request)).toEqual({ transactionalId: null, transactionTimeoutMs: 30000 })
    const res = await viaKafkaJS(apis.InitProducerId, v, { throttleTimeMs: 0, errorCode: 0, producerId: 2 ** 40 + 1, producerEpoch: 3 }, response)
    expect(res).toMatchObject({ errorCode: 0, producerId: String(2 ** 40 + 1), producerEpoch: 3 })
  })
})

describe('DescribeGroups', () => {
  it.each(range(0, 2))('v%i', async (v) => {
    const { request, response } = kafkajs('describeGroups', v, { groupIds: ['g1', 'g2'] })
    expect(await decodeFromKafkaJS(request)).toEqual({ groups: ['g1', 'g2'] })
    const res = await viaKafkaJS(
      apis.DescribeGroups,
      v,
      {
        throttleTimeMs: 1,
        groups: [
          {
            errorCode: 0,
            groupId: 'g1',
            state: 'Stable',
            protocolType: 'consumer',
            protocolData: 'RoundRobinAssigner',
            members: [{ memberId: 'm-1', clientId: 'c', clientHost: '/127.0.0.1', metadata: Buffer.from([1]), assignment: Buffer.from([2]) }],
          },
          { errorCode: 0, groupId: 'g2', state: 'Dead', protocolType: '', protocolData: '', members: [] },
        ],
      },
      response,
    )
    expect(res.groups).toHaveLength(2)
    expect(res.groups[0]).toMatchObject({ errorCode: 0, groupId: 'g1', state: 'Stable', protocolType: 'consumer', protocol: 'RoundRobinAssigner' })
    expect(res.groups[0].members).toHaveLength(1)
    expect(res.groups[0].members[0]).toMatchObject({ memberId: 'm-1', clientId: 'c', clientHost: '/127.0.0.1' })
    expect([...res.groups[0].members[0].memberMetadata, ...res.groups[0].members[0].memberAssignment]).toEqual([1, 2])
    expect(res.groups[1]).toMatchObject({ groupId: 'g2', state: 'Dead', members: [] })
    if (v >= 1) expect(throttle(res)).toBe(1)
  })
})

describe('ListGroups', () => {
  it.each(range(0, 2))('v%i', async (v) => {
    const { request, response } = kafkajs('listGroups', v)
    expect(await decodeFromKafkaJS(request)).toEqual({})
    const res = await viaKafkaJS(
      apis.ListGroups,
      v,
      {
        throttleTimeMs: 1,
        errorCode: 0,
        groups: [
          { groupId: 'g1', protocolType: 'consumer' },
          { groupId: 'g2', protocolType: 'consumer' },
        ],
      },
      response,
    )
    expect(res.errorCode).toBe(0)
    expect(res.groups).toEqual([
      { groupId: 'g1', protocolType: 'consumer' },
      { groupId: 'g2', protocolType: 'consumer' },
    ])
    if (v >= 1) expect(throttle(res)).toBe(1)
  })
})
