/**
 * The embedded producer: `broker.producer({ acks, idempotent, lingerMs, batchBytes })`, then
 * `send(topic, messages)` -> `{ topic, partition, offset, timestamp }` per message, in input order.
 *
 * What each acks mode promises when `send` resolves:
 * - `0`: the messages were checked and queued; nothing about the append. Offsets are -1 (as in
 *   Kafka); the append happens after the current tick (or after lingerMs). Errors of such sends
 *   are not lost: the next `flush()` (or `close()`) rejects with the first of them.
 * - `1`: the records are appended: in the page cache, readable by consumers (on a topic with
 *   flush 'always', the log itself waits for the fsync, so acks 1 does too). A process crash
 *   keeps them; a power loss may not.
 * - `'all'` (or -1, the default): the records are fsynced. Concurrent senders share syncs (group
 *   commit): every batch appended while a sync is in flight goes out in the next one.
 *
 * Batching: messages for one partition sent in the same tick (lingerMs 0), or within lingerMs,
 * become one RecordBatch of up to batchBytes (a single larger message gets a batch of its own).
 * Keyless messages stick to one partition until its batch is sent (see partitioner.ts).
 *
 * Idempotence (default on): the producer gets a producer id from the broker; each batch carries
 * it, the epoch and the next sequence for its partition, and the partition refuses duplicates and
 * gaps (producer-state.ts). This producer does not retry by itself; after a failed batch it moves
 * to a new epoch, which restarts its sequences, so one failure never wedges later sends.
 */
import { InvalidConfigError, InvalidMessageError, MessageTooLargeError, ProducerClosedError, UnknownTopicOrPartitionError } from './errors.js'
import { asRecord, checkMessage, type Message } from './message.js'
import { StickyPartitioner, partitionForKey } from './partitioner.js'
import type { Partition } from './partition.js'
import { MAX_PRODUCER_EPOCH } from './producer-ids.js'
import type { Topic } from './topic.js'
import type { RecordInput } from '@samsa/log'

export type Acks = 0 | 1 | -1 | 'all'

export interface ProducerOptions {
  /** Default 'all'. */
  acks?: Acks
  /** Default true. */
  idempotent?: boolean
  /** How long a batch may wait for more messages. Default 0: only messages of the same tick join. */
  lingerMs?: number
  /** Largest batch the producer builds, counted in message size bounds. Default 1 MiB. */
  batchBytes?: number
}

export interface SendResult {
  topic: string
  partition: number
  /** -1 with acks 0. */
  offset: number
  timestamp: number
}

/** What a producer needs of its broker. */
export interface ProducerHost {
  readonly now: () => number
  checkWritable(): void
  getTopic(name: string): Topic | undefined
  ensureTopic(name: string): Promise<Topic>
  getPartition(topic: string, partition: number): Partition
  allocateProducerId(): number
  producerClosed(producer: Producer): void
}

interface Batch {
  topic: string
  partition: number
  timestamp: number
  records: RecordInput[]
  results: SendResult[]
  bytes: number
  /** The last send call that added to it, to list each batch once per call. */
  mark: number
  done: Promise<void>
  resolve: () => void
  reject: (err: unknown) => void
}

const DEFAULT_BATCH_BYTES = 1024 * 1024
const INT32_MAX = 0x7fffffff
const noop = (): void => {}

export class Producer {
  readonly acks: 0 | 1 | 'all'
  readonly idempotent: boolean
  readonly lingerMs: number
  readonly batchBytes: number
  private _producerId = -1
  private _producerEpoch = -1

  private closed = false
  private callCount = 0
  /** Batches still filling, per topic, by partition. */
  private readonly open = new Map<string, (Batch | undefined)[]>()
  private openCount = 0
  /** Full batches waiting for the next dispatch. */
  private ready: Batch[] = []
  private tickScheduled = false
  private lingerTimer: NodeJS.Timeout | null = null
  private readonly inFlight = new Set<Promise<void>>()
  /** Failures of acks-0 sends, reported by the next flush(). */
  private unreported: unknown[] = []
  private readonly sequences = new Map<string, number[]>()
  private readonly sticky = new StickyPartitioner()

