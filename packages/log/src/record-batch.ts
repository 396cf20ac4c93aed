/**
 * Kafka RecordBatch v2 (magic 2), byte for byte, as DefaultRecordBatch.java lays it out.
 *
 *   baseOffset int64 @0 | batchLength int32 @8 | partitionLeaderEpoch int32 @12 | magic int8 @16
 *   crc uint32 @17 (CRC-32C of bytes [21, end)) | attributes int16 @21 | lastOffsetDelta int32 @23
 *   baseTimestamp int64 @27 | maxTimestamp int64 @35 | producerId int64 @43 | producerEpoch int16 @51
 *   baseSequence int32 @53 | recordsCount int32 @57 | records @61
 *
 * The CRC does not cover baseOffset, batchLength or partitionLeaderEpoch, so a stored batch can be
 * given its offset (and a client's batch stored as it came) by rewriting bytes 0-7 alone.
 *
 * The encoder sizes the batch first and then writes every field straight into one Buffer; the
 * decoder walks a Buffer in place and hands out key and value as views of it (no copies).
 */
import { gunzipSync } from 'node:zlib'
import { type ViewSource, viewOf, viewSource } from './buffer-view.js'
import { crc32c } from './crc32c.js'
import { CorruptBatchError, InvalidArgumentError, RecordTooLargeError, UnsupportedCompressionError } from './errors.js'
import {
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  VarintError,
  varintEnd,
  writeVarint,
  writeVarlong,
} from './varint.js'

export const MAGIC = 2
/** baseOffset + batchLength: the bytes in front of what batchLength counts. */
export const LOG_OVERHEAD = 12
export const BATCH_HEADER_SIZE = 61

export const BASE_OFFSET_OFFSET = 0
export const LENGTH_OFFSET = 8
export const PARTITION_LEADER_EPOCH_OFFSET = 12
export const MAGIC_OFFSET = 16
export const CRC_OFFSET = 17
export const ATTRIBUTES_OFFSET = 21
export const LAST_OFFSET_DELTA_OFFSET = 23
export const BASE_TIMESTAMP_OFFSET = 27
export const MAX_TIMESTAMP_OFFSET = 35
export const PRODUCER_ID_OFFSET = 43
export const PRODUCER_EPOCH_OFFSET = 51
export const BASE_SEQUENCE_OFFSET = 53
export const RECORDS_COUNT_OFFSET = 57
export const RECORDS_OFFSET = 61

export const COMPRESSION_MASK = 0x07
export const TIMESTAMP_TYPE_MASK = 0x08
export const TRANSACTIONAL_MASK = 0x10
export const CONTROL_MASK = 0x20

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const
const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

export type Bytes = Buffer | string | null | undefined

export interface Header {
  key: string
  value: Buffer | null
}

export type HeadersInput =
  | ReadonlyArray<{ key: string; value: Bytes }>
  | Readonly<Record<string, Bytes | ReadonlyArray<Bytes>>>

export interface RecordInput {
  key?: Bytes
  value?: Bytes
  headers?: HeadersInput
  /** Milliseconds since the epoch; defaults to the batch's timestamp (now). */
  timestamp?: number
}

export interface LogRecord {
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: Header[]
}

/** Where records come from, for a reader that hands them on tagged with it (a consumer). */
export interface RecordSource {
  topic: string
  partition: number
}

/** A LogRecord that also names its topic and partition, in one object. */
export interface SourcedRecord extends LogRecord, RecordSource {}

export interface BatchOptions {
  baseOffset?: number
  /** Timestamp for records that carry none; defaults to Date.now(). */
  timestamp?: number
  /** 'append' marks the batch LogAppendTime: every record reads back with the batch's maxTimestamp. */
  timestampType?: 'create' | 'append'
  partitionLeaderEpoch?: number
  producerId?: number
  producerEpoch?: number
  baseSequence?: number
  transactional?: boolean
  control?: boolean
  /** Largest encoded record allowed (key, value, headers and framing). */
  maxRecordBytes?: number
  /**
   * Where to encode: a Buffer of at least `size` bytes. The log passes a reused scratch buffer
   * when the batch is written before append returns, which keeps allocation (and touching fresh
   * memory) off the append path. Default: a new Buffer.
   */
  allocate?: (size: number) => Buffer
}

export interface BatchHeader {
  baseOffset: number
  /** Size of the whole batch in bytes, LOG_OVERHEAD included. */
  size: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  lastOffsetDelta: number
  lastOffset: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  recordCount: number
}

const NO_HEADERS: Header[] = Object.freeze([]) as unknown as Header[]

