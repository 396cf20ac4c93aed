import assert from 'node:assert'
import { createRequire } from 'node:module'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { CorruptBatchError, InvalidArgumentError, RecordTooLargeError, SamsaError, UnsupportedCompressionError } from './errors.js'
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  checkBatch,
  CONTROL_MASK,
  CRC_OFFSET,
  decodeBatch,
  decodeRecords,
  encodeBatch,
  isControlBatch,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  MAGIC_OFFSET,
  readBatchHeader,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  setBaseOffset,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_MASK,
  validateBatch,
  readInt64,
  writeInt64,
  type BatchOptions,
  type Bytes,
  type HeadersInput,
  type LogRecord,
  type RecordInput,
  type SourcedRecord,
} from './record-batch.js'
import { fixtureBatches, fixtureBytes, loadFetchResponse, loadProduceRequest } from './test-support/kafka-fixtures.js'
import { writeVarint } from './varint.js'
import { prng } from './test-support/storage-fixtures.js'

// kafkajs 2.2.4 (CommonJS): its RecordBatch v0 encoder/decoder are the cross-check.
const require = createRequire(import.meta.url)
const { RecordBatch: KafkaRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0')
const KafkaRecord = require('kafkajs/src/protocol/recordBatch/record/v0')
const kafkaDecodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder')
const KafkaDecoder = require('kafkajs/src/protocol/decoder')
const { Types: KafkaCompression } = require('kafkajs/src/protocol/message/compression')
const kafkajsCrc32C: (buf: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C')
const kafkaFetchV4 = require('kafkajs/src/protocol/requests/fetch/v4/response')
const kafkaFetchV11 = require('kafkajs/src/protocol/requests/fetch/v11/response')
const { KafkaJSNotImplemented } = require('kafkajs/src/errors')

// ---------------------------------------------------------------------------------------------
// Helpers

type Rand = () => number

const int = (rand: Rand, n: number) => Math.floor(rand() * n)

function randomBytes(rand: Rand, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  let i = 0
  for (; i + 4 <= length; i += 4) buf.writeUInt32LE((rand() * 4294967296) >>> 0, i)
  for (; i < length; i++) buf[i] = int(rand, 256)
  return buf
}

// Valid code points only (no lone surrogates), from ASCII to astral: what UTF-8 round-trips.
const UNICODE_PIECES = ['a', 'Z', '0', '-', '_', ' ', 'é', 'ß', 'ж', 'λ', '中', '文', 'ヘ', '한', 'ع', 'ש', '🙂', '🚀', '𝄞', 'e\u0301', '\u00a0', '\u2028']

function randomUnicode(rand: Rand, maxPieces: number): string {
  let s = ''
  const n = int(rand, maxPieces + 1)
  for (let i = 0; i < n; i++) s += UNICODE_PIECES[int(rand, UNICODE_PIECES.length)]
  return s
}

/** A size from 0 B to 1 MiB, mostly small, as real payloads are. */
function randomSize(rand: Rand): number {
  const r = rand()
  if (r < 0.4) return int(rand, 17)
  if (r < 0.75) return int(rand, 300)
  if (r < 0.95) return int(rand, 20_000)
  return int(rand, 1024 * 1024 + 1)
}

/** Key or value: null, undefined, an empty Buffer, an empty string, a Buffer or a unicode string. */
function randomBytesInput(rand: Rand, allowUndefined: boolean): Bytes {
  const r = rand()
  if (r < 0.1) return null
  if (r < 0.15 && allowUndefined) return undefined
  if (r < 0.2) return Buffer.alloc(0)
  if (r < 0.25) return ''
  if (r < 0.4) return randomUnicode(rand, 12)
  return randomBytes(rand, randomSize(rand))
}

/** Headers as an array, with unicode keys, repeated keys, null and empty values. */
function randomHeaderArray(rand: Rand): { key: string; value: Bytes }[] {
  const n = int(rand, 5)
  const out: { key: string; value: Bytes }[] = []
  for (let i = 0; i < n; i++) {
    const key = rand() < 0.2 && out.length > 0 ? out[0].key : randomUnicode(rand, 6)
    const r = rand()
    const value: Bytes = r < 0.2 ? null : r < 0.3 ? '' : r < 0.6 ? randomUnicode(rand, 8) : randomBytes(rand, int(rand, 64))
    out.push({ key, value })
  }
  return out
}

/** Headers as an object map, as KafkaJS takes them: a key may map to an array of values. No nulls (KafkaJS cannot encode them). */
function randomHeaderMap(rand: Rand): Record<string, string | Buffer | (string | Buffer)[]> {
  const n = int(rand, 5)
  const out: Record<string, string | Buffer | (string | Buffer)[]> = {}
  const value = () => (rand() < 0.5 ? randomUnicode(rand, 8) : randomBytes(rand, int(rand, 64)))
  for (let i = 0; i < n; i++) {
    const key = randomUnicode(rand, 6)
    out[key] = rand() < 0.3 ? Array.from({ length: int(rand, 4) }, value) : value()
  }
  return out
}

interface GenOptions {
  /** Only what KafkaJS's encoder also accepts: object-map headers without nulls, no undefined keys or values. */
  kafkajsCompatible?: boolean
  baseTimestamp?: number
  /** Leave some records without a timestamp (the batch timestamp applies). */
  someWithoutTimestamp?: boolean
}

function randomRecords(rand: Rand, count: number, opts: GenOptions = {}): RecordInput[] {
  const base = opts.baseTimestamp ?? 1_700_000_000_000 + int(rand, 1e9)
  const records: RecordInput[] = []
  for (let i = 0; i < count; i++) {
    const rec: RecordInput = {
      key: randomBytesInput(rand, !opts.kafkajsCompatible),
      value: randomBytesInput(rand, !opts.kafkajsCompatible),
    }
    // Timestamps wander both ways around the first one: deltas are signed varlongs.
    if (!(opts.someWithoutTimestamp && rand() < 0.3)) rec.timestamp = base + (i === 0 ? 0 : int(rand, 2_000_000) - 1_000_000)
    const h = rand()
    if (opts.kafkajsCompatible) {
      if (h < 0.8) rec.headers = randomHeaderMap(rand)
    } else if (h < 0.4) rec.headers = randomHeaderArray(rand)
    else if (h < 0.8) rec.headers = randomHeaderMap(rand)
    records.push(rec)
  }
  return records
}

function toBuffer(b: Bytes): Buffer | null {
  if (b === null || b === undefined) return null
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : b
}

function flattenHeaders(h: HeadersInput | undefined): { key: string; value: Buffer | null }[] {
  if (h === undefined) return []
  if (Array.isArray(h)) return h.map((x) => ({ key: x.key, value: toBuffer(x.value) }))
  const out: { key: string; value: Buffer | null }[] = []
  for (const key of Object.keys(h)) {
    const v = (h as Record<string, Bytes | Bytes[]>)[key]
    if (Array.isArray(v)) for (const item of v) out.push({ key, value: toBuffer(item) })
    else out.push({ key, value: toBuffer(v as Bytes) })
  }
  return out
}

/** What decoding must give back for these inputs. */
function expectedRecords(inputs: RecordInput[], baseOffset: number, batchTimestamp: number, appendTime?: number): LogRecord[] {
  return inputs.map((r, i) => ({
    offset: baseOffset + i,
    timestamp: appendTime ?? r.timestamp ?? batchTimestamp,
    key: toBuffer(r.key),
    value: toBuffer(r.value),
    headers: flattenHeaders(r.headers),
  }))
}

/** Records with Buffers as base64 (null stays null), so deep equality is fast and tells '' from null. */
function plain(records: LogRecord[]) {
  const b = (x: Buffer | null) => (x === null ? null : 'b64:' + x.toString('base64'))
  return records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: b(r.key),
    value: b(r.value),
    headers: r.headers.map((h) => [h.key, b(h.value)]),
  }))
}

