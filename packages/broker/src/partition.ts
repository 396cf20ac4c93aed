/**
 * One partition of a topic: its Log (in `<dataDir>/<topic>-<partition>`) and the idempotent
 * producers' state that goes with it. Every append, from the embedded producer or (later) from a
 * Kafka client's Produce request, goes through `append` or `appendBatch` here, so the producer
 * sequence check and the hand-off to the log happen in one synchronous step and in log order.
 *
 * The producer state is snapshotted to `samsa.producer-state` in the partition directory on a
 * clean close and from time to time, and rebuilt on open from the snapshot plus the batch headers
 * after it. The snapshot is an optimisation only, never trusted over the log: one that claims more
 * than the log holds (the log was cut back by recovery) is deleted and the state is rebuilt from
 * the log start; a torn one is ignored. That is why it is written without fsync.
 */
import * as path from 'node:path'
import {
  Log,
  readBatchHeader,
  type AppendResult,
  type BatchOptions,
  type FileIO,
  type LogOptions,
  type RecordInput,
  type RetentionOptions,
  type RetentionResult,
} from '@samsa/log'
import { ProducerState } from './producer-state.js'

export const PRODUCER_STATE_FILE = 'samsa.producer-state'

export interface PartitionAppendResult extends AppendResult {
  /** The batch repeated one already written: nothing was appended and these are its original offsets. */
  duplicate: boolean
}

export interface PartitionDescription {
  partition: number
  logStartOffset: number
  logEndOffset: number
  /** One past the last offset readers can see (with flush 'always', the last fsynced). */
  highWatermark: number
  /** Bytes of the partition's .log files. */
  size: number
  segments: number
}

export interface PartitionContext {
  io: FileIO
  now: () => number
  /** Forget idempotent producers silent for this long. */
  producerIdExpirationMs: number
  /** Open the log read-only (beside a live writer); no producer state is kept. */
  readOnly?: boolean
  /** Log option blockingSync, for every partition (it matters only with flush 'always'). */
  blockingSync?: boolean
}

export interface IdempotenceFields {
  producerId: number
  producerEpoch: number
  baseSequence: number
}

export class Partition {
  readonly dir: string
  readonly producers: ProducerState
  private _log: Log
  /** Set while the log is being reopened with new options; appends wait for it. */
  private gate: Promise<void> | null = null
  private snapshotOffset = -1
  private closed = false

  private constructor(
    readonly topic: string,
    readonly partition: number,
    dir: string,
    log: Log,
    private readonly ctx: PartitionContext,
  ) {
    this.dir = dir
    this._log = log
    this.producers = new ProducerState(`${topic}-${partition}`)
  }

  static async open(dir: string, topic: string, partition: number, logOptions: LogOptions, ctx: PartitionContext): Promise<Partition> {
    const log = await Log.open(dir, { ...logOptions, io: ctx.io, now: ctx.now, readOnly: ctx.readOnly === true, blockingSync: ctx.blockingSync === true })
    const p = new Partition(topic, partition, dir, log, ctx)
    try {
      if (ctx.readOnly !== true) p.loadProducerState()
    } catch (err) {
      await log.close()
      throw err
    }
    return p
  }

  /** The partition's log, for reading (consumers, the wire server's Fetch). Writes go through append. */
  get log(): Log {
    return this._log
  }

  get isClosed(): boolean {
    return this.closed
  }

  // -------------------------------------------------------------------------------------------
  // Appending

  /**
   * Append records as one batch. With `producerId` >= 0 the batch is idempotent: checked against
   * the producer's last sequences first (a duplicate resolves with the original offsets and writes
   * nothing; an out-of-order sequence or stale epoch throws a typed error and writes nothing).
   */
  append(records: ReadonlyArray<RecordInput>, options: BatchOptions = {}): Promise<PartitionAppendResult> {
    if (this.gate !== null) return this.gate.then(() => this.append(records, options))
    const producerId = options.producerId ?? -1
    if (producerId < 0) return this._log.append(records, options).then(fresh)
    const epoch = options.producerEpoch ?? 0
    const seq = options.baseSequence ?? 0
    return this.idempotent(producerId, epoch, seq, records.length, options.timestamp, () => this._log.append(records, options))
  }

  /**
   * Append a RecordBatch encoded by a Kafka client, stored as it is (only its base offset is
   * rewritten). Its header's producer fields get the same idempotence check as `append`.
   */
  appendBatch(batch: Buffer): Promise<PartitionAppendResult> {
    if (this.gate !== null) return this.gate.then(() => this.appendBatch(batch))
    if (!Buffer.isBuffer(batch) || batch.length < 61) return this._log.appendBatch(batch).then(fresh)
    const h = readBatchHeader(batch, 0)
    if (h.producerId < 0) return this._log.appendBatch(batch).then(fresh)
    return this.idempotent(h.producerId, h.producerEpoch, h.baseSequence, h.lastOffsetDelta + 1, h.maxTimestamp, () => this._log.appendBatch(batch))
  }