/*
 * Records are built by constructors, not object literals. V8 tracks where each literal is
 * allocated and, once most of a site's objects outlive a young collection (as a read's do: the
 * caller holds all of them until it has looked at each), it "pretenures" the site: every object it
 * makes from then on is born in the old generation. For a reader that drops its records soon after,
 * that turns cheap young garbage into old garbage, a write barrier per key and value view stored into
 * an old object, and major collections: consumer.poll ran at half speed in long-lived processes
 * once that happened. `new` with a plain constructor has no such site, so records are always young.
 * Their prototype is Object.prototype, so a record is the same plain object a literal would be
 * (assert.deepStrictEqual against a literal still holds).
 *
 * A timestamp is a double (milliseconds since the epoch pass 2^31), and V8 gives each object its
 * own box for a field it holds doubles in: one more allocation per decoded record, and one more
 * object for the scavenger to copy while the caller holds the records (6-16% of a read here).
 * Most records of a batch share its base timestamp (a producer stamps the batch), so the decoder
 * hands them one boxed number. For V8 to store that box as it is, the field must hold "any value"
 * rather than "doubles": one record of each kind built below with a timestamp that is not a number
 * makes it so. The offset is primed the same way, so that an offset past 2^31 does not turn it into
 * a boxed double for every record after. Nothing else changes: `timestamp` and `offset` are
 * numbers on every record handed out.
 */
interface PlainRecordConstructor {
  new (offset: unknown, timestamp: unknown, key: Buffer | null, value: Buffer | null, headers: Header[]): LogRecord
}
interface SourcedRecordConstructor {
  new (
    topic: string,
    partition: number,
    offset: unknown,
    key: Buffer | null,
    value: Buffer | null,
    headers: Header[],
    timestamp: unknown,
  ): SourcedRecord
}

const PlainRecord = function (this: LogRecord, offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: Header[]) {
  this.offset = offset
  this.timestamp = timestamp
  this.key = key
  this.value = value
  this.headers = headers
} as unknown as PlainRecordConstructor
PlainRecord.prototype = Object.prototype

// The field order is the consumer's message order (topic and partition first), as before.
const SourcedRecordOf = function (
  this: SourcedRecord,
  topic: string,
  partition: number,
  offset: number,
  key: Buffer | null,
  value: Buffer | null,
  headers: Header[],
  timestamp: number,
) {
  this.topic = topic
  this.partition = partition
  this.offset = offset
  this.key = key
  this.value = value
  this.headers = headers
  this.timestamp = timestamp
} as unknown as SourcedRecordConstructor
SourcedRecordOf.prototype = Object.prototype

// A decoded header, held as long as its record: built the same way, for the same reason.
const HeaderOf = function (this: Header, key: string, value: Buffer | null) {
  this.key = key
  this.value = value
} as unknown as new (key: string, value: Buffer | null) => Header
HeaderOf.prototype = Object.prototype

/**
 * Held for the life of the process (exported so that V8 keeps the binding: an unexported one
 * that no function reads dies with the module's first evaluation). V8 keeps the map of a record
 * shape only while some object has it (its transition from the constructor's map is weak), so
 * primers left as garbage lose their "any value" fields at the first full collection, and the next
 * record built makes the fields "doubles" again: a box of its own for every timestamp and offset.
 * @internal
 */
export const RECORD_PRIMERS = [new PlainRecord(null, null, null, null, NO_HEADERS), new SourcedRecordOf('', 0, null, null, null, NO_HEADERS, null)]

// A dictionary-mode object (Object.create(null) makes one): the optimizer cannot follow a value
// through its properties, so what boxed() returns stays the one box. Through an ordinary object
// it would forward the unboxed double, and box it again at each record's store.
const timestampBox: { ts?: unknown } = Object.create(null)

/** `ts` as a boxed number, so that records given it share the box (see above). */
function boxed(ts: number): number {
  timestampBox.ts = ts
  return timestampBox.ts as number
}
const TWO_32 = 4294967296

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4)
}

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  // Byte stores: Buffer's writeInt32BE checks its arguments on every call, and the header of a
  // single-record batch takes five of these.
  const hi = Math.floor(value / TWO_32)
  const lo = value - hi * TWO_32
  buf[pos] = hi >> 24
  buf[pos + 1] = hi >> 16
  buf[pos + 2] = hi >> 8
  buf[pos + 3] = hi
  buf[pos + 4] = lo / 0x1000000
  buf[pos + 5] = lo >>> 16
  buf[pos + 6] = lo >>> 8
  buf[pos + 7] = lo
}