  constructor(
    private readonly host: ProducerHost,
    options: ProducerOptions = {},
  ) {
    if (options === null || typeof options !== 'object') throw new InvalidConfigError('producer options must be an object')
    const known = ['acks', 'idempotent', 'lingerMs', 'batchBytes']
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) throw new InvalidConfigError(`unknown producer option ${JSON.stringify(key)}; the options are ${known.join(', ')}`)
    }
    const acks = options.acks ?? 'all'
    if (acks !== 0 && acks !== 1 && acks !== -1 && acks !== 'all') {
      throw new InvalidConfigError(`producer option acks must be 0, 1, 'all' or -1, got ${JSON.stringify(acks)}`)
    }
    this.acks = acks === -1 ? 'all' : acks
    if (options.idempotent !== undefined && typeof options.idempotent !== 'boolean') {
      throw new InvalidConfigError(`producer option idempotent must be a boolean, got ${JSON.stringify(options.idempotent)}`)
    }
    this.idempotent = options.idempotent ?? true
    this.lingerMs = nonNegative('lingerMs', options.lingerMs, 0)
    this.batchBytes = nonNegative('batchBytes', options.batchBytes, DEFAULT_BATCH_BYTES)
    if (this.batchBytes === 0) throw new InvalidConfigError('producer option batchBytes must be positive')
    if (this.idempotent) {
      this._producerId = host.allocateProducerId()
      this._producerEpoch = 0
    }
  }

  /** -1 unless idempotent. */
  get producerId(): number {
    return this._producerId
  }

  get producerEpoch(): number {
    return this._producerEpoch
  }

  get isClosed(): boolean {
    return this.closed
  }

  /**
   * Send messages to `topic`. Every message is checked first: a bad one rejects the call and
   * nothing of it is written. Results come in input order.
   */
  async send(topicName: string, messages: readonly Message[]): Promise<SendResult[]> {
    if (this.closed) throw new ProducerClosedError()
    this.host.checkWritable()
    if (!Array.isArray(messages)) {
      throw new InvalidMessageError(`send takes a topic name and an array of messages, got ${messages === null ? 'null' : typeof messages}`)
    }
    const topic = this.host.getTopic(topicName) ?? (await this.host.ensureTopic(topicName))
    if (this.closed) throw new ProducerClosedError()
    const count = messages.length
    if (count === 0) return []

    // Pass 1: check everything before queuing anything.
    const n = topic.partitionCount
    const limit = topic.config.maxMessageBytes
    const sizes = new Array<number>(count)
    const partitions = new Array<number>(count)
    for (let i = 0; i < count; i++) {
      const m = messages[i]
      const size = checkMessage(m, i)
      if (size > limit) throw new MessageTooLargeError(size, limit, topicName)
      sizes[i] = size
      const explicit = m.partition
      if (explicit !== undefined && explicit !== null) {
        if (typeof explicit !== 'number' || !Number.isSafeInteger(explicit)) {
          throw new InvalidMessageError(`message ${i} has partition ${String(explicit)}; a partition is a non-negative integer`)
        }
        if (explicit < 0 || explicit >= n) throw new UnknownTopicOrPartitionError(topicName, explicit, n)
        partitions[i] = explicit
      } else if (m.key !== null && m.key !== undefined) {
        partitions[i] = partitionForKey(m.key as Buffer | string, n)
      } else {
        partitions[i] = -1
      }
    }

    // Pass 2: queue.
    const call = ++this.callCount
    const results = new Array<SendResult>(count)
    const touched: Batch[] = []
    const now = this.host.now()
    for (let i = 0; i < count; i++) {
      const m = messages[i]
      let p = partitions[i]
      let batch: Batch
      if (p < 0) {
        p = this.sticky.current(topicName, n)
        const filling = this.open.get(topicName)?.[p]
        if (filling !== undefined && filling.bytes + sizes[i] > this.batchBytes) {
          // The sticky partition's batch is full: keyless traffic moves on to the next partition.
          this.closeBatch(filling, this.open.get(topicName) as (Batch | undefined)[])
          this.sticky.batchSent(topicName, p, n)
          p = this.sticky.current(topicName, n)
        }
      }
      batch = this.batchFor(topicName, p, sizes[i], now)
      const result: SendResult = { topic: topicName, partition: p, offset: -1, timestamp: m.timestamp ?? batch.timestamp }
      batch.records.push(asRecord(m))
      batch.results.push(result)
      batch.bytes += sizes[i]
      if (batch.mark !== call) {
        batch.mark = call
        touched.push(batch)
      }
      results[i] = result
    }
    this.schedule()

    if (this.acks === 0) return results
    if (touched.length === 1) await touched[0].done
    else await Promise.all(touched.map((b) => b.done))
    return results
  }

  /**
   * The batch a message of `size` joins on `partition`: the one filling there, unless it would go
   * past batchBytes; then that one is closed and a new one started.
   */
  private batchFor(topic: string, partition: number, size: number, now: number): Batch {
    let byPartition = this.open.get(topic)
    if (byPartition === undefined) this.open.set(topic, (byPartition = []))
    let batch = byPartition[partition]
    if (batch !== undefined && batch.bytes + size > this.batchBytes) {
      this.closeBatch(batch, byPartition)
      batch = undefined
    }
    if (batch === undefined) {
      batch = newBatch(topic, partition, now)
      byPartition[partition] = batch
      this.openCount++
      if (this.lingerMs > 0 && this.lingerTimer === null) {
        this.lingerTimer = setTimeout(() => {
          this.lingerTimer = null
          this.dispatch(true)
        }, this.lingerMs)
      }
    }
    return batch
  }

  /** Move a filling batch to the ready list. */
  private closeBatch(batch: Batch, byPartition: (Batch | undefined)[]): void {
    byPartition[batch.partition] = undefined
    this.openCount--
    this.ready.push(batch)
  }

  private schedule(): void {
    if (this.tickScheduled) return
    if (this.ready.length === 0 && (this.lingerMs > 0 || this.openCount === 0)) return
    this.tickScheduled = true
    // After every microtask of this tick: senders resumed together (by one fsync) all join.
    process.nextTick(() => {
      this.tickScheduled = false
      this.dispatch(this.lingerMs === 0)
    })
  }

  /** Append the ready batches, and with `all` every filling batch too, in queue order. */
  private dispatch(all: boolean): void {
    if (all) {
      if (this.lingerTimer !== null) clearTimeout(this.lingerTimer)
      this.lingerTimer = null
      for (const [, byPartition] of this.open) {
        for (const b of byPartition) if (b !== undefined) this.closeBatch(b, byPartition)
      }
    }
    const batches = this.ready
    this.ready = []
    for (const b of batches) this.append(b)
  }

  private append(b: Batch): void {
    let partition: Partition
    try {
      partition = this.host.getPartition(b.topic, b.partition)
    } catch (err) {
      this.fail(b, err)
      return
    }
    const numPartitions = this.host.getTopic(b.topic)?.partitionCount ?? 1
    this.sticky.batchSent(b.topic, b.partition, numPartitions)
    const epoch = this._producerEpoch
    let appended = this.idempotent
      ? partition.append(b.records, {
          producerId: this._producerId,
          producerEpoch: epoch,
          baseSequence: this.nextSequence(b.topic, b.partition, b.records.length),
          timestamp: b.timestamp,
        })
      : partition.append(b.records, { timestamp: b.timestamp })
    if (this.acks === 'all' && partition.log.flushPolicy !== 'always') {
      appended = appended.then((r) => partition.flush().then(() => r))
    }
    const done = appended.then(
      (r) => {
        const results = b.results
        for (let j = 0; j < results.length; j++) results[j].offset = r.baseOffset + j
        b.resolve()
      },
      (err) => {
        if (this.idempotent && epoch === this._producerEpoch) this.bumpEpoch()
        this.fail(b, err)
      },
    )
    this.inFlight.add(done)
    void done.finally(() => this.inFlight.delete(done))
  }

  private fail(b: Batch, err: unknown): void {
    // With acks 0 no one awaits the batch: keep the error for the next flush().
    if (this.acks === 0) this.unreported.push(err)
    b.reject(err)
  }

  private nextSequence(topic: string, partition: number, count: number): number {
    let byPartition = this.sequences.get(topic)
    if (byPartition === undefined) this.sequences.set(topic, (byPartition = []))
    const seq = byPartition[partition] ?? 0
    const next = seq + count
    byPartition[partition] = next > INT32_MAX ? next - INT32_MAX - 1 : next
    return seq
  }

  /** After a failed batch: a new epoch restarts every sequence at 0 (Kafka's KIP-360). */
  private bumpEpoch(): void {
    this.sequences.clear()
    if (this._producerEpoch < MAX_PRODUCER_EPOCH) {
      this._producerEpoch++
    } else {
      this._producerId = this.host.allocateProducerId()
      this._producerEpoch = 0
    }
  }

  /**
   * Send everything queued now (without waiting for lingerMs) and wait until it is appended (and,
   * with acks 'all', synced). Rejects with the first failure of an acks-0 send since the last flush.
   */
  async flush(): Promise<void> {
    this.dispatch(true)
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
    if (this.unreported.length > 0) {
      const [first] = this.unreported
      this.unreported = []
      throw first
    }
  }

  /** Send what is queued, wait for it, and refuse further sends. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.flush()
    } finally {
      this.host.producerClosed(this)
    }
  }
}

function newBatch(topic: string, partition: number, timestamp: number): Batch {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const done = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  // A batch whose every sender used acks 0 has no one awaiting it; its failure is reported by flush().
  done.catch(noop)
  return { topic, partition, timestamp, records: [], results: [], bytes: 0, mark: 0, done, resolve, reject }
}

function nonNegative(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidConfigError(`producer option ${name} must be a non-negative number, got ${JSON.stringify(value)}`)
  }
  return value
}