/** Headers folded into KafkaJS's decoded form: an object, a repeated key becoming an array. */
function asKafkaHeaderMap(headers: { key: string; value: Buffer | null }[]): Record<string, Buffer | null | (Buffer | null)[]> {
  const out: Record<string, Buffer | null | (Buffer | null)[]> = {}
  for (const { key, value } of headers) {
    const prev = out[key]
    out[key] = prev === undefined ? value : Array.isArray(prev) ? prev.concat([value]) : [prev, value]
  }
  return out
}

function kafkaPlain(records: Array<{ offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers: Record<string, unknown> }>) {
  const b = (x: unknown) => (x === null ? null : 'b64:' + (x as Buffer).toString('base64'))
  return records.map((r) => ({
    offset: Number(r.offset),
    timestamp: Number(r.timestamp),
    key: b(r.key),
    value: b(r.value),
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.map(b) : b(v)])),
  }))
}

function oursAsKafkaPlain(records: LogRecord[]) {
  return kafkaPlain(
    records.map((r) => ({
      offset: String(r.offset),
      timestamp: String(r.timestamp),
      key: r.key,
      value: r.value,
      headers: asKafkaHeaderMap(r.headers),
    })),
  )
}

interface KafkaBatchOptions {
  compression?: number
  baseOffset?: number
  partitionLeaderEpoch?: number
  producerId?: number
  producerEpoch?: number
  baseSequence?: number
  transactional?: boolean
}

/** A batch encoded by KafkaJS, the way its producer builds one (first record's timestamp as the base). */
async function kafkajsEncode(records: RecordInput[], opts: KafkaBatchOptions = {}): Promise<Buffer> {
  const first = records[0].timestamp as number
  const maxTimestamp = Math.max(...records.map((r) => r.timestamp as number))
  const encoded = records.map((r, i) =>
    KafkaRecord({
      offsetDelta: i,
      timestampDelta: (r.timestamp as number) - first,
      key: r.key,
      value: r.value,
      headers: r.headers,
    }),
  )
  const batch = await KafkaRecordBatch({
    compression: opts.compression ?? KafkaCompression.None,
    firstOffset: opts.baseOffset ?? 0,
    firstTimestamp: first,
    maxTimestamp,
    lastOffsetDelta: records.length - 1,
    partitionLeaderEpoch: opts.partitionLeaderEpoch,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    firstSequence: opts.baseSequence,
    transactional: opts.transactional ?? false,
    records: encoded,
  })
  return batch.buffer
}

async function kafkajsDecode(buf: Buffer) {
  return kafkaDecodeRecordBatch(new KafkaDecoder(buf))
}

/** Recompute the CRC after a deliberate edit, so the decoder itself (not the CRC) must catch it. */
function fixCrc(buf: Buffer, pos = 0): Buffer {
  const size = buf.readInt32BE(pos + LENGTH_OFFSET) + 12
  buf.writeUInt32BE(kafkajsCrc32C(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size)), pos + CRC_OFFSET)
  return buf
}

function expectCode(fn: () => unknown, errorClass: new (...args: never[]) => SamsaError, code: string, message?: RegExp): SamsaError {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  expect(thrown, 'expected a throw').toBeInstanceOf(errorClass)
  expect((thrown as SamsaError).code).toBe(code)
  if (message) expect((thrown as Error).message).toMatch(message)
  return thrown as SamsaError
}

const expectCorrupt = (fn: () => unknown, message?: RegExp) => expectCode(fn, CorruptBatchError, 'SAMSA_CORRUPT_BATCH', message)

/** Assert that a golden batch's stored CRC is the CRC-32C of bytes [21, end), by an independent implementation. */
function expectCrcValid(batch: Buffer): void {
  expect(checkBatch(batch, 0)).toBeNull()
  expect(batch.readUInt32BE(CRC_OFFSET)).toBe(kafkajsCrc32C(batch.subarray(ATTRIBUTES_OFFSET)))
}

const rec = (offset: number, timestamp: number, key: string | null, value: string | null, headers: [string, string | null][] = []) => ({
  offset,
  timestamp,
  key: key === null ? null : 'b64:' + Buffer.from(key).toString('base64'),
  value: value === null ? null : 'b64:' + Buffer.from(value).toString('base64'),
  headers: headers.map(([k, v]) => [k, v === null ? null : 'b64:' + Buffer.from(v).toString('base64')]),
})

function decodeAll(batches: Buffer[]): LogRecord[] {
  return batches.flatMap((b) => decodeBatch(b).records)
}

// ---------------------------------------------------------------------------------------------
// Golden vectors: bytes recorded from real Kafka brokers (KafkaJS's fixtures)