export function compressionName(attributes: number): string {
  return CODEC_NAMES[attributes & COMPRESSION_MASK] ?? `unknown codec ${attributes & COMPRESSION_MASK}`
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Headers as a flat list; an object map may give an array of values for one key, as KafkaJS allows. */
function headerList(headers: HeadersInput | undefined): ReadonlyArray<{ key: string; value: Bytes }> {
  if (headers === undefined || headers === null) return NO_HEADERS
  if (Array.isArray(headers)) return headers as ReadonlyArray<{ key: string; value: Bytes }>
  const list: { key: string; value: Bytes }[] = []
  for (const key of Object.keys(headers)) {
    const v = (headers as Record<string, Bytes | ReadonlyArray<Bytes>>)[key]
    if (Array.isArray(v)) for (const item of v) list.push({ key, value: item })
    else list.push({ key, value: v as Bytes })
  }
  return list
}

function byteLength(b: Bytes): number {
  if (b === null || b === undefined) return -1
  if (typeof b === 'string') return Buffer.byteLength(b)
  if (b instanceof Uint8Array) return b.length
  throw new InvalidArgumentError(
    `record keys, values and header values must be a Buffer, a string or null, got ${typeof b}`,
  )
}

function writeBytes(buf: Buffer, pos: number, b: Bytes, len: number): number {
  pos = writeVarint(buf, pos, len)
  if (len > 0) {
    if (typeof b === 'string') writeString(buf, pos, b, len)
    else buf.set(b as Uint8Array, pos)
    pos += len
  }
  return pos
}

/**
 * Write `s`, whose UTF-8 takes `len` bytes, at `pos`. A string whose UTF-8 is as long as the string
 * is ASCII, and a short one is copied byte by byte: `Buffer#write` is a call into C++ that costs
 * ~200 ns here, three times the loop for a typical key or header.
 */
function writeString(buf: Buffer, pos: number, s: string, len: number): void {
  if (len === s.length && len <= 64) {
    for (let i = 0; i < len; i++) buf[pos + i] = s.charCodeAt(i)
  } else {
    buf.write(s, pos, len, 'utf8')
  }
}

/**
 * Sizes are computed once and kept here between the sizing pass and the writing pass, so the
 * strings' UTF-8 lengths are not measured twice. Reused across calls: the encoder is synchronous.
 */
let scratchSizes = new Int32Array(1024)

/**
 * Each record's header list from the sizing pass, for the writing pass (an object map is listed
 * once). The writing pass empties it; a call that threw in the sizing pass leaves `headersLeft`
 * set, and the next call starts by dropping what it left.
 */
const scratchHeaders: (ReadonlyArray<{ key: string; value: Bytes }> | undefined)[] = []
let headersLeft = false

/**
 * Encode records as one RecordBatch v2. Offset deltas are 0..n-1; timestamps are deltas from the
 * first record's timestamp, as the Java producer and KafkaJS write them.
 */
export function encodeBatch(records: ReadonlyArray<RecordInput>, options: BatchOptions = {}): Buffer {
  const count = records.length
  if (count === 0) throw new InvalidArgumentError('a batch needs at least one record', 'SAMSA_EMPTY_APPEND')
  const now = options.timestamp ?? Date.now()
  if (typeof now !== 'number' || !Number.isSafeInteger(now)) {
    throw new InvalidArgumentError(`timestamp ${String(now)} is not a time; use milliseconds since the epoch`)
  }
  const maxRecordBytes = options.maxRecordBytes ?? Infinity

  // Pass 1: sizes. Per record: key length, value length, body size; headers are sized inline.
  if (headersLeft) {
    scratchHeaders.length = 0
    headersLeft = false
  }
  if (scratchSizes.length < count * 3) scratchSizes = new Int32Array(count * 3 * 2)
  const sizes = scratchSizes
  // Optional chaining: a null first record must reach the per-record check below, not crash here.
  const baseTimestamp = (records[0] as RecordInput | null)?.timestamp ?? now
  // The timestamp delta of a record without a timestamp of its own.
  const nowDelta = now - baseTimestamp
  let maxTimestamp = -Infinity
  let total = RECORDS_OFFSET
  // Whether some record has a timestamp or headers of its own: pass 2 looks at them only then.
  let timestamps = false
  let headers = false
  for (let i = 0; i < count; i++) {
    const r = records[i]
    if (r === null || typeof r !== 'object') throw new InvalidArgumentError(`record ${i} is not an object`)
    const ts = r.timestamp
    let delta = nowDelta
    if (ts === undefined || ts === null) {
      if (now > maxTimestamp) maxTimestamp = now
    } else {
      if (typeof ts !== 'number' || !Number.isSafeInteger(ts)) {
        throw new InvalidArgumentError(`record ${i} has timestamp ${String(ts)}; use milliseconds since the epoch`)
      }
      if (ts > maxTimestamp) maxTimestamp = ts
      delta = ts - baseTimestamp
      timestamps = true
    }
    const key = r.key
    const value = r.value
    // Buffers first: the common case, and instanceof is the costly test.
    const keyLen = key === null || key === undefined ? -1 : key instanceof Uint8Array ? key.length : byteLength(key)
    const valueLen = value instanceof Uint8Array ? value.length : value === null || value === undefined ? -1 : byteLength(value)
    let body =
      1 +
      sizeOfVarlong(delta) +
      sizeOfVarint(i) +
      sizeOfVarint(keyLen) +
      (keyLen > 0 ? keyLen : 0) +
      sizeOfVarint(valueLen) +
      (valueLen > 0 ? valueLen : 0)
    if (r.headers !== undefined && r.headers !== null) {
      headers = true
      headersLeft = true
      const hs = headerList(r.headers)
      scratchHeaders[i] = hs
      body += sizeOfVarint(hs.length)
      for (let h = 0; h < hs.length; h++) {
        const hk = hs[h].key
        if (typeof hk !== 'string') throw new InvalidArgumentError(`record ${i} has a header whose key is not a string`)
        const kl = Buffer.byteLength(hk)
        const vl = byteLength(hs[h].value)
        body += sizeOfVarint(kl) + kl + sizeOfVarint(vl) + (vl > 0 ? vl : 0)
      }
    } else {
      body += 1
    }
    const recordSize = sizeOfVarint(body) + body
    if (recordSize > maxRecordBytes) throw new RecordTooLargeError(recordSize, maxRecordBytes)
    sizes[i * 3] = keyLen
    sizes[i * 3 + 1] = valueLen
    sizes[i * 3 + 2] = body
    total += recordSize
  }
  if (total > 0x7fffffff) throw new RecordTooLargeError(total, 0x7fffffff, 'batch')

  const buf = options.allocate === undefined ? Buffer.allocUnsafe(total) : options.allocate(total).subarray(0, total)
  // Pass 2: records.
  let pos = RECORDS_OFFSET
  for (let i = 0; i < count; i++) {
    const r = records[i]
    pos = writeVarint(buf, pos, sizes[i * 3 + 2])
    buf[pos++] = 0 // record attributes: unused in v2
    pos = writeVarlong(buf, pos, timestamps ? (r.timestamp ?? now) - baseTimestamp : nowDelta)
    pos = writeVarint(buf, pos, i)
    // Key and value written in line (writeBytes, shared with the headers' mixed types, stays out of
    // line, and the call costs more than the write). Zig-zag -1, for null, is 1.
    const keyLen = sizes[i * 3]
    if (keyLen < 0) {
      buf[pos++] = 1
    } else {
      pos = writeVarint(buf, pos, keyLen)
      const key = r.key
      if (typeof key === 'string') writeString(buf, pos, key, keyLen)
      else buf.set(key as Uint8Array, pos)
      pos += keyLen
    }
    const valueLen = sizes[i * 3 + 1]
    if (valueLen < 0) {
      buf[pos++] = 1
    } else {
      pos = writeVarint(buf, pos, valueLen)
      const value = r.value
      if (typeof value === 'string') writeString(buf, pos, value, valueLen)
      else buf.set(value as Uint8Array, pos)
      pos += valueLen
    }
    const hs = headers ? scratchHeaders[i] : undefined
    if (hs !== undefined) {
      scratchHeaders[i] = undefined // hold no caller's objects past this call
      pos = writeVarint(buf, pos, hs.length)
      for (let h = 0; h < hs.length; h++) {
        const hk = hs[h].key
        pos = writeBytes(buf, pos, hk, Buffer.byteLength(hk))
        pos = writeBytes(buf, pos, hs[h].value, byteLength(hs[h].value))
      }
    } else {
      buf[pos++] = 0
    }
  }

  headersLeft = false

  let attributes = 0
  if (options.timestampType === 'append') {
    attributes |= TIMESTAMP_TYPE_MASK
    maxTimestamp = now
  }
  if (options.transactional) attributes |= TRANSACTIONAL_MASK
  if (options.control) attributes |= CONTROL_MASK
  // Byte stores (writeInt32 below), not Buffer's checked writers: a single-record batch is mostly
  // header, and the checks cost more than the stores.
  writeInt64(buf, BASE_OFFSET_OFFSET, options.baseOffset ?? 0)
  writeInt32(buf, LENGTH_OFFSET, total - LOG_OVERHEAD)
  writeInt32(buf, PARTITION_LEADER_EPOCH_OFFSET, options.partitionLeaderEpoch ?? 0)
  buf[MAGIC_OFFSET] = MAGIC
  writeInt16(buf, ATTRIBUTES_OFFSET, attributes)
  writeInt32(buf, LAST_OFFSET_DELTA_OFFSET, count - 1)
  writeInt64(buf, BASE_TIMESTAMP_OFFSET, baseTimestamp)
  writeInt64(buf, MAX_TIMESTAMP_OFFSET, maxTimestamp)
  writeInt64(buf, PRODUCER_ID_OFFSET, options.producerId ?? -1)
  writeInt16(buf, PRODUCER_EPOCH_OFFSET, options.producerEpoch ?? -1)
  writeInt32(buf, BASE_SEQUENCE_OFFSET, options.baseSequence ?? -1)
  writeInt32(buf, RECORDS_COUNT_OFFSET, count)
  writeInt32(buf, CRC_OFFSET, crc32c(buf, ATTRIBUTES_OFFSET, total))
  return buf
}

/** Big-endian 32 bits of `value` (signed or unsigned: the same bytes). */
function writeInt32(buf: Buffer, pos: number, value: number): void {
  buf[pos] = value >>> 24
  buf[pos + 1] = value >>> 16
  buf[pos + 2] = value >>> 8
  buf[pos + 3] = value
}

function writeInt16(buf: Buffer, pos: number, value: number): void {
  buf[pos] = value >>> 8
  buf[pos + 1] = value
}

/** Give a stored batch its offset. The CRC does not cover these bytes, so it stays valid. */
export function setBaseOffset(buf: Buffer, pos: number, baseOffset: number): void {
  writeInt64(buf, pos + BASE_OFFSET_OFFSET, baseOffset)
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** The batch's size from its first 12 bytes, or -1 if fewer than 12 bytes are there. */
export function batchSizeAt(buf: Buffer, pos: number, end = buf.length): number {
  if (end - pos < LOG_OVERHEAD) return -1
  return buf.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD
}

export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  const baseOffset = readInt64(buf, pos)
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)
  return {
    baseOffset,
    size: buf.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta,
    lastOffset: baseOffset + lastOffsetDelta,
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(pos + RECORDS_COUNT_OFFSET),
  }
}

