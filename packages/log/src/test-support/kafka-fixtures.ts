/**
 * Loads the Kafka protocol fixtures (../shared/fixtures/kafka beside the repository) and digs the
 * RecordBatch bytes out of them. The request and response structures are parsed field by field,
 * with bounds checks and a check that every byte was consumed, so a misread layout fails loudly
 * instead of handing a test bytes from the wrong place. It deliberately uses none of the code under
 * test to find batch boundaries.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: the nearest ancestor of this file holding pnpm-workspace.yaml. */
function findRepoRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url))
  let dir = start
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${start}: cannot locate the repository root`)
    dir = parent
  }
}

export const REPO_ROOT = findRepoRoot()
/** CI clones the repository with shared/ beside it, as /work/main and /work/shared are here. */
export const KAFKA_FIXTURES_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'kafka')

export function listFixtures(): string[] {
  if (!existsSync(KAFKA_FIXTURES_DIR)) {
    throw new Error(`Kafka fixtures not found at ${KAFKA_FIXTURES_DIR} (expected ../shared/fixtures/kafka beside the repo)`)
  }
  return readdirSync(KAFKA_FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
}

/** A fixture's bytes: each file is the JSON form of a Node Buffer ({ type: 'Buffer', data: [...] }). */
export function fixtureBytes(name: string): Buffer {
  const file = join(KAFKA_FIXTURES_DIR, name.endsWith('.json') ? name : `${name}.json`)
  if (!existsSync(file)) throw new Error(`Kafka fixture ${file} not found`)
  const json = JSON.parse(readFileSync(file, 'utf8'))
  if (json?.type !== 'Buffer' || !Array.isArray(json.data)) throw new Error(`${file} is not a JSON Buffer`)
  return Buffer.from(json.data)
}

/** A bounds-checked big-endian cursor over a protocol body. */
class Reader {
  pos = 0
  constructor(
    readonly buf: Buffer,
    readonly what: string,
  ) {}

  private need(n: number, field: string): void {
    if (this.pos + n > this.buf.length) {
      throw new Error(`${this.what}: ${field} needs ${n} bytes at ${this.pos}, only ${this.buf.length - this.pos} left`)
    }
  }

  int16(field: string): number {
    this.need(2, field)
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }

  int32(field: string): number {
    this.need(4, field)
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  int64(field: string): number {
    this.need(8, field)
    const v = this.buf.readBigInt64BE(this.pos)
    this.pos += 8
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new Error(`${this.what}: ${field} ${v} is not a safe integer`)
    }
    return Number(v)
  }

  nullableString(field: string): string | null {
    const len = this.int16(`${field} length`)
    if (len === -1) return null
    if (len < 0) throw new Error(`${this.what}: ${field} has length ${len}`)
    this.need(len, field)
    const s = this.buf.toString('utf8', this.pos, this.pos + len)
    this.pos += len
    return s
  }

  string(field: string): string {
    const s = this.nullableString(field)
    if (s === null) throw new Error(`${this.what}: ${field} is null`)
    return s
  }

  nullableBytes(field: string): Buffer | null {
    const len = this.int32(`${field} length`)
    if (len === -1) return null
    if (len < 0) throw new Error(`${this.what}: ${field} has length ${len}`)
    this.need(len, field)
    const b = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return b
  }

  nullableArray<T>(field: string, item: (i: number) => T): T[] | null {
    const n = this.int32(`${field} count`)
    if (n === -1) return null
    if (n < 0) throw new Error(`${this.what}: ${field} has count ${n}`)
    const out: T[] = []
    for (let i = 0; i < n; i++) out.push(item(i))
    return out
  }

  array<T>(field: string, item: (i: number) => T): T[] {
    const a = this.nullableArray(field, item)
    if (a === null) throw new Error(`${this.what}: ${field} is null`)
    return a
  }

  end(): void {
    if (this.pos !== this.buf.length) {
      throw new Error(`${this.what}: ${this.buf.length - this.pos} bytes left over after parsing`)
    }
  }
}

export interface SplitRecords {
  /** Each complete batch, as a view of the records bytes (baseOffset through its last byte). */
  batches: Buffer[]
  /** Bytes after the last complete batch: a broker may cut the last batch short at maxBytes. */
  partialTail: Buffer | null
}

/** Split a RECORDS field into batches by their batchLength field (int32 at byte 8, counting from byte 12). */
export function splitBatches(records: Buffer | null): SplitRecords {
  const batches: Buffer[] = []
  if (records === null) return { batches, partialTail: null }
  let pos = 0
  while (pos < records.length) {
    if (records.length - pos < 12) break
    const size = records.readInt32BE(pos + 8) + 12
    if (size < 12 || pos + size > records.length) break
    batches.push(records.subarray(pos, pos + size))
    pos += size
  }
  return { batches, partialTail: pos < records.length ? records.subarray(pos) : null }
}

export interface AbortedTransaction {
  producerId: number
  firstOffset: number
}

export interface FetchPartition extends SplitRecords {
  partition: number
  errorCode: number
  highWatermark: number
  lastStableOffset: number
  /** v5 and later. */
  logStartOffset?: number
  abortedTransactions: AbortedTransaction[] | null
  /** v11 and later. */
  preferredReadReplica?: number
  records: Buffer | null
}

export interface FetchResponse {
  version: number
  throttleTimeMs: number
  /** v7 and later. */
  errorCode?: number
  /** v7 and later. */
  sessionId?: number
  topics: { topic: string; partitions: FetchPartition[] }[]
}

/**
 * Fetch response body, versions 4 to 11 (v12 switches to the flexible encoding):
 * throttle_time_ms, [v7+ error_code, session_id], [topic [partition error_code high_watermark
 * last_stable_offset [v5+ log_start_offset] [aborted_transactions] [v11+ preferred_read_replica]
 * records]].
 */
export function parseFetchResponse(body: Buffer, version: number): FetchResponse {
  if (version < 4 || version > 11) throw new Error(`fetch response v${version} is not handled (4 to 11 are)`)
  const r = new Reader(body, `fetch v${version} response`)
  const throttleTimeMs = r.int32('throttle_time_ms')
  const out: FetchResponse = { version, throttleTimeMs, topics: [] }
  if (version >= 7) {
    out.errorCode = r.int16('error_code')
    out.sessionId = r.int32('session_id')
  }
  out.topics = r.array('responses', () => {
    const topic = r.string('topic')
    const partitions = r.array('partitions', () => {
      const partition = r.int32('partition')
      const errorCode = r.int16('error_code')
      const highWatermark = r.int64('high_watermark')
      const lastStableOffset = r.int64('last_stable_offset')
      const logStartOffset = version >= 5 ? r.int64('log_start_offset') : undefined
      const abortedTransactions = r.nullableArray('aborted_transactions', () => ({
        producerId: r.int64('aborted producer_id'),
        firstOffset: r.int64('aborted first_offset'),
      }))
      const preferredReadReplica = version >= 11 ? r.int32('preferred_read_replica') : undefined
      const records = r.nullableBytes('records')
      const p: FetchPartition = {
        partition,
        errorCode,
        highWatermark,
        lastStableOffset,
        abortedTransactions,
        records,
        ...splitBatches(records),
      }
      if (logStartOffset !== undefined) p.logStartOffset = logStartOffset
      if (preferredReadReplica !== undefined) p.preferredReadReplica = preferredReadReplica
      return p
    })
    return { topic, partitions }
  })
  r.end()
  return out
}

export interface ProducePartition extends SplitRecords {
  partition: number
  records: Buffer | null
}

export interface ProduceRequest {
  version: number
  transactionalId: string | null
  acks: number
  timeoutMs: number
  topics: { topic: string; partitions: ProducePartition[] }[]
}

/**
 * Produce request body, versions 3 to 8 (v9 switches to the flexible encoding):
 * transactional_id acks timeout [topic [partition records]].
 */
export function parseProduceRequest(body: Buffer, version: number): ProduceRequest {
  if (version < 3 || version > 8) throw new Error(`produce request v${version} is not handled (3 to 8 are)`)
  const r = new Reader(body, `produce v${version} request`)
  const transactionalId = r.nullableString('transactional_id')
  const acks = r.int16('acks')
  const timeoutMs = r.int32('timeout')
  const topics = r.array('topic_data', () => {
    const topic = r.string('topic')
    const partitions = r.array('data', () => {
      const partition = r.int32('partition')
      const records = r.nullableBytes('records')
      return { partition, records, ...splitBatches(records) }
    })
    return { topic, partitions }
  })
  r.end()
  return { version, transactionalId, acks, timeoutMs, topics }
}

/** The version in a fixture's name: fetch_v11_response.json -> 11. */
export function fixtureVersion(name: string): number {
  const m = /_v(\d+)_/.exec(name)
  if (m === null) throw new Error(`no protocol version in fixture name ${name}`)
  return Number(m[1])
}

export function loadFetchResponse(name: string): FetchResponse {
  return parseFetchResponse(fixtureBytes(name), fixtureVersion(name))
}

export function loadProduceRequest(name: string): ProduceRequest {
  return parseProduceRequest(fixtureBytes(name), fixtureVersion(name))
}

/** Every complete batch in a fetch response or produce request fixture, in order. */
export function fixtureBatches(name: string): Buffer[] {
  const parsed = name.startsWith('produce_') ? loadProduceRequest(name) : loadFetchResponse(name)
  return parsed.topics.flatMap((t) => t.partitions.flatMap((p) => p.batches))
}