describe('golden vectors from real Kafka brokers', () => {
  // The expectations are those of KafkaJS's own response.spec.js for the same fixtures.
  const T_2017 = 1509827900073

  it('fetch v4: 3 records with headers, as KafkaJS expects them', () => {
    const res = loadFetchResponse('fetch_v4_response.json')
    expect(res.throttleTimeMs).toBe(0)
    expect(res.topics).toHaveLength(1)
    expect(res.topics[0].topic).toBe('test-topic-ab4d54774dcadc395a7f')
    const [p] = res.topics[0].partitions
    expect(p).toMatchObject({ partition: 0, errorCode: 0, highWatermark: 3, lastStableOffset: 3, abortedTransactions: [], partialTail: null })
    expect(p.logStartOffset).toBeUndefined()
    expect(p.batches).toHaveLength(1)
    const [batch] = p.batches
    expectCrcValid(batch)
    const { header, records } = decodeBatch(batch)
    expect(header).toMatchObject({
      baseOffset: 0,
      size: batch.length,
      magic: 2,
      attributes: 0,
      lastOffsetDelta: 2,
      lastOffset: 2,
      baseTimestamp: T_2017,
      maxTimestamp: T_2017,
      producerId: -1,
      producerEpoch: 0,
      baseSequence: 0,
      recordCount: 3,
    })
    expect(plain(records)).toEqual([0, 1, 2].map((i) => rec(i, T_2017, `key-${i}`, `some-value-${i}`, [[`header-key-${i}`, `header-value-${i}`]])))
  })

  it('fetch v4 gzip: two gzip batches written by a Kafka client decode with node zlib', () => {
    const res = loadFetchResponse('fetch_v4_response_gzip.json')
    expect(res.topics[0].topic).toBe('test-topic-43c95a3dc68dbf78a359')
    const [p] = res.topics[0].partitions
    expect(p).toMatchObject({ partition: 0, errorCode: 0, highWatermark: 6, lastStableOffset: 6, abortedTransactions: [], partialTail: null })
    // The fixtures README says "the same 3 records"; the bytes (and KafkaJS's spec) hold two gzip
    // batches of 3 records each and no headers: key-0..2, then key-1..3 at offsets 3..5.
    expect(p.batches).toHaveLength(2)
    for (const b of p.batches) {
      expect(b[ATTRIBUTES_OFFSET + 1] & 0x07).toBe(1)
      expectCrcValid(b)
    }
    expect(plain(decodeAll(p.batches))).toEqual([
      rec(0, T_2017, 'key-0', 'some-value-0'),
      rec(1, T_2017, 'key-1', 'some-value-1'),
      rec(2, T_2017, 'key-2', 'some-value-2'),
      rec(3, T_2017, 'key-1', 'some-value-1'),
      rec(4, T_2017, 'key-2', 'some-value-2'),
      rec(5, T_2017, 'key-3', 'some-value-3'),
    ])
  })

  it('fetch v4 from the Scala/Java producer: six one-record batches', () => {
    const res = loadFetchResponse('fetch_v4_from_scala_producer_response.json')
    expect(res.topics[0].topic).toBe('test-topic-bec28e95-0c2f-49d3-a230-2418dceac885')
    const [p] = res.topics[0].partitions
    expect(p).toMatchObject({ partition: 0, errorCode: 0, highWatermark: 6, lastStableOffset: 6, abortedTransactions: [], partialTail: null })
    expect(p.batches).toHaveLength(6)
    const stamps = [1539644731680, 1539644732194, 1539644732699, 1539644733203, 1539644733708, 1539644734213]
    p.batches.forEach((b, i) => {
      expectCrcValid(b)
      // The Java producer, not idempotent, leaves producerId/epoch/sequence at -1.
      expect(readBatchHeader(b)).toMatchObject({ baseOffset: i, producerId: -1, producerEpoch: -1, baseSequence: -1, recordCount: 1 })
    })
    expect(plain(decodeAll(p.batches))).toEqual(
      stamps.map((ts, i) => rec(i, ts, `KEY-${i + 1}`, `VALUE-Lorem ipsum dolor sit amet-${i + 1}`)),
    )
  })

  it('fetch v11: the v11 layout around the same 3 records', () => {
    const res = loadFetchResponse('fetch_v11_response.json')
    expect(res).toMatchObject({ version: 11, throttleTimeMs: 0, errorCode: 0, sessionId: 0 })
    expect(res.topics[0].topic).toBe('test-topic-2077b9d2b36c4082e594-4020-b5a52b27-56df-4b87-800d-82c1cf26317d')
    const [p] = res.topics[0].partitions
    expect(p).toMatchObject({
      partition: 0,
      errorCode: 0,
      highWatermark: 3,
      lastStableOffset: 3,
      logStartOffset: 0,
      abortedTransactions: [],
      preferredReadReplica: 0,
      partialTail: null,
    })
    expect(p.batches).toHaveLength(1)
    expectCrcValid(p.batches[0])
    expect(plain(decodeAll(p.batches))).toEqual(
      [0, 1, 2].map((i) => rec(i, T_2017, `key-${i}`, `some-value-${i}`, [[`header-key-${i}`, `header-value-${i}`]])),
    )
  })

  it('produce v3 request: a batch with baseSequence 10 and a header key repeated', () => {
    const req = loadProduceRequest('produce_v3_request.json')
    expect(req).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 30000 })
    expect(req.topics[0].topic).toBe('test-topic-ebba68879c6f5081d8c2')
    const [p] = req.topics[0].partitions
    expect(p.batches).toHaveLength(1)
    const [batch] = p.batches
    expectCrcValid(batch)
    const { header, records } = decodeBatch(batch)
    expect(header).toMatchObject({ producerId: -1, producerEpoch: 0, baseSequence: 10, recordCount: 3, lastOffsetDelta: 2 })
    const ts = 1509928155660
    expect(plain(records)).toEqual([
      rec(0, ts, 'key-9d0f348cb2e730e1edc4', 'some-value-a17b4c81f9ecd1e896e3', [['a', 'b'], ['c', 'd'], ['c', 'e']]),
      rec(1, ts, 'key-c7073e965c34b4cc6442', 'some-value-65df422070d7ad73914f', [['a', 'b']]),
      rec(2, ts, 'key-1693b184a9b52dbe03bc', 'some-value-3fcb65ffca087cba20ad', [['a', 'b']]),
    ])
  })

  it('produce v7 request: an idempotent batch (producerId 4004) of 10 records with 3 headers each', () => {
    const req = loadProduceRequest('produce_v7_request.json')
    expect(req).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 30000 })
    const [batch] = req.topics[0].partitions[0].batches
    expect(req.topics[0].partitions[0].batches).toHaveLength(1)
    expectCrcValid(batch)
    const { header, records } = decodeBatch(batch)
    expect(header).toMatchObject({ producerId: 4004, producerEpoch: 0, baseSequence: 0, recordCount: 10, lastOffsetDelta: 9 })
    expect(plain(records)).toEqual(
      Array.from({ length: 10 }, (_, i) =>
        rec(i, 1509928155660, `key-${i}`, `value-${i}`, [
          [`header-a${i}`, `header-value-a${i}`],
          [`header-b${i}`, `header-value-b${i}`],
          [`header-c${i}`, `header-value-c${i}`],
        ]),
      ),
    )
  })

  it('snappy: a clear SAMSA_UNSUPPORTED_COMPRESSION error naming the codec, not corruption', async () => {
    const res = loadFetchResponse('fetch_v4_response_snappy.json')
    expect(res.topics[0].topic).toBe('topic-test')
    const [withData, empty] = res.topics[0].partitions
    expect(withData).toMatchObject({ partition: 3, highWatermark: 1 })
    expect(empty).toMatchObject({ partition: 0, highWatermark: 0, batches: [] })
    const [batch] = withData.batches
    expect(batch[ATTRIBUTES_OFFSET + 1] & 0x07).toBe(2)
    // The batch itself is intact: only its codec is unsupported.
    expectCrcValid(batch)
    const err = expectCode(() => decodeBatch(batch), UnsupportedCompressionError, 'SAMSA_UNSUPPORTED_COMPRESSION', /snappy/)
    expect((err as UnsupportedCompressionError).codec).toBe('snappy')
    expect(err.retriable).toBe(false)
    // KafkaJS refuses it too.
    await expect(kafkaFetchV4.decode(fixtureBytes('fetch_v4_response_snappy.json'))).rejects.toThrow(KafkaJSNotImplemented)
  })

  it.each([
    ['fetch_v4_response.json', kafkaFetchV4],
    ['fetch_v4_response_gzip.json', kafkaFetchV4],
    ['fetch_v4_from_scala_producer_response.json', kafkaFetchV4],
    ['fetch_v11_response.json', kafkaFetchV11],
  ])('%s: our records equal what KafkaJS decodes from the same response', async (name, kafkaFetch) => {
    const theirs = await kafkaFetch.decode(fixtureBytes(name))
    const ours = loadFetchResponse(name)
    expect(ours.topics.map((t) => t.topic)).toEqual(theirs.responses.map((r: { topicName: string }) => r.topicName))
    const p = ours.topics[0].partitions[0]
    const tp = theirs.responses[0].partitions[0]
    expect(String(p.highWatermark)).toBe(tp.highWatermark)
    expect(String(p.lastStableOffset)).toBe(tp.lastStableOffset)
    if (p.logStartOffset !== undefined) expect(String(p.logStartOffset)).toBe(tp.lastStartOffset)
    expect(kafkaPlain(tp.messages)).toEqual(oursAsKafkaPlain(decodeAll(p.batches)))
  })

  it('batches written by Kafka clients re-encode to identical bytes with our encoder', () => {
    // Same inputs and header fields give the same bytes: proof the encoder is Kafka's format to the byte.
    const cases: Array<{ file: string; options: (h: ReturnType<typeof readBatchHeader>) => BatchOptions }> = [
      { file: 'fetch_v4_response.json', options: () => ({ partitionLeaderEpoch: 0, producerEpoch: 0, baseSequence: 0 }) },
      { file: 'fetch_v4_from_scala_producer_response.json', options: (h) => ({ baseOffset: h.baseOffset }) },
      { file: 'produce_v3_request.json', options: () => ({ producerEpoch: 0, baseSequence: 10 }) },
      { file: 'produce_v7_request.json', options: () => ({ producerId: 4004, producerEpoch: 0, baseSequence: 0 }) },
    ]
    let compared = 0
    for (const { file, options } of cases) {
      for (const batch of fixtureBatches(file)) {
        const { header, records } = decodeBatch(batch)
        const inputs: RecordInput[] = records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }))
        const ours = encodeBatch(inputs, { ...options(header), baseOffset: header.baseOffset })
        expect(ours.toString('hex'), file).toBe(batch.toString('hex'))
        compared++
      }
    }
    expect(compared).toBe(1 + 6 + 1 + 1)
  })

  it('produce v3: the KafkaJS inputs from its spec, given to our encoder as an object map, give the recorded bytes', () => {
    const ts = 1509928155660
    const ours = encodeBatch(
      [
        { key: 'key-9d0f348cb2e730e1edc4', value: 'some-value-a17b4c81f9ecd1e896e3', timestamp: ts, headers: { a: 'b', c: ['d', 'e'] } },
        { key: 'key-c7073e965c34b4cc6442', value: 'some-value-65df422070d7ad73914f', timestamp: ts, headers: { a: 'b' } },
        { key: 'key-1693b184a9b52dbe03bc', value: 'some-value-3fcb65ffca087cba20ad', timestamp: ts, headers: { a: 'b' } },
      ],
      { partitionLeaderEpoch: 0, producerEpoch: 0, baseSequence: 10 },
    )
    expect(ours.equals(fixtureBatches('produce_v3_request.json')[0])).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------
// Round trips

describe('round trips', () => {
  it('randomized batches (sizes 0 B to 1 MiB, null vs empty, unicode headers) decode to their inputs', () => {
    const rand = prng(20240601)
    let largest = 0
    for (let round = 0; round < 60; round++) {
      const count = 1 + int(rand, round % 10 === 0 ? 200 : 12)
      const inputs = randomRecords(rand, count, { someWithoutTimestamp: true })
      const batchTimestamp = 1_600_000_000_000 + int(rand, 1e9)
      const baseOffset = int(rand, 2 ** 40)
      const buf = encodeBatch(inputs, { baseOffset, timestamp: batchTimestamp })
      largest = Math.max(largest, buf.length)
      const { header, records } = decodeBatch(buf)
      const expected = expectedRecords(inputs, baseOffset, batchTimestamp)
      expect(plain(records)).toEqual(plain(expected))
      expect(header).toMatchObject({
        baseOffset,
        size: buf.length,
        magic: 2,
        attributes: 0,
        lastOffsetDelta: count - 1,
        lastOffset: baseOffset + count - 1,
        recordCount: count,
        baseTimestamp: expected[0].timestamp,
        maxTimestamp: Math.max(...expected.map((r) => r.timestamp)),
        producerId: -1,
        producerEpoch: -1,
        baseSequence: -1,
        partitionLeaderEpoch: 0,
      })
    }
    // The sizes really did reach the large end.
    expect(largest).toBeGreaterThan(512 * 1024)
  })

  it('payloads at every size boundary, up to exactly 1 MiB, keep their bytes and lengths', () => {
    const rand = prng(5)
    const sizes = [0, 1, 63, 64, 127, 128, 8191, 8192, 16383, 16384, 65535, 65536, 1024 * 1024 - 1, 1024 * 1024]
    for (const size of sizes) {
      const value = randomBytes(rand, size)
      const key = randomBytes(rand, size > 10_000 ? 10 : size)
      const buf = encodeBatch([{ key, value, timestamp: 1 }])
      const [r] = decodeBatch(buf).records
      expect(r.value?.length).toBe(size)
      expect(r.value?.equals(value)).toBe(true)
      expect(r.key?.equals(key)).toBe(true)
    }
  })

  it('tells an empty Buffer or empty string from null and from absent, for keys, values and header values', () => {
    const buf = encodeBatch(
      [
        { key: null, value: null },
        { key: Buffer.alloc(0), value: '' },
        { key: '', value: Buffer.alloc(0) },
        { key: undefined, value: undefined },
        {},
        { key: 'k', value: 'v', headers: [{ key: '', value: null }, { key: 'empty', value: '' }, { key: 'buf', value: Buffer.alloc(0) }, { key: 'u', value: undefined }] },
        { headers: { nil: null, empty: '', list: [null, '', 'x'] } },
      ],
      { timestamp: 42 },
    )
    const records = decodeBatch(buf).records
    expect(plain(records)).toEqual([
      rec(0, 42, null, null),
      rec(1, 42, '', ''),
      rec(2, 42, '', ''),
      rec(3, 42, null, null),
      rec(4, 42, null, null),
      rec(5, 42, 'k', 'v', [['', null], ['empty', ''], ['buf', ''], ['u', null]]),
      rec(6, 42, null, null, [['nil', null], ['empty', ''], ['list', null], ['list', ''], ['list', 'x']]),
    ])
    expect(records[1].key).toBeInstanceOf(Buffer)
    expect(records[1].key?.length).toBe(0)
  })

  it('keeps unicode header keys and string values exact', () => {
    const keys = ['ключ', '键', 'キー', '🔑', '𝄞 clef', 'e\u0301', 'ناقل', 'a'.repeat(300) + '🙂']
    const headers = keys.map((key, i) => ({ key, value: `${key}=${i}✓` }))
    const [r] = decodeBatch(encodeBatch([{ value: 'x', headers, timestamp: 0 }])).records
    expect(r.headers.map((h) => h.key)).toEqual(keys)
    expect(r.headers.map((h) => h.value?.toString('utf8'))).toEqual(headers.map((h) => h.value))
  })

  it('uses the batch timestamp for records without one, and the first record as baseTimestamp', () => {
    const buf = encodeBatch([{ value: 'a' }, { value: 'b', timestamp: 5_000 }, { value: 'c', timestamp: 100 }], { timestamp: 9_000 })
    const { header, records } = decodeBatch(buf)
    expect(records.map((r) => r.timestamp)).toEqual([9_000, 5_000, 100])
    expect(header.baseTimestamp).toBe(9_000)
    expect(header.maxTimestamp).toBe(9_000)
    // Negative deltas survive.
    const b2 = encodeBatch([{ value: 'a', timestamp: 1_000_000 }, { value: 'b', timestamp: 0 }])
    expect(decodeBatch(b2).records.map((r) => r.timestamp)).toEqual([1_000_000, 0])
    expect(readBatchHeader(b2).maxTimestamp).toBe(1_000_000)
  })

  it('keeps timestamps far apart (deltas beyond int32, up to the year 2100 and back to 1970)', () => {
    const stamps = [4_102_444_800_000, 0, 1_509_827_900_073, 2 ** 40, 4_102_444_800_000 - 1]
    const buf = encodeBatch(stamps.map((timestamp) => ({ value: 'v', timestamp })))
    const { header, records } = decodeBatch(buf)
    expect(records.map((r) => r.timestamp)).toEqual(stamps)
    expect(header.maxTimestamp).toBe(4_102_444_800_000)
  })

  it('append time: sets the timestamp-type bit and every record reads back with the batch maxTimestamp', async () => {
    const inputs = [{ value: 'a', timestamp: 10 }, { value: 'b', timestamp: 30 }, { value: 'c' }]
    const buf = encodeBatch(inputs, { timestampType: 'append', timestamp: 1_700_000_000_123 })
    const { header, records } = decodeBatch(buf)
    expect(header.attributes & TIMESTAMP_TYPE_MASK).toBe(TIMESTAMP_TYPE_MASK)
    expect(header.maxTimestamp).toBe(1_700_000_000_123)
    expect(records.map((r) => r.timestamp)).toEqual([1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_123])
    // Create time (the default) leaves the bit clear and keeps each record's own timestamp.
    const create = decodeBatch(encodeBatch(inputs, { timestampType: 'create', timestamp: 20 }))
    expect(create.header.attributes & TIMESTAMP_TYPE_MASK).toBe(0)
    expect(create.records.map((r) => r.timestamp)).toEqual([10, 30, 20])
    // KafkaJS reads the append-time batch the same way.
    const theirs = await kafkajsDecode(buf)
    expect(theirs.records.map((r: { timestamp: string }) => Number(r.timestamp))).toEqual([1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_123])
  })

  it('preserves partitionLeaderEpoch, producerId, producerEpoch and baseSequence', () => {
    const rand = prng(77)
    const cases: BatchOptions[] = [
      { partitionLeaderEpoch: 0, producerId: 0, producerEpoch: 0, baseSequence: 0 },
      { partitionLeaderEpoch: 2 ** 31 - 1, producerId: Number.MAX_SAFE_INTEGER, producerEpoch: 32767, baseSequence: 2 ** 31 - 1 },
      { partitionLeaderEpoch: -1, producerId: -1, producerEpoch: -1, baseSequence: -1 },
    ]
    for (let i = 0; i < 50; i++) {
      cases.push({
        partitionLeaderEpoch: int(rand, 2 ** 31),
        producerId: int(rand, 2 ** 53),
        producerEpoch: int(rand, 32768),
        baseSequence: int(rand, 2 ** 31),
      })
    }
    for (const o of cases) {
      const buf = encodeBatch([{ value: 'x', timestamp: 1 }, { value: 'y', timestamp: 2 }], o)
      expect(readBatchHeader(buf)).toMatchObject(o)
      expect(checkBatch(buf, 0)).toBeNull()
    }
  })

  it('preserves the transactional and control bits', async () => {
    for (const transactional of [false, true]) {
      for (const control of [false, true]) {
        const buf = encodeBatch([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]), timestamp: 7 }], {
          transactional,
          control,
          producerId: 1234,
          producerEpoch: 3,
          baseSequence: 0,
        })
        const { header, records } = decodeBatch(buf)
        expect((header.attributes & TRANSACTIONAL_MASK) !== 0).toBe(transactional)
        expect((header.attributes & CONTROL_MASK) !== 0).toBe(control)
        expect(isControlBatch(buf, 0)).toBe(control)
        expect(records).toHaveLength(1)
        const theirs = await kafkajsDecode(buf)
        expect(theirs.inTransaction).toBe(transactional)
        expect(theirs.isControlBatch).toBe(control)
        expect(theirs.producerId).toBe('1234')
        expect(theirs.producerEpoch).toBe(3)
      }
    }
  })

  it('setBaseOffset moves every offset and keeps the CRC valid', () => {
    const buf = encodeBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }], { timestamp: 1 })
    const crc = readBatchHeader(buf).crc
    setBaseOffset(buf, 0, 2 ** 50 + 3)
    expect(readBatchHeader(buf).crc).toBe(crc)
    expect(decodeBatch(buf).records.map((r) => r.offset)).toEqual([2 ** 50 + 3, 2 ** 50 + 4, 2 ** 50 + 5])
  })

  it('decodes a batch in the middle of a larger buffer, and decodeRecords honours minOffset and maxRecords', () => {
    const a = encodeBatch([{ value: 'a0' }, { value: 'a1' }], { baseOffset: 0, timestamp: 1 })
    const b = encodeBatch([{ value: 'b0' }, { value: 'b1' }, { value: 'b2' }], { baseOffset: 2, timestamp: 2 })
    const both = Buffer.concat([Buffer.from('junk'), a, b, Buffer.from('tail')])
    const posB = 4 + a.length
    expect(decodeBatch(both, posB).records.map((r) => r.value?.toString())).toEqual(['b0', 'b1', 'b2'])
    expect(decodeBatch(both, 4).records.map((r) => r.value?.toString())).toEqual(['a0', 'a1'])
    const out: LogRecord[] = []
    expect(decodeRecords(both, posB, out, 3)).toBe(2)
    expect(out.map((r) => r.offset)).toEqual([3, 4])
    const limited: LogRecord[] = []
    expect(decodeRecords(both, posB, limited, 0, 1)).toBe(1)
    expect(limited.map((r) => r.offset)).toEqual([2])
    expect(decodeRecords(both, 4, [], 2)).toBe(0) // the whole batch is below minOffset
  })

  it('hands out plain objects, equal to literals by every strict test, sourced or not', () => {
    const batch = encodeBatch([{ key: 'k', value: 'v', headers: { h: 'x' } }], { baseOffset: 7, timestamp: 5 })
    const plain: LogRecord[] = []
    const sourced: SourcedRecord[] = []
    decodeRecords(batch, 0, plain)
    decodeRecords(batch, 0, sourced, 0, Infinity, { topic: 't', partition: 2 })
    const header = { key: 'h', value: Buffer.from('x') }
    const expected = { offset: 7, timestamp: 5, key: Buffer.from('k'), value: Buffer.from('v'), headers: [header] }
    assert.deepStrictEqual(plain[0], expected)
    assert.deepStrictEqual(sourced[0], { topic: 't', partition: 2, ...expected })
    for (const o of [plain[0], sourced[0], plain[0].headers[0]]) {
      expect(Object.getPrototypeOf(o)).toBe(Object.prototype)
      expect(o.constructor).toBe(Object)
    }
    // Field order is part of what a caller sees (console.log, JSON, Object.keys).
    expect(Object.keys(plain[0])).toEqual(['offset', 'timestamp', 'key', 'value', 'headers'])
    expect(Object.keys(sourced[0])).toEqual(['topic', 'partition', 'offset', 'key', 'value', 'headers', 'timestamp'])
    expect(JSON.parse(JSON.stringify(sourced[0])).timestamp).toBe(5)
  })
})