/**
 * Why the batch at `pos` is not a valid RecordBatch v2, or null if it is: complete within `end`,
 * sized within `maxBatchBytes`, magic 2, a record count that fits, and a matching CRC-32C.
 */
export function checkBatch(buf: Buffer, pos: number, end = buf.length, maxBatchBytes = 0x7fffffff): string | null {
  if (end - pos < BATCH_HEADER_SIZE) return `truncated batch: ${end - pos} bytes where a header needs ${BATCH_HEADER_SIZE}`
  const size = buf.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD
  if (size < BATCH_HEADER_SIZE) return `batch length ${size - LOG_OVERHEAD} is smaller than a batch header`
  if (size > maxBatchBytes) return `batch length ${size - LOG_OVERHEAD} exceeds the limit of ${maxBatchBytes} bytes`
  if (size > end - pos) return `truncated batch: ${end - pos} of ${size} bytes present`
  const magic = buf[pos + MAGIC_OFFSET]
  if (magic !== MAGIC) return `magic byte is ${magic}, expected ${MAGIC} (only RecordBatch v2 is supported)`
  const count = buf.readInt32BE(pos + RECORDS_COUNT_OFFSET)
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)
  if (count < 0 || lastOffsetDelta < 0 || (count > 0 && lastOffsetDelta < count - 1)) {
    return `record count ${count} does not fit lastOffsetDelta ${lastOffsetDelta}`
  }
  const stored = buf.readUInt32BE(pos + CRC_OFFSET)
  const actual = crc32c(buf, pos + ATTRIBUTES_OFFSET, pos + size)
  if (stored !== actual) return `CRC-32C mismatch: stored ${hex32(stored)}, computed ${hex32(actual)}`
  return null
}