  private idempotent(
    producerId: number,
    epoch: number,
    seq: number,
    count: number,
    timestamp: number | undefined,
    write: () => Promise<AppendResult>,
  ): Promise<PartitionAppendResult> {
    let earlier
    try {
      earlier = this.producers.check(producerId, epoch, seq, count)
    } catch (err) {
      return Promise.reject(err)
    }
    if (earlier !== null) {
      if (earlier.pending !== undefined) return earlier.pending.then(dup)
      return Promise.resolve({ baseOffset: earlier.firstOffset, lastOffset: earlier.lastOffset, duplicate: true })
    }
    const result = write()
    this.producers.begin(producerId, epoch, seq, count, timestamp ?? this.ctx.now(), result)
    return result.then(fresh)
  }

  /** fdatasync everything appended so far; concurrent callers share one sync. */
  flush(): Promise<void> {
    if (this.gate !== null) return this.gate.then(() => this.flush())
    return this._log.flush()
  }

  // -------------------------------------------------------------------------------------------
  // Retention

  async enforceRetention(options: RetentionOptions): Promise<RetentionResult> {
    if (this.gate !== null) await this.gate
    const result = await this._log.enforceRetention(options)
    if (options.dryRun !== true && result.deleted.length > 0) this.producers.truncateHead(this._log.logStartOffset)
    return result
  }

  async deleteRecordsBefore(offset: number): Promise<{ logStartOffset: number; deletedSegments: number }> {
    if (this.gate !== null) await this.gate
    const result = await this._log.deleteRecordsBefore(offset)
    this.producers.truncateHead(result.logStartOffset)
    return result
  }

  describe(): PartitionDescription {
    const log = this._log
    return {
      partition: this.partition,
      logStartOffset: log.logStartOffset,
      logEndOffset: log.logEndOffset,
      highWatermark: log.highWatermark,
      size: log.size,
      segments: log.segmentCount,
    }
  }

  // -------------------------------------------------------------------------------------------
  // Producer state persistence

  private get snapshotFile(): string {
    return path.join(this.dir, PRODUCER_STATE_FILE)
  }

  private loadProducerState(): void {
    const io = this.ctx.io
    const log = this._log
    let from = log.logStartOffset
    if (io.existsSync(this.snapshotFile)) {
      let parsed: unknown = null
      try {
        parsed = JSON.parse(io.readFileSync(this.snapshotFile).toString('utf8'))
      } catch {
        // Torn or garbled (it is written without fsync): rebuild from the log instead.
      }
      const offset = (parsed as { offset?: unknown } | null)?.offset
      if (typeof offset === 'number' && offset <= log.logEndOffset && this.producers.load(parsed)) {
        from = Math.max(offset, log.logStartOffset)
        this.snapshotOffset = offset
      } else {
        // It describes batches the log no longer has: it must not come back to life later.
        io.unlinkSync(this.snapshotFile)
        this.producers.clear()
      }
    }
    if (from < log.logEndOffset) log.scanBatchHeaders(from, (h) => this.producers.replay(h))
    this.producers.truncateHead(log.logStartOffset)
    this.producers.expire(this.ctx.now() - this.ctx.producerIdExpirationMs)
    this.producers.dirty = from < log.logEndOffset
  }

  /**
   * Write the producer state as of the log end, if it changed. Atomic by rename; not fsynced
   * (see the module comment).
   */
  writeSnapshot(): void {
    const offset = this._log.logEndOffset
    if (!this.producers.dirty && offset === this.snapshotOffset) return
    if (offset === 0 && this.producers.size === 0 && this.snapshotOffset < 0) return
    this.producers.expire(this.ctx.now() - this.ctx.producerIdExpirationMs)
    const io = this.ctx.io
    const tmp = `${this.snapshotFile}.tmp`
    const fd = io.openSync(tmp, 'w')
    try {
      io.writevSync(fd, [Buffer.from(JSON.stringify(this.producers.snapshot(offset)))], 0)
    } finally {
      io.closeSync(fd)
    }
    io.renameSync(tmp, this.snapshotFile)
    this.snapshotOffset = offset
    this.producers.dirty = false
  }

  // -------------------------------------------------------------------------------------------
  // Reopening and closing

  /** Close the log and open it again with new options (segment size, flush policy ...). */
  async reopen(logOptions: LogOptions): Promise<void> {
    while (this.gate !== null) await this.gate
    let release!: () => void
    this.gate = new Promise<void>((resolve) => (release = resolve))
    try {
      await this._log.close()
      this._log = await Log.open(this.dir, { ...logOptions, io: this.ctx.io, now: this.ctx.now, readOnly: this.ctx.readOnly === true, blockingSync: this.ctx.blockingSync === true })
    } finally {
      this.gate = null
      release()
    }
  }

  /** Flush and close the log; with `snapshot` (the default) write the producer state first. */
  async close(options: { snapshot?: boolean } = {}): Promise<void> {
    if (this.closed) return
    this.closed = true
    while (this.gate !== null) await this.gate
    await this._log.close()
    if (options.snapshot !== false && this.ctx.readOnly !== true) this.writeSnapshot()
  }
}

function fresh(r: AppendResult): PartitionAppendResult {
  return { baseOffset: r.baseOffset, lastOffset: r.lastOffset, duplicate: false }
}

function dup(r: AppendResult): PartitionAppendResult {
  return { baseOffset: r.baseOffset, lastOffset: r.lastOffset, duplicate: true }
}