// ---------------------------------------------------------------------------------------------
// Cross-checks against KafkaJS's own RecordBatch encoder and decoder

describe('kafkajs cross-checks', () => {
  it('batches KafkaJS encodes decode with ours to the same records', async () => {
    const rand = prng(0xca1f)
    for (let round = 0; round < 40; round++) {
      const count = 1 + int(rand, 15)
      const inputs = randomRecords(rand, count, { kafkajsCompatible: true })
      const baseOffset = int(rand, 2 ** 45)
      const buf = await kafkajsEncode(inputs, { baseOffset })
      const { header, records } = decodeBatch(buf)
      expect(plain(records)).toEqual(plain(expectedRecords(inputs, baseOffset, 0)))
      expect(header.recordCount).toBe(count)
    }
  })

  it('batches we encode decode with KafkaJS to the same records', async () => {
    const rand = prng(0xfeed)
    for (let round = 0; round < 40; round++) {
      const count = 1 + int(rand, 15)
      // Array headers with nulls and repeated keys are fine here: KafkaJS's decoder folds them into a map.
      const inputs = randomRecords(rand, count)
      const baseOffset = int(rand, 2 ** 45)
      const now = 1_650_000_000_000 + int(rand, 1e9)
      const buf = encodeBatch(inputs, { baseOffset, timestamp: now })
      const theirs = await kafkajsDecode(buf)
      expect(kafkaPlain(theirs.records)).toEqual(oursAsKafkaPlain(expectedRecords(inputs, baseOffset, now)))
      expect(theirs.firstOffset).toBe(String(baseOffset))
      expect(theirs.lastOffsetDelta).toBe(count - 1)
    }
  })

  it('equal inputs with fixed timestamps give identical bytes', async () => {
    const rand = prng(0x1dea)
    for (let round = 0; round < 60; round++) {
      const count = 1 + int(rand, 15)
      const inputs = randomRecords(rand, count, { kafkajsCompatible: true })
      const header: KafkaBatchOptions = {
        baseOffset: int(rand, 2 ** 45),
        partitionLeaderEpoch: round % 3 === 0 ? 0 : int(rand, 1000),
        producerId: round % 3 === 0 ? -1 : int(rand, 2 ** 40),
        producerEpoch: round % 3 === 0 ? 0 : int(rand, 32768),
        baseSequence: round % 3 === 0 ? 0 : int(rand, 2 ** 31),
        transactional: round % 4 === 1,
      }
      const theirs = await kafkajsEncode(inputs, header)
      const ours = encodeBatch(inputs, header)
      if (!ours.equals(theirs)) {
        expect(ours.toString('hex'), `round ${round}`).toBe(theirs.toString('hex'))
      }
    }
  })

  it("identical bytes with KafkaJS's header defaults (epoch 0, producerEpoch 0, firstSequence 0)", async () => {
    const inputs: RecordInput[] = [
      { key: 'k1', value: 'v1', timestamp: 1_509_928_155_660, headers: { h: 'x', multi: ['1', '2'] } },
      { key: null, value: Buffer.from([1, 2, 3]), timestamp: 1_509_928_155_661 },
      { key: Buffer.alloc(0), value: '', timestamp: 1_509_928_155_600 },
    ]
    const buf = encodeBatch(inputs, { partitionLeaderEpoch: 0, producerEpoch: 0, baseSequence: 0 })
    const kafka = (await KafkaRecordBatch({
      firstTimestamp: 1_509_928_155_660,
      maxTimestamp: 1_509_928_155_661,
      lastOffsetDelta: 2,
      records: inputs.map((r, i) => KafkaRecord({ offsetDelta: i, timestampDelta: (r.timestamp as number) - 1_509_928_155_660, key: r.key, value: r.value, headers: r.headers })),
    })).buffer
    expect(buf.toString('hex')).toBe(kafka.toString('hex'))
  })

  it('a gzip batch made by KafkaJS decodes with ours', async () => {
    const rand = prng(0x9219)
    for (let round = 0; round < 10; round++) {
      const inputs = randomRecords(rand, 1 + int(rand, 30), { kafkajsCompatible: true })
      const buf = await kafkajsEncode(inputs, { compression: KafkaCompression.GZIP, baseOffset: 100 })
      expect(buf[ATTRIBUTES_OFFSET + 1] & 0x07).toBe(1)
      expect(checkBatch(buf, 0)).toBeNull()
      const { records } = decodeBatch(buf)
      expect(plain(records)).toEqual(plain(expectedRecords(inputs, 100, 0)))
      // minOffset works inside a compressed batch too.
      const out: LogRecord[] = []
      decodeRecords(buf, 0, out, 101)
      expect(out.map((r) => r.offset)).toEqual(records.slice(1).map((r) => r.offset))
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Malformed input: a typed error, never a crash or a wrong decode

describe('malformed input', () => {
  const sample = () =>
    encodeBatch(
      [
        { key: 'k0', value: 'value-0', headers: [{ key: 'h', value: 'v' }], timestamp: 1000 },
        { key: null, value: Buffer.alloc(300, 7), timestamp: 1005 },
        { key: 'k2', value: null, headers: { a: ['1', '2'] }, timestamp: 990 },
      ],
      { baseOffset: 50, producerId: 9, producerEpoch: 1, baseSequence: 4 },
    )
  const goldenFetch = () => Buffer.from(fixtureBatches('fetch_v4_response.json')[0])
  const goldenGzip = () => Buffer.from(fixtureBatches('fetch_v4_response_gzip.json')[0])

  it('a batch truncated at any length is corrupt', () => {
    for (const full of [sample(), goldenFetch(), goldenGzip()]) {
      for (let len = 0; len < full.length; len++) {
        const cut = Buffer.from(full.subarray(0, len))
        expectCorrupt(() => decodeBatch(cut), /truncated/)
        expect(checkBatch(cut, 0)).toMatch(/truncated/)
      }
    }
  })

  it('a truncated batch after a good one in the same buffer is corrupt at its position', () => {
    const a = sample()
    const b = sample()
    const both = Buffer.concat([a, b.subarray(0, b.length - 1)])
    expect(decodeBatch(both, 0).records).toHaveLength(3)
    expectCorrupt(() => decodeBatch(both, a.length), /truncated/)
  })

  it('a wrong magic byte is corrupt', () => {
    for (const magic of [0, 1, 3, 0x7f, 0xff]) {
      const buf = sample()
      buf[MAGIC_OFFSET] = magic
      expectCorrupt(() => decodeBatch(buf), /magic/)
    }
  })

  it('a flipped CRC byte is corrupt', () => {
    for (let i = 0; i < 4; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const buf = sample()
        buf[CRC_OFFSET + i] ^= mask
        expectCorrupt(() => decodeBatch(buf), /CRC/)
      }
    }
  })

  it('a flipped byte anywhere the CRC covers (attributes to the last record byte) is corrupt', () => {
    for (const original of [sample(), goldenFetch(), goldenGzip()]) {
      for (let i = ATTRIBUTES_OFFSET; i < original.length; i++) {
        const buf = Buffer.from(original)
        buf[i] ^= 1 << (i % 8)
        expectCorrupt(() => decodeBatch(buf))
        expectCorrupt(() => validateBatch(buf))
      }
    }
  })

  it('a changed batchLength is corrupt, whichever way it moves', () => {
    const original = sample()
    const len = original.readInt32BE(LENGTH_OFFSET)
    for (const bad of [-1, 0, BATCH_HEADER_SIZE - 13, len - 1, len + 1, 2 ** 31 - 1, -(2 ** 31)]) {
      const buf = Buffer.concat([original, Buffer.alloc(8)]) // slack, so "longer" is not just "truncated"
      buf.writeInt32BE(bad, LENGTH_OFFSET)
      expectCorrupt(() => decodeBatch(buf))
    }
  })

  it('checkBatch enforces maxBatchBytes', () => {
    const buf = sample()
    expect(checkBatch(buf, 0, buf.length, buf.length)).toBeNull()
    expect(checkBatch(buf, 0, buf.length, buf.length - 1)).toMatch(/exceeds the limit/)
  })

  it('a record whose length runs past the batch is corrupt (CRC recomputed, so the decoder must see it)', () => {
    const buf = sample()
    // The first record's length varint is one byte at RECORDS_OFFSET; make it claim far more.
    expect(buf[RECORDS_OFFSET] & 0x80).toBe(0)
    const claim = Buffer.alloc(5)
    const claimEnd = writeVarint(claim, 0, 100_000)
    const big = Buffer.concat([buf.subarray(0, RECORDS_OFFSET), claim.subarray(0, claimEnd), buf.subarray(RECORDS_OFFSET + 1)])
    big.writeInt32BE(big.length - 12, LENGTH_OFFSET)
    fixCrc(big)
    expectCorrupt(() => decodeBatch(big), /malformed record/)
    // The last record claiming one byte more than is left.
    const last = sample()
    const lastStart = findRecordStarts(last)[2]
    last[lastStart] += 2 // zig-zag +1
    fixCrc(last)
    expectCorrupt(() => decodeBatch(last), /runs past the batch/)
  })

  it('a record whose fields do not add up to its length is corrupt', () => {
    const buf = sample()
    // First record: len, attrs, tsDelta, offsetDelta, keyLen ('k0' = 2 -> zig-zag 4). Claim a 3-byte key.
    const start = findRecordStarts(buf)[0]
    const keyLenAt = start + 4
    expect(buf[keyLenAt]).toBe(4)
    buf[keyLenAt] = 6
    fixCrc(buf)
    expectCorrupt(() => decodeBatch(buf), /malformed record/)
  })

  it('an offset delta beyond lastOffsetDelta is corrupt', () => {
    const buf = sample()
    const start = findRecordStarts(buf)[2]
    const offsetDeltaAt = start + 3 // after length, attributes and timestamp delta (-10), one byte each
    expect(buf[offsetDeltaAt]).toBe(4) // zig-zag 2
    buf[offsetDeltaAt] = 6 // 3 > lastOffsetDelta 2
    fixCrc(buf)
    expectCorrupt(() => decodeBatch(buf), /offset delta/)
  })

  it('a record count that does not fit lastOffsetDelta is corrupt', () => {
    for (const [count, lastOffsetDelta] of [
      [4, 2], // more records than offsets
      [-1, 2],
      [3, -1],
      [3, 1],
      [2 ** 31 - 1, 2],
    ]) {
      const buf = sample()
      buf.writeInt32BE(count, RECORDS_COUNT_OFFSET)
      buf.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET)
      fixCrc(buf)
      expectCorrupt(() => decodeBatch(buf), /record count/)
    }
  })

  it('a record count larger than the records present is corrupt', () => {
    const buf = sample()
    buf.writeInt32BE(5, RECORDS_COUNT_OFFSET)
    buf.writeInt32BE(4, LAST_OFFSET_DELTA_OFFSET) // consistent with the count, so only the records can tell
    fixCrc(buf)
    expectCorrupt(() => decodeBatch(buf), /malformed record/)
  })

  it('a record count smaller than the records present is corrupt, not a silent partial decode', () => {
    // Kafka rejects this too ("Incorrect declared batch size, records still remaining").
    for (const original of [sample(), goldenGzip()]) {
      const buf = Buffer.from(original)
      buf.writeInt32BE(2, RECORDS_COUNT_OFFSET)
      fixCrc(buf)
      expectCorrupt(() => decodeBatch(buf), /malformed record/)
    }
  })

  it('gzip records that do not decompress are corrupt', () => {
    const buf = goldenGzip()
    buf[RECORDS_OFFSET + 12] ^= 0xff
    fixCrc(buf)
    expectCorrupt(() => decodeBatch(buf), /gzip/)
    // Gzip of garbage that decompresses fine but is not records.
    const junk = Buffer.concat([buf.subarray(0, RECORDS_OFFSET), gzipSync(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))])
    junk.writeInt32BE(junk.length - 12, LENGTH_OFFSET)
    fixCrc(junk)
    expectCorrupt(() => decodeBatch(junk), /malformed record/)
  })

  it('unknown codecs 3 to 7 are unsupported, named in the message', () => {
    for (const [codec, name] of [
      [3, 'lz4'],
      [4, 'zstd'],
      [5, 'unknown codec 5'],
      [7, 'unknown codec 7'],
    ] as const) {
      const buf = sample()
      buf[ATTRIBUTES_OFFSET + 1] = (buf[ATTRIBUTES_OFFSET + 1] & ~0x07) | codec
      fixCrc(buf)
      expectCode(() => decodeBatch(buf), UnsupportedCompressionError, 'SAMSA_UNSUPPORTED_COMPRESSION', new RegExp(name))
    }
  })

  it('random byte damage with the CRC recomputed gives data or a typed error, never a crash or a hang', () => {
    const rand = prng(0xdead)
    const originals = [sample(), goldenFetch(), goldenGzip(), Buffer.from(fixtureBatches('produce_v7_request.json')[0])]
    let corrupt = 0
    let decoded = 0
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.from(originals[i % originals.length])
      const hits = 1 + int(rand, 3)
      for (let h = 0; h < hits; h++) buf[ATTRIBUTES_OFFSET + int(rand, buf.length - ATTRIBUTES_OFFSET)] = int(rand, 256)
      fixCrc(buf)
      try {
        const { header, records } = decodeBatch(buf)
        decoded++
        expect(records.length).toBeLessThanOrEqual(header.recordCount)
        for (const r of records) {
          expect(r.offset).toBeGreaterThanOrEqual(header.baseOffset)
          expect(r.offset).toBeLessThanOrEqual(header.lastOffset)
        }
      } catch (err) {
        if (!(err instanceof SamsaError)) throw err
        expect(['SAMSA_CORRUPT_BATCH', 'SAMSA_UNSUPPORTED_COMPRESSION']).toContain(err.code)
        if (err.code === 'SAMSA_CORRUPT_BATCH') corrupt++
      }
    }
    expect(corrupt).toBeGreaterThan(100)
    expect(decoded).toBeGreaterThan(100)
  })

  it('encodeBatch refuses a record over maxRecordBytes, and accepts one exactly at it', () => {
    const record = { key: 'key', value: Buffer.alloc(1000, 1), headers: [{ key: 'h', value: 'v' }], timestamp: 5 }
    const size = encodeBatch([record]).length - RECORDS_OFFSET
    expect(() => encodeBatch([record], { maxRecordBytes: size })).not.toThrow()
    const err = expectCode(() => encodeBatch([record], { maxRecordBytes: size - 1 }), RecordTooLargeError, 'SAMSA_RECORD_TOO_LARGE')
    expect((err as RecordTooLargeError).size).toBe(size)
    expect((err as RecordTooLargeError).limit).toBe(size - 1)
    // One big record among small ones is enough.
    expectCode(
      () => encodeBatch([{ value: 'a' }, { value: Buffer.alloc(1024 * 1024 + 1) }, { value: 'b' }], { maxRecordBytes: 1024 * 1024 }),
      RecordTooLargeError,
      'SAMSA_RECORD_TOO_LARGE',
    )
  })

  it('encodeBatch refuses an empty record list', () => {
    expectCode(() => encodeBatch([]), InvalidArgumentError, 'SAMSA_EMPTY_APPEND')
  })

  it('encodeBatch refuses keys, values and header values that are neither Buffer, string nor null', () => {
    const bad: unknown[] = [42, true, { a: 1 }, [1, 2], Symbol('s'), () => 1, 10n]
    for (const v of bad) {
      expectCode(() => encodeBatch([{ key: v as Bytes }]), InvalidArgumentError, 'SAMSA_INVALID_ARGUMENT')
      expectCode(() => encodeBatch([{ value: v as Bytes }]), InvalidArgumentError, 'SAMSA_INVALID_ARGUMENT')
      expectCode(() => encodeBatch([{ headers: [{ key: 'h', value: v as Bytes }] }]), InvalidArgumentError, 'SAMSA_INVALID_ARGUMENT')
      expectCode(() => encodeBatch([{ headers: { h: v as Bytes } }]), InvalidArgumentError, 'SAMSA_INVALID_ARGUMENT')
    }
    expectCode(() => encodeBatch([{ headers: [{ key: 7 as unknown as string, value: 'v' }] }]), InvalidArgumentError, 'SAMSA_INVALID_ARGUMENT')
    expectCode(() => encodeBatch([null as unknown as RecordInput]), InvalidArgumentError, 'SAMSA_INVALID_ARGUMENT')
    expectCode(() => encodeBatch(['text' as unknown as RecordInput]), InvalidArgumentError, 'SAMSA_INVALID_ARGUMENT')
    for (const ts of [Number.NaN, 1.5, Infinity, '1000' as unknown as number, 2 ** 60]) {
      expectCode(() => encodeBatch([{ value: 'v', timestamp: ts }]), InvalidArgumentError, 'SAMSA_INVALID_ARGUMENT')
      expectCode(() => encodeBatch([{ value: 'a' }, { value: 'v', timestamp: ts }]), InvalidArgumentError, 'SAMSA_INVALID_ARGUMENT')
      expectCode(() => encodeBatch([{ value: 'v' }], { timestamp: ts }), InvalidArgumentError, 'SAMSA_INVALID_ARGUMENT')
    }
  })

  it('encodeBatch writes strings as UTF-8, ASCII or not, short or long, in keys, values and headers', () => {
    const strings = ['', 'a', 'order-42', 'h\u00e9llo', '\u{1F600} smile', '\ud800 lone', 'x'.repeat(64), 'y'.repeat(65), '\u00e9'.repeat(40), 'z'.repeat(1000)]
    const batch = encodeBatch(strings.map((t) => ({ key: t, value: t, headers: { [t || 'empty']: t } })))
    const { records } = decodeBatch(batch)
    records.forEach((r, i) => {
      const bytes = Buffer.from(strings[i])
      expect(r.key).toEqual(bytes)
      expect(r.value).toEqual(bytes)
      expect(r.headers).toEqual([{ key: Buffer.from(strings[i] || 'empty').toString(), value: bytes }])
    })
  })

  it('decodes header keys as UTF-8 whatever keys came before: repeated, near misses, non-ASCII, invalid bytes', () => {
    const keys = ['content-type', 'content-typf', 'trace', 'content-type', 'tr\u00e9ce', 'trace', '', 'a'.repeat(64), 'a'.repeat(65)]
    for (let round = 0; round < 3; round++) {
      const { records } = decodeBatch(encodeBatch(keys.map((k) => ({ value: 'v', headers: [{ key: k, value: null }] }))))
      expect(records.map((r) => r.headers[0].key)).toEqual(keys)
    }
    // Bytes that are not UTF-8 decode as Buffer#toString decodes them, before and after the same
    // length of ASCII.
    const raw = encodeBatch([{ value: 'v', headers: [{ key: 'aaaa', value: null }] }])
    const at = raw.indexOf('aaaa')
    const bad = Buffer.from(raw)
    bad[at] = 0xff
    const decoded = (buf: Buffer) => {
      const out: LogRecord[] = []
      decodeRecords(buf, 0, out)
      return out[0].headers[0].key
    }
    expect(decoded(bad)).toBe(Buffer.from([0xff, 0x61, 0x61, 0x61]).toString())
    expect(decoded(raw)).toBe('aaaa')
    expect(decoded(bad)).toBe('\ufffdaaa')
    expect(decoded(raw)).toBe('aaaa')
  })

  it('encodeBatch never writes the headers of a batch that failed into the next one', () => {
    const withHeaders = { value: 'a', headers: { h: 'from the failed call' } }
    expectCode(() => encodeBatch([withHeaders, { value: 'b'.repeat(100) }], { maxRecordBytes: 60 }), RecordTooLargeError, 'SAMSA_RECORD_TOO_LARGE')
    const { records } = decodeBatch(encodeBatch([{ value: 'c' }, { value: 'd', headers: [{ key: 'k', value: 'v' }] }]))
    expect(records[0].headers).toEqual([])
    expect(records[1].headers).toEqual([{ key: 'k', value: Buffer.from('v') }])
  })

  it('encodeBatch mixes records with and without timestamps (null is none), and keys and values of every kind', () => {
    const now = 1_700_000_000_000
    const batch = encodeBatch(
      [
        { key: null, value: Buffer.from('a') },
        { key: 'k1', value: 'b', timestamp: now - 5000 },
        { key: Buffer.from('k2'), value: null, timestamp: null as unknown as number },
        { value: '', headers: { h: ['1', '2'] } },
        { key: '', value: Buffer.alloc(0), timestamp: now + 9_000_000_000 },
      ],
      { timestamp: now },
    )
    const { header, records } = decodeBatch(batch)
    expect(header.maxTimestamp).toBe(now + 9_000_000_000)
    expect(records.map((r) => r.timestamp)).toEqual([now, now - 5000, now, now, now + 9_000_000_000])
    expect(records.map((r) => (r.key === null ? null : r.key.toString()))).toEqual([null, 'k1', 'k2', null, ''])
    expect(records.map((r) => (r.value === null ? null : r.value.toString()))).toEqual(['a', 'b', null, '', ''])
    expect(records[3].headers.map((h) => [h.key, h.value?.toString()])).toEqual([['h', '1'], ['h', '2']])
  })
})

/** Byte positions where each record of an uncompressed batch starts (walking the length varints). */
function findRecordStarts(buf: Buffer): number[] {
  const starts: number[] = []
  let p = RECORDS_OFFSET
  const count = buf.readInt32BE(RECORDS_COUNT_OFFSET)
  for (let i = 0; i < count; i++) {
    starts.push(p)
    // Decode the zig-zag varint length by hand (these test records are short).
    let v = 0
    let shift = 0
    let b: number
    do {
      b = buf[p++]
      v |= (b & 0x7f) << shift
      shift += 7
    } while (b & 0x80)
    p += (v >>> 1) ^ -(v & 1)
  }
  expect(p).toBe(buf.length)
  return starts
}

describe('int64 fields', () => {
  it('writeInt64 writes what writeBigInt64BE writes, and readInt64 reads it back, for every safe integer tried', () => {
    const rand = prng(64)
    const edges = [0, 1, -1, 255, 256, -256, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 52, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]
    // `|| 0`: no -0, which is no int64.
    const randoms = Array.from({ length: 2000 }, () => Math.round((rand() * 2 - 1) * 2 ** Math.floor(rand() * 53)) || 0)
    const buf = Buffer.alloc(10, 0xaa)
    const expected = Buffer.alloc(10, 0xaa)
    for (const v of [...edges, ...randoms]) {
      writeInt64(buf, 1, v)
      expected.writeBigInt64BE(BigInt(v), 1)
      expect(buf.equals(expected), `value ${v}`).toBe(true)
      expect(readInt64(buf, 1)).toBe(v)
    }
  })
})