function hex32(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0')
}

/** Throws CorruptBatchError unless the batch at `pos` is valid. */
export function validateBatch(buf: Buffer, pos = 0, end = buf.length, where?: { file: string; position: number }): void {
  const problem = checkBatch(buf, pos, end)
  if (problem !== null) throw new CorruptBatchError(problem, where?.file, where?.position)
}

/*
 * Header keys repeat (content-type, a trace header's name), and decoding one is a call into C++
 * (~190 ns here, twice what the rest of a plain record costs). The decoder keeps the last few
 * ASCII keys it decoded and hands out the same string again when the bytes match. Only strings of
 * one char per byte are kept, so a match means the bytes are that ASCII string: a U+FFFD from
 * invalid bytes never equals a byte, and any other non-ASCII char takes more than one byte.
 */
const KEY_CACHE_SIZE = 8
const keyCache: string[] = []
let keyCacheNext = 0

function headerKey(data: Buffer, p: number, len: number): string {
  for (let k = 0; k < keyCache.length; k++) {
    const c = keyCache[k]
    if (c.length !== len) continue
    let i = 0
    while (i < len && c.charCodeAt(i) === data[p + i]) i++
    if (i === len) return c
  }
  const s = data.toString('utf8', p, p + len)
  if (s.length === len && len <= 64) {
    keyCache[keyCacheNext] = s
    keyCacheNext = (keyCacheNext + 1) % KEY_CACHE_SIZE
  }
  return s
}

/** The records section of a batch, decompressed when needed. */
function recordsSection(buf: Buffer, pos: number, size: number, attributes: number): { data: Buffer; start: number; end: number } {
  const codec = attributes & COMPRESSION_MASK
  if (codec === 0) return { data: buf, start: pos + RECORDS_OFFSET, end: pos + size }
  if (codec === Compression.gzip) {
    let data: Buffer
    try {
      data = gunzipSync(buf.subarray(pos + RECORDS_OFFSET, pos + size))
    } catch (err) {
      throw new CorruptBatchError(`gzip records do not decompress: ${(err as Error).message}`)
    }
    return { data, start: 0, end: data.length }
  }
  throw new UnsupportedCompressionError(compressionName(attributes))
}

/*
 * Decoding is two passes over a batch. `indexRecords` parses the records section into an index of
 * numbers (where each key, value and header list is, and each record's deltas) and checks its
 * framing; it builds nothing. `buildRecords` turns index entries into record objects and Buffer
 * views. The split lets the read-ahead worker (read-ahead-worker.ts) do the parsing on another
 * thread, so that a scan's main thread only builds what it hands out; on the main thread the two
 * run back to back (decodeRecords).
 */

/** Numbers per record in an index: see the F_ constants. */
export const INDEX_STRIDE = 8
const F_OFFSET_DELTA = 0
// A timestamp delta is a varlong: its high and low 32 bits (the low ones as an int32).
const F_TIMESTAMP_HIGH = 1
const F_TIMESTAMP_LOW = 2
const F_KEY_START = 3
const F_KEY_LENGTH = 4 // -1: null
const F_VALUE_START = 5
const F_VALUE_LENGTH = 6 // -1: null; the header count follows the value
const F_HEADER_COUNT = 7

/**
 * Index the records in `data[start, end)` (a batch's records section holding `count` records)
 * into `index`, from entry 0: those whose offset is at least `minOffset`, at most `room` of them.
 * Returns how many it indexed. Throws VarintError (or RangeError) when the framing is broken: a
 * record running past the section, an offset delta outside the batch, fields that do not fill
 * their record, bytes left after the last record.
 */
export function indexRecords(
  data: Uint8Array,
  start: number,
  end: number,
  count: number,
  baseOffset: number,
  lastOffsetDelta: number,
  minOffset: number,
  room: number,
  index: Int32Array,
): number {
  let p = start
  let n = 0
  // This loop is most of a read's parsing. The varints are decoded in line for their common
  // lengths (one byte; two for the record length, the offset delta and the value length, up to
  // 8191), because a call to readVarint, which returns its end through a module-level slot, costs
  // more here than the rest of the field. Anything out of bounds (undefined compares false) falls
  // to readVarint, which throws; a key or value running past its record is caught by the
  // recordEnd check.
  let i = 0
  for (; i < count && n < room; i++) {
    let length = data[p]
    if (length < 0x80) {
      length = (length >>> 1) ^ -(length & 1)
      p++
    } else if (data[p + 1] < 0x80) {
      length = (length & 0x7f) | (data[p + 1] << 7)
      length = (length >>> 1) ^ -(length & 1)
      p += 2
    } else {
      length = readVarint(data, p)
      p = varintEnd
    }
    const recordEnd = p + length
    if (length < 0 || recordEnd > end) throw new VarintError(`record ${i} of length ${length} runs past the batch`)
    p++ // attributes
    let tsDelta = data[p]
    if (tsDelta < 0x80) {
      tsDelta = (tsDelta >>> 1) ^ -(tsDelta & 1)
      p++
    } else {
      tsDelta = readVarlong(data, p)
      p = varintEnd
    }
    let offsetDelta = data[p]
    if (offsetDelta < 0x80) {
      offsetDelta = (offsetDelta >>> 1) ^ -(offsetDelta & 1)
      p++
    } else if (data[p + 1] < 0x80) {
      offsetDelta = (offsetDelta & 0x7f) | (data[p + 1] << 7)
      offsetDelta = (offsetDelta >>> 1) ^ -(offsetDelta & 1)
      p += 2
    } else {
      offsetDelta = readVarint(data, p)
      p = varintEnd
    }
    if (offsetDelta < 0 || offsetDelta > lastOffsetDelta) {
      throw new VarintError(`record ${i} has offset delta ${offsetDelta} outside [0, ${lastOffsetDelta}]`)
    }
    if (baseOffset + offsetDelta < minOffset) {
      p = recordEnd
      continue
    }
    let keyLen = data[p]
    if (keyLen < 0x80) {
      keyLen = (keyLen >>> 1) ^ -(keyLen & 1)
      p++
    } else {
      keyLen = readVarint(data, p)
      p = varintEnd
    }
    const keyStart = p
    if (keyLen > 0) p += keyLen
    let valueLen = data[p]
    if (valueLen < 0x80) {
      valueLen = (valueLen >>> 1) ^ -(valueLen & 1)
      p++
    } else if (data[p + 1] < 0x80) {
      valueLen = (valueLen & 0x7f) | (data[p + 1] << 7)
      valueLen = (valueLen >>> 1) ^ -(valueLen & 1)
      p += 2
    } else {
      valueLen = readVarint(data, p)
      p = varintEnd
    }
    const valueStart = p
    if (valueLen > 0) p += valueLen
    let headerCount = data[p]
    if (headerCount < 0x80) {
      headerCount = (headerCount >>> 1) ^ -(headerCount & 1)
      p++
    } else {
      headerCount = readVarint(data, p)
      p = varintEnd
    }
    if (headerCount < 0) throw new VarintError(`record ${i} has a negative header count`)
    for (let h = 0; h < headerCount; h++) {
      const kl = readVarint(data, p)
      if (kl < 0) throw new VarintError(`record ${i} has a header with a null key`)
      p = varintEnd + kl
      const vl = readVarint(data, p)
      p = vl > 0 ? varintEnd + vl : varintEnd
      if (p > recordEnd) break // caught below
    }
    if (p !== recordEnd) throw new VarintError(`record ${i} is ${length} bytes long but its fields take ${p - recordEnd + length}`)
    const e = n * INDEX_STRIDE
    index[e + F_OFFSET_DELTA] = offsetDelta
    if ((tsDelta | 0) === tsDelta) {
      // The usual case, without the division: an int32's high word is its sign.
      index[e + F_TIMESTAMP_HIGH] = tsDelta < 0 ? -1 : 0
      index[e + F_TIMESTAMP_LOW] = tsDelta
    } else {
      const high = Math.floor(tsDelta / TWO_32)
      index[e + F_TIMESTAMP_HIGH] = high
      index[e + F_TIMESTAMP_LOW] = tsDelta - high * TWO_32
    }
    index[e + F_KEY_START] = keyStart
    index[e + F_KEY_LENGTH] = keyLen < 0 ? -1 : keyLen
    index[e + F_VALUE_START] = valueStart
    index[e + F_VALUE_LENGTH] = valueLen < 0 ? -1 : valueLen
    index[e + F_HEADER_COUNT] = headerCount
    n++
  }
  // As Kafka does: bytes left after the declared count mean the count is wrong, not that they are junk to skip.
  if (i === count && p !== end) throw new VarintError(`${end - p} bytes remain after the batch's ${count} records`)
  return n
}

/**
 * Append to `out` the records of index entries [from, to) of the batch at `pos` in `buf`, whose
 * records section is `data` (`buf` itself unless compressed): those at or above `minOffset`, until
 * `out` holds `maxRecords`. The entries must come from indexRecords over that same section.
 * Returns how many it added.
 */
export function buildRecords(
  buf: Buffer,
  pos: number,
  data: Buffer,
  index: Int32Array,
  from: number,
  to: number,
  out: LogRecord[],
  minOffset = 0,
  maxRecords = Infinity,
  source: RecordSource | null = null,
): number {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  const baseOffset = readInt64(buf, pos)
  const baseTimestamp = readInt64(buf, pos + BASE_TIMESTAMP_OFFSET)
  // With LogAppendTime every record has the broker's time, whatever its delta.
  const appendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0
  const batchTimestamp = boxed(appendTime ? readInt64(buf, pos + MAX_TIMESTAMP_OFFSET) : baseTimestamp)
  const views = viewSource(data)
  // An integer room (maxRecords may be Infinity), so the loop's test is cheap.
  const room = Math.min(to - from, maxRecords - out.length)
  let added = 0
  for (let e = from * INDEX_STRIDE, last = to * INDEX_STRIDE; e < last && added < room; e += INDEX_STRIDE) {
    const offset = baseOffset + index[e + F_OFFSET_DELTA]
    if (offset < minOffset) continue
    const keyLen = index[e + F_KEY_LENGTH]
    const key = keyLen < 0 ? null : viewOf(views, index[e + F_KEY_START], keyLen)
    const valueLen = index[e + F_VALUE_LENGTH]
    const value = valueLen < 0 ? null : viewOf(views, index[e + F_VALUE_START], valueLen)
    const headerCount = index[e + F_HEADER_COUNT]
    const headers = headerCount === 0 ? NO_HEADERS : decodeHeaders(data, views, index[e + F_VALUE_START] + (valueLen > 0 ? valueLen : 0))
    const high = index[e + F_TIMESTAMP_HIGH]
    const low = index[e + F_TIMESTAMP_LOW]
    const timestamp =
      (high === 0 && low === 0) || appendTime ? batchTimestamp : baseTimestamp + high * TWO_32 + (low >>> 0)
    if (source === null) out.push(new PlainRecord(offset, timestamp, key, value, headers))
    else out.push(new SourcedRecordOf(source.topic, source.partition, offset, key, value, headers, timestamp))
    added++
  }
  return added
}

/** The headers of one record from its header count at `p`, the framing checked by indexRecords. */
function decodeHeaders(data: Buffer, views: ViewSource, p: number): Header[] {
  const count = readVarint(data, p)
  p = varintEnd
  const headers = new Array<Header>(count)
  for (let h = 0; h < count; h++) {
    const kl = readVarint(data, p)
    p = varintEnd
    const hk = headerKey(data, p, kl)
    p += kl
    const vl = readVarint(data, p)
    p = varintEnd
    let hv: Buffer | null = null
    if (vl >= 0) {
      hv = viewOf(views, p, vl)
      p += vl
    }
    headers[h] = new HeaderOf(hk, hv)
  }
  return headers
}

/** The main thread's index: grown to the largest batch decoded, reused by every decode. */
let scratchIndex = new Int32Array(1024 * INDEX_STRIDE)

/**
 * Append to `out` the records of the (already validated) batch at `pos` whose offset is at least
 * `minOffset`, stopping once `out` holds `maxRecords`. Returns how many it added. With a `source`,
 * each record also carries its topic and partition (see RecordSource).
 */
export function decodeRecords(
  buf: Buffer,
  pos: number,
  out: LogRecord[],
  minOffset = 0,
  maxRecords = Infinity,
  source: RecordSource | null = null,
): number {
  const size = buf.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  const baseOffset = readInt64(buf, pos)
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)
  const count = buf.readInt32BE(pos + RECORDS_COUNT_OFFSET)
  if (baseOffset + lastOffsetDelta < minOffset) return 0
  const room = Math.min(count, maxRecords - out.length)
  const { data, start, end } = recordsSection(buf, pos, size, attributes)
  if (scratchIndex.length < count * INDEX_STRIDE) scratchIndex = new Int32Array(count * INDEX_STRIDE)
  let n: number
  try {
    n = indexRecords(data, start, end, count, baseOffset, lastOffsetDelta, minOffset, room, scratchIndex)
  } catch (err) {
    throw malformed(err, baseOffset)
  }
  return buildRecords(buf, pos, data, scratchIndex, 0, n, out, minOffset, maxRecords, source)
}

/** A parse error of indexRecords as the CorruptBatchError a reader gets; anything else as it is. */
export function malformed(err: unknown, baseOffset: number): unknown {
  if (err instanceof VarintError || err instanceof RangeError) {
    return new CorruptBatchError(`malformed record in batch at offset ${baseOffset}: ${err.message}`)
  }
  return err
}

/** Decode every record of a standalone batch, validating it first. */
export function decodeBatch(buf: Buffer, pos = 0): { header: BatchHeader; records: LogRecord[] } {
  validateBatch(buf, pos)
  const header = readBatchHeader(buf, pos)
  const records: LogRecord[] = []
  decodeRecords(buf, pos, records)
  return { header, records }
}

export function isControlBatch(buf: Buffer, pos: number): boolean {
  return (buf.readInt16BE(pos + ATTRIBUTES_OFFSET) & CONTROL_MASK) !== 0
}
