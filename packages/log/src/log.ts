/**
 * A partition's log: an ordered list of segments, the last one active.
 *
 * Invariants (what is fsynced when, what a reader may see):
 * - Offsets are assigned contiguously at write time; `logEndOffset` is the next one to assign.
 * - `highWatermark` is the end of what readers see. With flush 'always' it is the end of what has
 *   been fdatasync'ed, so nothing a reader sees can vanish in a power loss and an append resolves
 *   only once it is visible and durable. With 'interval' and 'never' it follows every write.
 * - 'always' appends are group-committed: appends that arrive while a write+fdatasync is in
 *   flight are queued and go out together in the next one, one writev and one fdatasync. With
 *   `blockingSync` that fdatasync is a blocking call on the event loop when the group is small and
 *   the disk quick; the order of write, sync and acknowledgement is the same either way.
 * - `recoveryPoint` only moves after the sync that makes it true; the checkpoint file records it
 *   from time to time. After an unclean stop, everything from the segment holding the recovery
 *   point on is re-validated (recovery.ts).
 * - A failed write or sync cuts the log back to its last good batch boundary and rejects only the
 *   appends that did not make it; the log stays readable and writable.
 * - Descriptors are never closed while a sync on them is in flight: closing, deleting and
 *   truncating wait for the flusher to be idle.
 * - With `preallocate` (the default with 'always') the active .log is zero-filled ahead of the
 *   appends. `size` is the end of the batches, never the file's length; a roll and a clean close
 *   cut the zeros off (the close syncs the cut before it writes the clean-shutdown marker), and
 *   after a crash recovery cuts them as it cuts any tail that is not a valid batch.
 */
import { readCheckpoint, writeCheckpoint, clearCleanShutdown, markCleanShutdown, type Checkpoint } from './checkpoint.js'
import {
  CorruptBatchError,
  InvalidArgumentError,
  LogClosedError,
  OffsetOutOfRangeError,
  ReadOnlyError,
  RecordTooLargeError,
  SamsaError,
  StorageError,
} from './errors.js'
import { FileCache } from './file-cache.js'
import { defaultIO, type FileIO } from './file-io.js'
import { acquireLock } from './lock.js'
import {
  BATCH_HEADER_SIZE,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  encodeBatch,
  readInt64,
  setBaseOffset,
  readBatchHeader,
  type BatchHeader,
  type LogRecord,
  type RecordSource,
  type RecordInput,
  type BatchOptions,
  checkBatch,
} from './record-batch.js'
import { loadSegments, recoverLog, type RecoveryReport } from './recovery.js'
import { READ_AHEAD_MIN_BYTES, ReadAhead } from './read-ahead.js'
import { Segment, type SegmentConfig } from './segment.js'

export type FlushPolicy = 'always' | 'interval' | 'never'

export interface LogOptions {
  /** Roll to a new segment before one would exceed this size. Default 1 GiB. */
  segmentBytes?: number
  /** Roll when a segment's records span more than this. Default 7 days. */
  segmentMs?: number
  /** Bytes between offset-index entries. Default 4096. */
  indexIntervalBytes?: number
  /** Size limit of each index file; a full index rolls the segment. Default 10 MiB. */
  maxIndexBytes?: number
  /** Largest encoded record accepted. Default 1 MiB. */
  maxRecordBytes?: number
  /** Largest batch accepted by append and appendBatch. Default 64 MiB. */
  maxBatchBytes?: number
  /** When appends are fdatasync'ed. Default 'interval'. */
  flush?: FlushPolicy
  /**
   * Zero-fill the active segment ahead of the appends (256 KiB at a time), so that an append's
   * fdatasync needs no file-system journal commit. Default: on with flush 'always', where every
   * append waits for its sync; off otherwise. The zeros are cut off when the segment rolls or the
   * log closes, and by recovery after a crash.
   */
  preallocate?: boolean
  /**
   * With flush 'interval' or 'never', ask the kernel to start writing the active segment back
   * after every this many bytes appended, without waiting for it: the disk then works while
   * appends go on, and a later sync has little left to do. It promises nothing. 0 turns it off.
   * Default 8 MiB.
   */
  writeBehindBytes?: number
  /**
   * With flush 'always', make each group's fdatasync a blocking call on the event loop, as Redis
   * does with appendfsync always, instead of handing it to libuv's thread pool. The hand-off costs
   * ~100 µs a sync on this VM (waking a pool thread, then the event loop), a third of a small sync:
   * 64 appenders of single records get ~1.3x the appends a second, one appender ~1.25x. The price
   * is an event loop that stands still while each sync runs (0.1-0.3 ms here; group-commit rounds
   * still give it a turn at least every millisecond), so use it where the log is the process's main
   * work. Only syncs of up to 1 MiB block; when they average over 1 ms, or one takes over 20 ms (a
   * slow or busy disk), the syncs of the next second go to the thread pool. Default false.
   */
  blockingSync?: boolean
  /** Period of 'interval' syncs. Default 1000 ms. */
  flushIntervalMs?: number
  /** Open without the write lock, for reading and tailing a live log. */
  readOnly?: boolean
  /**
   * Let scans (reads of 64 KiB and more that go on where the last one stopped) have a worker
   * thread read, CRC-check and index the next chunks while the caller handles this one: ~1.3-1.4x
   * the records a second of 100 B records on the 2-core benchmark VM. Reads return the same
   * records either way. Only with the default file layer, and not for read-only logs. Default true.
   */
  readAhead?: boolean
  /** Truncate at damage below the recovery point instead of failing to open. */
  repair?: boolean
  /** How often a read-only `stream({ follow })` looks for another process's appends. Default 100 ms. */
  pollIntervalMs?: number
  /** The file layer; tests inject faults here. */
  io?: FileIO
  /** Descriptor cache shared by segments; defaults to one per process of 512 files. */
  files?: FileCache
  /** Clock, for tests of time-based rolling and retention. */
  now?: () => number
}

export interface AppendResult {
  baseOffset: number
  lastOffset: number
}

export interface ReadOptions {
  /** Stop before a batch that would take the total past this (at least one batch is returned). Default 1 MiB. */
  maxBytes?: number
  /** Records this call returns (or adds to `into`) at most. */
  maxRecords?: number
  /** Append the records to this array, and return it, instead of a new one. */
  into?: LogRecord[]
  /**
   * Give every record these two fields as well, in the same object: what a consumer hands out
   * ({ topic, partition, offset, key, value, headers, timestamp }), without a second object per record.
   */
  source?: RecordSource
}

export interface StreamOptions {
  from?: number
  follow?: boolean
  signal?: AbortSignal
  maxBytes?: number
}

export interface SegmentInfo {
  baseOffset: number
  size: number
  file: string
  /** The largest record timestamp in the segment (what retentionMs is measured against); -1 if empty. */
  largestTimestamp: number
}

export interface RetentionOptions {
  /** Delete segments whose largest timestamp is older than this; negative or absent: no limit. */
  retentionMs?: number
  /** Delete the oldest segments while the log is bigger than this; negative or absent: no limit. */
  retentionBytes?: number
  /** The time retentionMs is measured from; defaults to the log's clock. */
  now?: number
  /** Report what would be deleted, delete nothing. */
  dryRun?: boolean
}

export interface RetentionResult {
  /** The segments deleted (or, with dryRun, that would be), oldest first. */
  deleted: SegmentInfo[]
  /** The log start offset afterwards (with dryRun, what it would be). */
  logStartOffset: number
}

interface Pending {
  batch: Buffer
  count: number
  maxTimestamp: number
  resolve: (r: AppendResult) => void
  reject: (err: unknown) => void
  baseOffset: number
}

interface FlushWaiter {
  resolve: () => void
  reject: (err: unknown) => void
}

const DEFAULTS = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  indexIntervalBytes: 4096,
  maxIndexBytes: 10 * 1024 * 1024,
  maxRecordBytes: 1024 * 1024,
  maxBatchBytes: 64 * 1024 * 1024,
  flush: 'interval' as FlushPolicy,
  flushIntervalMs: 1000,
  writeBehindBytes: 8 * 1024 * 1024,
  pollIntervalMs: 100,
}

/** Recovery point checkpoints are written at most this often after a sync (and always on open and close). */
const CHECKPOINT_INTERVAL_MS = 5000
/** Largest batch that recovery and reads accept as data: anything bigger is damage. */
const MAX_SANE_BATCH = 0x7fffffff
const MAX_RELATIVE_OFFSET = 0x7fffffff
/** How far ahead of the appends `preallocate` zero-fills the active segment. */
const PREALLOCATE_BYTES = 256 * 1024
/** blockingSync: larger syncs go to the thread pool, since their time grows with their bytes. */
const BLOCKING_SYNC_MAX_BYTES = 1024 * 1024
/**
 * blockingSync: when the running average of blocking syncs passes BLOCKING_SYNC_AVERAGE_MS, or
 * one takes over BLOCKING_SYNC_STALL_MS, the syncs of the next second go to the thread pool. An
 * average, because a sync that commits the file system's journal (the file grew) takes 2-4 ms here
 * now and then, and should not cost the whole speed-up.
 */
const BLOCKING_SYNC_AVERAGE_MS = 1
const BLOCKING_SYNC_STALL_MS = 20
const BLOCKING_SYNC_BACKOFF_MS = 1000
/** blockingSync: how long group-commit rounds may run back to back without a turn of the event loop. */
const BLOCKING_SYNC_YIELD_MS = 1
/** Rolled-away segments waiting for their sync (each holds a descriptor) before appends wait. */
const MAX_UNSYNCED_SEGMENTS = 32
/** Batches up to this size are encoded into the log's reused scratch buffer. */
const SCRATCH_LIMIT = 8 * 1024 * 1024
/** Closed segments whose indexes stay in memory. */
const LOADED_INDEX_LIMIT = 32

let sharedFiles: FileCache | null = null
const locksHeld = new Set<string>()

function checkOffset(offset: unknown, what = 'offset'): number {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidArgumentError(
      `${what} must be a non-negative integer, got ${typeof offset === 'number' ? offset : typeof offset}`,
      'SAMSA_INVALID_OFFSET',
    )
  }
  return offset
}

function positiveOption(name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new InvalidArgumentError(`option ${name} must be a positive number up to ${max}, got ${String(value)}`)
  }
  return value
}

export class Log {
  readonly dir: string
  readonly readOnly: boolean
  readonly flushPolicy: FlushPolicy
  /** What the last open found and did: set when recovery ran or repair truncated. */
  recovery: RecoveryReport | null = null

  private readonly io: FileIO
  private readonly config: SegmentConfig
  private readonly segmentBytes: number
  private readonly segmentMs: number
  private readonly maxRecordBytes: number
  private readonly maxBatchBytes: number
  private readonly flushIntervalMs: number
  private readonly writeBehindBytes: number
  private readonly blockingSync: boolean
  /** performance.now() before which blockingSync syncs go to the thread pool (the disk was slow). */
  private blockingSyncPausedUntil = 0
  /** Running average (1/8 weight to the newest) of blocking syncs, in ms. */
  private blockingSyncAverageMs = 0
  /** performance.now() when the flush loop last waited for a turn of the event loop. */
  private lastYield = 0
  /** Bytes appended since the last write-behind request. */
  private writtenBehind = 0
  private readonly pollIntervalMs: number
  private readonly now: () => number

  private segments: Segment[] = []
  private _logStartOffset = 0
  private _logEndOffset = 0
  private _highWatermark = 0
  private recoveryPoint = 0
  private lastCheckpointMs = 0
  private checkpointed: Checkpoint | null = null
  private closed = false
  private releaseLock: (() => void) | null = null

  /** 'always' appends waiting for the next group commit. */
  private pending: Pending[] = []
  /** Segments rolled away from but not yet synced; their write descriptors stay open until then. */
  private retired: Segment[] = []
  private flushWaiters: FlushWaiter[] = []
  private syncRequested = false
  private flushLoop: Promise<void> | null = null
  private flushTimer: NodeJS.Timeout | null = null
  private dataWaiters: (() => void)[] = []
  private readonly loadedIndexes = new Set<Segment>()
  /** The reused encoding buffer of non-'always' appends (see append). */
  private scratch: Buffer = Buffer.alloc(0)
  private readonly scratchFor = (size: number): Buffer => {
    if (size > SCRATCH_LIMIT) return Buffer.allocUnsafe(size)
    if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, Math.min(SCRATCH_LIMIT, this.scratch.length * 2)))
    return this.scratch
  }
  /**
   * What appendNow hands encodeBatch when the caller gives no options. Without 'always' the batch
   * is written before append returns, so one buffer serves every append; 'always' queues batches
   * for the next group commit, so each needs its own.
   */
  private readonly encodeOptions: BatchOptions

  /** Average stored bytes per record, to size reads that ask for few records. */
  private bytesPerRecord = 128
  /** Scans' read-ahead (read-ahead.ts), or null where it is off. */
  private readonly readAhead: ReadAhead | null

  private constructor(dir: string, options: LogOptions) {
    this.dir = dir
    this.readOnly = options.readOnly === true
    const flush = options.flush ?? DEFAULTS.flush
    if (flush !== 'always' && flush !== 'interval' && flush !== 'never') {
      throw new InvalidArgumentError(`option flush must be 'always', 'interval' or 'never', got ${String(flush)}`)
    }
    this.flushPolicy = flush
    this.io = options.io ?? defaultIO
    this.segmentBytes = positiveOption('segmentBytes', options.segmentBytes, DEFAULTS.segmentBytes, 0x7fffffff)
    this.segmentMs = positiveOption('segmentMs', options.segmentMs, DEFAULTS.segmentMs)
    this.maxRecordBytes = positiveOption('maxRecordBytes', options.maxRecordBytes, DEFAULTS.maxRecordBytes, 0x7fffffff)
    this.maxBatchBytes = positiveOption('maxBatchBytes', options.maxBatchBytes, DEFAULTS.maxBatchBytes, 0x7fffffff)
    this.flushIntervalMs = positiveOption('flushIntervalMs', options.flushIntervalMs, DEFAULTS.flushIntervalMs)
    this.writeBehindBytes =
      options.writeBehindBytes === 0 ? 0 : positiveOption('writeBehindBytes', options.writeBehindBytes, DEFAULTS.writeBehindBytes)
    if (options.blockingSync !== undefined && typeof options.blockingSync !== 'boolean') {
      throw new InvalidArgumentError(`option blockingSync must be true or false, got ${String(options.blockingSync)}`)
    }
    this.blockingSync = options.blockingSync === true && flush === 'always'
    if (options.readAhead !== undefined && typeof options.readAhead !== 'boolean') {
      throw new InvalidArgumentError(`option readAhead must be true or false, got ${String(options.readAhead)}`)
    }
    this.pollIntervalMs = positiveOption('pollIntervalMs', options.pollIntervalMs, DEFAULTS.pollIntervalMs)
    const maxIndexBytes = positiveOption('maxIndexBytes', options.maxIndexBytes, DEFAULTS.maxIndexBytes, 0x7fffffff)
    this.now = options.now ?? Date.now
    this.config = {
      io: this.io,
      files: options.files ?? (sharedFiles ??= new FileCache(512, defaultIO)),
      indexIntervalBytes: positiveOption('indexIntervalBytes', options.indexIntervalBytes, DEFAULTS.indexIntervalBytes),
      maxIndexEntries: Math.max(1, Math.floor(maxIndexBytes / 12)),
      maxBatchBytes: MAX_SANE_BATCH,
      readOnly: this.readOnly,
      preallocateBytes:
        !this.readOnly && (options.preallocate ?? flush === 'always') ? Math.min(PREALLOCATE_BYTES, this.segmentBytes) : 0,
      preallocateLimit: this.segmentBytes,
    }
    // A test's file layer must see every read, and a read-only log cannot know when the writer
    // truncates a segment under it.
    this.readAhead = options.readAhead !== false && !this.readOnly && this.io === defaultIO ? new ReadAhead(MAX_SANE_BATCH) : null
    this.encodeOptions = {
      timestamp: 0,
      maxRecordBytes: this.maxRecordBytes,
      allocate: this.flushPolicy === 'always' ? undefined : this.scratchFor,
    }
  }

  /** Open (creating if needed) the log in `dir`, recovering it first if it was not closed cleanly. */
  static async open(dir: string, options: LogOptions = {}): Promise<Log> {
    if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('Log.open needs a directory path')
    const log = new Log(dir, options)
    log.load(options.repair === true)
    return log
  }

  private load(repair: boolean): void {
    const io = this.io
    if (this.readOnly) {
      if (!io.existsSync(this.dir)) {
        throw new SamsaError('SAMSA_LOG_NOT_FOUND', `no log at ${this.dir}; check the path, or open it for writing to create it`)
      }
    } else {
      io.mkdirSync(this.dir)
      this.releaseLock = acquireLock(io, this.dir, locksHeld)
    }
    try {
      const checkpoint = readCheckpoint(io, this.dir)
      const state = this.readOnly
        ? loadSegments(this.dir, this.config, checkpoint, this.now())
        : recoverLog(this.dir, this.config, checkpoint, repair, this.now())
      this.segments = state.segments
      this.recovery = state.report
      this._logEndOffset = state.logEndOffset
      this._highWatermark = state.logEndOffset
      this._logStartOffset = Math.min(Math.max(state.logStartOffset, this.segments[0].baseOffset), state.logEndOffset)
      this.recoveryPoint = state.logEndOffset
      if (!this.readOnly) {
        this.writeCheckpointNow()
        clearCleanShutdown(io, this.dir)
        this.active.openForAppend()
        if (this.flushPolicy === 'interval') {
          this.flushTimer = setInterval(() => this.requestSync(), this.flushIntervalMs)
          this.flushTimer.unref()
        }
      }
    } catch (err) {
      for (const s of this.segments) s.close()
      this.releaseLock?.()
      throw err
    }
  }

  get logStartOffset(): number {
    return this._logStartOffset
  }

  /** The next offset to be assigned. */
  get logEndOffset(): number {
    return this._logEndOffset
  }

  /** One past the last offset readers can see (with 'always', the last fsynced). */
  get highWatermark(): number {
    return this._highWatermark
  }

  /** Bytes on disk in the .log files. */
  get size(): number {
    let total = 0
    for (const s of this.segments) total += s.size
    return total
  }

  get segmentCount(): number {
    return this.segments.length
  }

  /** @internal Read-ahead chunks handed to reads, and chunks waited for in vain; null where it is off. */
  get readAheadStats(): { served: number; missed: number } | null {
    return this.readAhead === null ? null : { served: this.readAhead.served, missed: this.readAhead.missed }
  }

  get isClosed(): boolean {
    return this.closed
  }

  listSegments(): SegmentInfo[] {
    return this.segments.map((s) => this.segmentInfo(s))
  }

  private segmentInfo(s: Segment): SegmentInfo {
    const largestTimestamp = s.size === 0 ? -1 : s.largestTimestamp()
    this.trackIndexes(s)
    return { baseOffset: s.baseOffset, size: s.size, file: s.logFile, largestTimestamp }
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]
  }

  private checkWritable(): void {
    if (this.closed) throw new LogClosedError(this.dir)
    if (this.readOnly) throw new ReadOnlyError(this.dir)
  }

  // -------------------------------------------------------------------------------------------
  // Appending

  /** Append records as one batch. Resolves once they are written (and, with 'always', synced). */
  append(records: ReadonlyArray<RecordInput>, options?: BatchOptions): Promise<AppendResult> {
    return this.admit(() => this.appendNow(records, options))
  }

  /**
   * Append a RecordBatch v2 that was encoded elsewhere (a Kafka client's produce request) as it
   * is: it is checked (sizes, magic, CRC) and only its baseOffset is rewritten.
   */
  appendBatch(batch: Buffer): Promise<AppendResult> {
    return this.admit(() => this.appendBatchNow(batch))
  }

  /**
   * The way in for both appends. Not an async function: the promise enqueue makes is the one the
   * caller awaits, without the microtask hops of wrapping it (they add up with many small
   * concurrent appends), and the batch reaches the log before append returns, which the Kafka
   * server relies on to keep overlapping Produce requests in order. Errors become rejections.
   */
  private admit(write: () => Promise<AppendResult>): Promise<AppendResult> {
    try {
      this.checkWritable()
      // Each rolled-away segment keeps its write descriptor until it is synced; when rolls outpace
      // syncs (tiny segments, a slow disk), wait for the flusher rather than run out of descriptors.
      if (this.retired.length >= MAX_UNSYNCED_SEGMENTS) {
        return this.idle().then(() => {
          this.checkWritable()
          return write()
        })
      }
      return write()
    } catch (err) {
      return Promise.reject(err)
    }
  }

  private appendNow(records: ReadonlyArray<RecordInput>, options: BatchOptions | undefined): Promise<AppendResult> {
    if (!Array.isArray(records)) throw new InvalidArgumentError('append takes an array of records')
    if (records.length === 0) throw new InvalidArgumentError('append needs at least one record', 'SAMSA_EMPTY_APPEND')
    let encodeOptions = this.encodeOptions
    if (options === undefined) {
      // The common case: one options object for every append (encodeBatch is synchronous).
      encodeOptions.timestamp = this.now()
    } else {
      encodeOptions = { ...options, timestamp: options.timestamp ?? this.now(), maxRecordBytes: this.maxRecordBytes, allocate: encodeOptions.allocate }
    }
    const batch = encodeBatch(records, encodeOptions)
    return this.enqueue(batch, records.length, readInt64(batch, MAX_TIMESTAMP_OFFSET))
  }

  private appendBatchNow(batch: Buffer): Promise<AppendResult> {
    if (!Buffer.isBuffer(batch)) throw new InvalidArgumentError('appendBatch takes a Buffer holding one RecordBatch')
    const problem = checkBatch(batch, 0, batch.length)
    if (problem !== null) {
      throw new SamsaError('SAMSA_CORRUPT_BATCH', `${problem}; the producer must send a valid RecordBatch v2`)
    }
    if (batch.readInt32BE(8) + 12 !== batch.length) {
      throw new SamsaError('SAMSA_CORRUPT_BATCH', 'the buffer must hold exactly one RecordBatch, with no bytes after it')
    }
    const count = batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET) + 1
    return this.enqueue(batch, count, readInt64(batch, MAX_TIMESTAMP_OFFSET))
  }

  private enqueue(batch: Buffer, count: number, maxTimestamp: number): Promise<AppendResult> {
    if (batch.length > this.maxBatchBytes) throw new RecordTooLargeError(batch.length, this.maxBatchBytes, 'batch')
    if (this.flushPolicy !== 'always') {
      const item: Pending = { batch, count, maxTimestamp, resolve: noop, reject: noop, baseOffset: -1 }
      const failed = this.writeGroup([item])
      if (failed !== null) throw failed
      if (this.writeBehindBytes > 0 && (this.writtenBehind += batch.length) >= this.writeBehindBytes) {
        // Busy with the previous request: try again at the next append.
        if (this.active.writeBehind()) this.writtenBehind = 0
      }
      this._highWatermark = this._logEndOffset
      this.wakeReaders()
      return Promise.resolve({ baseOffset: item.baseOffset, lastOffset: item.baseOffset + count - 1 })
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ batch, count, maxTimestamp, resolve, reject, baseOffset: -1 })
      this.startFlushLoop()
    })
  }

  /**
   * Write a group of batches, giving each its offsets, in as few writev calls as segment rolls
   * allow. Returns the error that stopped it, or null; items after a failure are rejected and
   * get no offsets (their `baseOffset` stays -1).
   */
  private writeGroup(items: Pending[]): SamsaError | null {
    let run: Buffer[] = []
    let runItems: Pending[] = []
    let runBytes = 0
    let next = this._logEndOffset
    const flushRun = (): void => {
      if (run.length === 0) return
      const seg = this.active
      let pos = seg.size
      seg.write(run, runBytes)
      for (const item of runItems) {
        seg.onBatchWritten(pos, item.batch.length, item.baseOffset + item.count - 1, item.maxTimestamp)
        pos += item.batch.length
      }
      this._logEndOffset = next
      this.bytesPerRecord = (this.bytesPerRecord * 3 + runBytes / (next - runItems[0].baseOffset)) / 4
      run = []
      runItems = []
      runBytes = 0
    }
    try {
      for (const item of items) {
        if (this.mustRoll(runBytes, runItems, next, item)) {
          flushRun()
          this.roll()
        }
        item.baseOffset = next
        setBaseOffset(item.batch, 0, next)
        next += item.count
        run.push(item.batch)
        runItems.push(item)
        runBytes += item.batch.length
      }
      flushRun()
      return null
    } catch (err) {
      // Segment.write cut the failed run back; the offsets it would have used are free again.
      this._logEndOffset = this.active.nextOffset
      for (const item of items) if (item.baseOffset >= this._logEndOffset) item.baseOffset = -1
      if (err instanceof SamsaError) return err
      return new StorageError(`append to ${this.active.logFile} failed and was rolled back`, err)
    }
  }

  /**
   * Whether the active segment, holding `runBytes` more bytes not yet written, must roll before
   * `item`: Kafka's rules of size, age (from the first batch's timestamp), a full index, and a
   * relative offset that would no longer fit an int32.
   */
  private mustRoll(runBytes: number, runItems: Pending[], next: number, item: Pending): boolean {
    const seg = this.active
    const size = seg.size + runBytes
    if (size === 0) return false
    if (size > this.segmentBytes - item.batch.length) return true
    const first = seg.firstBatchTimestamp >= 0 ? seg.firstBatchTimestamp : runItems.length > 0 ? runItems[0].maxTimestamp : -1
    if (first >= 0 && item.maxTimestamp - first > this.segmentMs) return true
    if (seg.index.isFull || seg.timeIndex.isFull) return true
    return next + item.count - 1 - seg.baseOffset > MAX_RELATIVE_OFFSET
  }

  /** Start a new active segment at the log end. The old one is synced by the flusher. */
  private roll(): void {
    const old = this.active
    if (old.size === 0) return
    // Before the next segment exists: a reader or recovery that finds a later segment takes this
    // one's file length as its end.
    old.trimPreallocated()
    const created = Segment.create(this.dir, this._logEndOffset, this.config, this.now())
    try {
      // fdatasync of the new file does not make its name durable: without this, a power loss could
      // take a whole segment of acknowledged records with it. Rolls are rare; one fsync each is cheap.
      if (this.flushPolicy !== 'never') this.io.fsyncDirSync(this.dir)
      old.sealIndexes()
    } catch (err) {
      // Not rolled: the old segment stays active. The new file must go, or at the next open it
      // would sit among the segments claiming offsets that the old one goes on to hold.
      try {
        created.delete()
      } catch {
        // Left as a .deleted file (removed at the next open) or, at worst, an empty segment.
      }
      throw err
    }
    this.retired.push(old)
    this.segments.push(created)
    this.trackIndexes(old)
    this.requestSync()
  }

  // -------------------------------------------------------------------------------------------
  // Syncing: one loop, so that no two syncs of a descriptor overlap and a group forms behind each.

  private startFlushLoop(): Promise<void> {
    if (this.flushLoop === null) {
      this.flushLoop = this.runFlushLoop().finally(() => {
        this.flushLoop = null
        // Work that arrived between the loop's last check and now (appenders released by the last
        // group append again at once) must not wait for the next unrelated append to start a sync.
        if (this.pending.length > 0 || this.flushWaiters.length > 0 || this.syncRequested) void this.startFlushLoop()
      })
    }
    return this.flushLoop
  }

  /** Ask for a sync of everything written so far (the interval timer, a roll, flush()). */
  private requestSync(): void {
    if (this.closed && this.flushLoop === null) return
    if (this._logEndOffset === this.recoveryPoint && this.retired.length === 0 && this.flushWaiters.length === 0) return
    this.syncRequested = true
    void this.startFlushLoop()
  }

  /**
   * One write+fdatasync in flight at a time, by design. Linux reports a writeback error to only
   * one of the fsyncs that share a file description, so a concurrent one can return success over
   * pages whose write failed; overlapping syncs are only safe each on a description of its own.
   * That was built and measured (2026-11-29, one process alternating with this code): 64 appenders
   * of single records got 0.87-1.09x, since two syncs in flight each took ~35% longer on this disk
   * and the groups halved. Throughput comes from grouping, and from preallocation instead.
   */
  private async runFlushLoop(): Promise<void> {
    // Let appends made in the same tick join the first group. A blocking sync never returns to the
    // event loop, so appenders that append again as soon as they are acknowledged would run round
    // after round in microtasks, and timers and I/O would wait until they stopped: with
    // blockingSync, a round that starts over BLOCKING_SYNC_YIELD_MS after the loop last yielded
    // waits for a turn of the event loop first (waiting every round would cost one appender ~15%).
    if (this.blockingSync && performance.now() - this.lastYield > BLOCKING_SYNC_YIELD_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve))
      this.lastYield = performance.now()
    } else {
      await Promise.resolve()
    }
    while (this.pending.length > 0 || this.syncRequested || this.flushWaiters.length > 0) {
      const group = this.pending
      const waiters = this.flushWaiters
      this.pending = []
      this.flushWaiters = []
      this.syncRequested = false

      const failed = group.length > 0 ? this.writeGroup(group) : null
      const target = this._logEndOffset
      // Retired segments take no more writes, so this sync covers them whole. The active one may
      // be retired (a roll by an append under 'interval') while its sync runs, with bytes written
      // after the sync began: it stays retired, for the next sync.
      const retired = [...this.retired]
      let syncError: unknown = null
      if (retired.length === 0) {
        if (target > this.recoveryPoint || waiters.length > 0) {
          try {
            if (this.blockingSync && this.mayBlock(group)) {
              this.syncBlocking()
            } else {
              await this.active.sync()
            }
          } catch (err) {
            syncError = err
          }
        }
      } else {
        // allSettled: every sync must be over before a descriptor may be closed.
        const synced = [...retired, this.active]
        for (const r of await Promise.allSettled(synced.map((s) => s.sync()))) {
          if (r.status === 'rejected' && syncError === null) syncError = r.reason
        }
      }
      if (syncError !== null) {
        // What we wrote may not be on disk: cut the log back to what is, so that nothing a reader
        // could see or a caller was told about can disappear later.
        const error = new StorageError(`fdatasync of ${this.dir} failed; unsynced appends were rolled back`, syncError)
        try {
          this.truncateUnsynced()
        } catch {
          // The truncation itself failed; recovery at the next open removes the unsynced tail.
        }
        for (const item of group) item.reject(error)
        for (const w of waiters) w.reject(error)
        continue
      }
      for (const s of retired) if (this.retired.includes(s)) s.closeWriter()
      if (retired.length > 0) this.retired = this.retired.filter((s) => !retired.includes(s))
      this.recoveryPoint = Math.max(this.recoveryPoint, target)
      if (this._highWatermark < target) {
        this._highWatermark = target
        this.wakeReaders()
      }
      for (const item of group) {
        if (item.baseOffset >= 0) item.resolve({ baseOffset: item.baseOffset, lastOffset: item.baseOffset + item.count - 1 })
        else item.reject(failed ?? new StorageError('append was not written', null))
      }
      for (const w of waiters) w.resolve()
      if (this.now() - this.lastCheckpointMs >= CHECKPOINT_INTERVAL_MS) this.writeCheckpointNow()
    }
  }

  /** blockingSync: whether this sync may block (with 'always' it covers just the group's bytes). */
  private mayBlock(group: Pending[]): boolean {
    if (performance.now() < this.blockingSyncPausedUntil) return false
    let bytes = 0
    for (const item of group) bytes += item.batch.length
    return bytes <= BLOCKING_SYNC_MAX_BYTES
  }

  /** blockingSync: the active segment's fdatasync on the event loop, timed to catch a slow disk. */
  private syncBlocking(): void {
    const start = performance.now()
    try {
      this.active.syncSync()
    } finally {
      const end = performance.now()
      const ms = end - start
      this.blockingSyncAverageMs += (ms - this.blockingSyncAverageMs) / 8
      if (this.blockingSyncAverageMs > BLOCKING_SYNC_AVERAGE_MS || ms > BLOCKING_SYNC_STALL_MS) {
        this.blockingSyncPausedUntil = end + BLOCKING_SYNC_BACKOFF_MS
        this.blockingSyncAverageMs = 0
      }
    }
  }

  /** After a failed sync: drop every batch above the high watermark. */
  private truncateUnsynced(): void {
    this.truncateTo(this._highWatermark)
    this._logEndOffset = this._highWatermark
  }

  /** Remove every record at or above `offset` (a batch boundary). */
  private truncateTo(offset: number): void {
    while (this.segments.length > 1 && this.active.baseOffset >= offset) {
      const seg = this.segments.pop() as Segment
      this.retired = this.retired.filter((s) => s !== seg)
      seg.delete()
    }
    const seg = this.active
    // The segment is active again: no longer retired, or the flusher would close its descriptor
    // after the next sync while appends still go to it.
    this.retired = this.retired.filter((s) => s !== seg)
    this.loadedIndexes.delete(seg)
    seg.openForAppend()
    const position = offset <= seg.baseOffset ? 0 : seg.findPosition(offset, seg.size)
    if (position >= 0) seg.truncateToSize(position, Math.max(offset, seg.baseOffset))
    this._logEndOffset = seg.nextOffset
    if (this.recoveryPoint > this._logEndOffset) this.recoveryPoint = this._logEndOffset
  }

  /** fdatasync everything appended so far. */
  async flush(): Promise<void> {
    if (this.closed) throw new LogClosedError(this.dir)
    if (this.readOnly) return
    await new Promise<void>((resolve, reject) => {
      this.flushWaiters.push({ resolve, reject })
      void this.startFlushLoop()
    })
  }

  private writeCheckpointNow(): void {
    const cp = { logStartOffset: this._logStartOffset, recoveryPoint: this.recoveryPoint }
    this.lastCheckpointMs = this.now()
    if (this.checkpointed !== null && this.checkpointed.logStartOffset === cp.logStartOffset && this.checkpointed.recoveryPoint === cp.recoveryPoint) return
    writeCheckpoint(this.io, this.dir, cp)
    this.checkpointed = cp
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  private checkReadable(): void {
    if (this.closed) throw new LogClosedError(this.dir)
  }

  /** Index of the segment that holds `offset`: the last with baseOffset <= offset. */
  private segmentIndexFor(offset: number): number {
    let lo = 0
    let hi = this.segments.length - 1
    let found = 0
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.segments[mid].baseOffset <= offset) {
        found = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }

  /** Closed segments' indexes are loaded on demand; keep only the most recent few in memory. */
  private trackIndexes(seg: Segment): void {
    if (seg === this.active) return
    this.loadedIndexes.delete(seg)
    this.loadedIndexes.add(seg)
    while (this.loadedIndexes.size > LOADED_INDEX_LIMIT) {
      const oldest = this.loadedIndexes.values().next().value as Segment
      this.loadedIndexes.delete(oldest)
      oldest.unloadIndexes()
    }
  }

  /**
   * Records with offset >= `offset`, in order, up to `maxBytes` of batches and `maxRecords`
   * records. At least one record is returned if one exists, however large.
   * A damaged batch (SAMSA_CORRUPT_BATCH) ends the read before it: the records before it are
   * returned, and a read that starts at it throws, naming the file and the byte position.
   * A read at exactly the high watermark returns no records: that is the tail of a live log.
   * It reads a microtask after the call (see below): what is there then, and a close() in
   * between rejects it as a read after close does. `readSync` reads at the call.
   */
  async read(offset: number, options: ReadOptions = {}): Promise<LogRecord[]> {
    // The records are built once the caller has suspended at its `await`, not during the call.
    // A caller that writes `const records = await log.read(...)` in a loop still holds the
    // previous read's records in its running frame during the call, so building the next ones
    // there kept both alive through every young collection; a suspended caller keeps only what
    // it will use. Measured in one process, alternating: 1 MiB reads of 100 B records ~15% faster.
    await undefined
    return this.readSync(offset, options)
  }

  /** `read`, synchronously: the bytes come from the page cache or a local disk. */
  readSync(offset: number, options: ReadOptions = {}): LogRecord[] {
    this.checkReadable()
    checkOffset(offset)
    const maxBytes = options.maxBytes ?? 1024 * 1024
    const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY
    if (!(maxBytes > 0)) throw new InvalidArgumentError(`maxBytes must be positive, got ${maxBytes}`)
    if (!(maxRecords > 0)) throw new InvalidArgumentError(`maxRecords must be positive, got ${maxRecords}`)
    // A read-only view only needs another look at the files when the reader has caught up with it.
    if (this.readOnly && offset >= this._highWatermark) this.refresh()
    if (offset < this._logStartOffset || offset > this._logEndOffset) {
      throw new OffsetOutOfRangeError(offset, this._logStartOffset, this._logEndOffset)
    }
    const out = options.into ?? []
    const hw = this._highWatermark
    if (offset >= hw) return out
    const first = out.length
    const limit = first + maxRecords
    const source = options.source ?? null
    let consumed = 0
    let from = offset
    try {
      for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
        const seg = this.segments[i]
        const end = seg.size
        const position = seg.findPosition(from, end)
        this.trackIndexes(seg)
        if (position >= 0) {
          const hint = maxRecords === Number.POSITIVE_INFINITY ? maxBytes : Math.max(16 * 1024, (limit - out.length) * this.bytesPerRecord * 2)
          const ahead = this.readAhead
          const n = seg.readRecords(position, end, from, out, first, limit, maxBytes - consumed, hint, hw, source, ahead)
          consumed += n
          // Stopped inside this segment (byte budget, high watermark): the next segment must not be
          // read, or the batches left here would be skipped.
          if (position + n < end) {
            // A scan's next read starts here: have the bytes read ahead (read-ahead.ts), in chunks of
            // two reads (measured: 100 B records, 1 MiB reads, ~1.1x the records a second of chunks
            // of one read; four reads gain nothing more).
            const resume = seg.resumePosition
            if (ahead !== null && n >= READ_AHEAD_MIN_BYTES && resume < end) {
              ahead.prefetch(seg, resume, 2 * Math.max(READ_AHEAD_MIN_BYTES, Math.min(maxBytes, hint)), end)
            }
            break
          }
        }
        if (out.length >= limit || consumed >= maxBytes) break
        if (out.length > first) from = out[out.length - 1].offset + 1
        if (from >= hw) break
      }
    } catch (err) {
      // Damage after good records: return those, as Kafka's consumer does; the next read starts
      // at the damaged batch and gets the error. (A batch's records go out whole or not at all:
      // it is checked, and its records parsed, before any of them is built.)
      if (err instanceof CorruptBatchError && out.length > first) return out
      throw err
    }
    return out
  }

  /**
   * The stored bytes of the batches holding offsets >= `offset` and below the high watermark, as
   * they are on disk (for a Kafka Fetch, served without re-encoding): whole batches up to
   * `maxBytes`, but never nothing when a batch exists, however large the first one is. The first
   * batch may start below `offset`; Kafka clients skip such records. One Buffer per segment read.
   * Clients check CRCs; this checks lengths, and a damaged one ends the answer before it (the
   * next fetch, starting there, throws SAMSA_CORRUPT_BATCH).
   */
  readBatchBytes(offset: number, maxBytes: number): Buffer[] {
    this.checkReadable()
    checkOffset(offset)
    if (this.readOnly && offset >= this._highWatermark) this.refresh()
    if (offset < this._logStartOffset || offset > this._logEndOffset) {
      throw new OffsetOutOfRangeError(offset, this._logStartOffset, this._logEndOffset)
    }
    const out: Buffer[] = []
    const hw = this._highWatermark
    let consumed = 0
    for (let i = this.segmentIndexFor(offset); i < this.segments.length && offset < hw; i++) {
      const seg = this.segments[i]
      const end = seg.size
      let position: number
      try {
        position = seg.findPosition(offset, end)
      } catch (err) {
        // A damaged header at the start of a later segment: what came before it goes out.
        if (err instanceof CorruptBatchError && out.length > 0) break
        throw err
      }
      this.trackIndexes(seg)
      if (position < 0) continue
      // One read of what the byte budget allows, cut at the last whole batch in memory: every
      // byte is read once (a header scan first would read large batches twice).
      let buf = seg.readBytes(position, Math.min(end - position, Math.max(maxBytes - consumed, BATCH_HEADER_SIZE)))
      let at = 0
      let full = false
      while (at + BATCH_HEADER_SIZE <= buf.length) {
        const size = buf.readInt32BE(at + LENGTH_OFFSET) + LOG_OVERHEAD
        if (size < BATCH_HEADER_SIZE || position + at + size > end) {
          // As `readSync`: the batches before the damage go out, and the next fetch fails at it.
          if (consumed > 0) {
            full = true
            break
          }
          throw new CorruptBatchError(`batch length ${size - LOG_OVERHEAD} is out of bounds`, seg.logFile, position + at)
        }
        if (readInt64(buf, at) >= hw || (consumed > 0 && consumed + size > maxBytes)) {
          full = true
          break
        }
        if (at + size > buf.length) {
          // Only the first batch may exceed the budget (a fetch always returns at least one).
          if (consumed > 0 || at > 0) {
            full = true
            break
          }
          buf = seg.readBytes(position, size)
          if (buf.length < size) throw new CorruptBatchError(`truncated batch: ${buf.length} of ${size} bytes present`, seg.logFile, position)
        }
        consumed += size
        at += size
      }
      if (at > 0) out.push(buf.subarray(0, at))
      // Stopped inside this segment (the budget ran out): the rest waits for the next fetch. (With
      // under a header of budget left no later batch could fit anyway; this says so outright.)
      if (at < buf.length) full = true
      if (full || consumed >= maxBytes) break
    }
    return out
  }


  /** The first offset whose timestamp is >= `timestamp`, or null if there is none. */
  async offsetForTimestamp(timestamp: number): Promise<number | null> {
    this.checkReadable()
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
      throw new InvalidArgumentError(`timestamp must be milliseconds since the epoch, got ${String(timestamp)}`)
    }
    if (this.readOnly) this.refresh()
    for (const seg of this.segments) {
      if (seg.size === 0) continue
      if (seg !== this.active && seg.largestTimestamp() < timestamp) {
        this.trackIndexes(seg)
        continue
      }
      // Records below the log start are gone even where their batch remains: look past them.
      const found = seg.findByTimestamp(timestamp, seg.size, this._highWatermark, this._logStartOffset)
      this.trackIndexes(seg)
      if (found !== null) return found.offset
    }
    return null
  }

  /** Resolves once the high watermark passes `offset`, or after `timeoutMs`, or on abort. */
  waitForData(offset: number, timeoutMs = Number.POSITIVE_INFINITY, signal?: AbortSignal): Promise<boolean> {
    if (this._highWatermark > offset) return Promise.resolve(true)
    if (this.closed || signal?.aborted) return Promise.resolve(false)
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null
      let poll: NodeJS.Timeout | null = null
      const done = (value: boolean): void => {
        if (timer !== null) clearTimeout(timer)
        if (poll !== null) clearInterval(poll)
        signal?.removeEventListener('abort', onAbort)
        const i = this.dataWaiters.indexOf(wake)
        if (i >= 0) this.dataWaiters.splice(i, 1)
        resolve(value)
      }
      const wake = (): void => {
        if (this._highWatermark > offset || this.closed) done(this._highWatermark > offset)
      }
      const onAbort = (): void => done(false)
      this.dataWaiters.push(wake)
      signal?.addEventListener('abort', onAbort, { once: true })
      if (timeoutMs !== Number.POSITIVE_INFINITY) timer = setTimeout(() => done(false), timeoutMs)
      if (this.readOnly) {
        // Another process appends: look at the files now and then. Only read-only logs poll.
        poll = setInterval(() => {
          try {
            this.refresh()
          } catch {
            // A transient state of the writer's files; the next poll or read reports real damage.
          }
          wake()
        }, this.pollIntervalMs)
      }
    })
  }

  private wakeReaders(): void {
    if (this.dataWaiters.length === 0) return
    for (const wake of [...this.dataWaiters]) wake()
  }

  /**
   * Records from `from` (default: the log start) on, as an async iterator. With `follow` it waits
   * for appends instead of ending at the tail; `signal` ends it.
   */
  async *stream(options: StreamOptions = {}): AsyncGenerator<LogRecord, void, undefined> {
    let next = options.from ?? this._logStartOffset
    checkOffset(next, 'from')
    const { follow = false, signal } = options
    while (!signal?.aborted) {
      if (this.closed) return
      const records = this.readSync(next, { maxBytes: options.maxBytes ?? 1024 * 1024 })
      if (records.length === 0) {
        if (!follow) return
        await this.waitForData(next, Number.POSITIVE_INFINITY, signal)
        continue
      }
      for (const r of records) {
        if (signal?.aborted) return
        yield r
      }
      next = records[records.length - 1].offset + 1
    }
  }

  /** For read-only logs: pick up segments and batches another process appended since the last look. */
  refresh(): void {
    if (!this.readOnly || this.closed) return
    const state = loadSegments(this.dir, this.config, readCheckpoint(this.io, this.dir), this.now(), this.segments)
    this.segments = state.segments
    this._logEndOffset = state.logEndOffset
    this._highWatermark = state.logEndOffset
    this._logStartOffset = Math.min(Math.max(state.logStartOffset, this.segments[0].baseOffset), state.logEndOffset)
    this.wakeReaders()
  }

  // -------------------------------------------------------------------------------------------
  // Deleting and closing

  /**
   * Move the log start to `offset` and delete the segments wholly below it. Records below the new
   * start are never returned again, even where they share a segment with records above it.
   */
  async deleteRecordsBefore(offset: number): Promise<{ logStartOffset: number; deletedSegments: number }> {
    this.checkWritable()
    checkOffset(offset)
    if (offset > this._highWatermark) throw new OffsetOutOfRangeError(offset, this._logStartOffset, this._highWatermark)
    if (offset <= this._logStartOffset) return { logStartOffset: this._logStartOffset, deletedSegments: 0 }
    this._logStartOffset = offset
    // The new start is durable before any file goes, so a crash in between only leaves files
    // that the next open deletes.
    this.writeCheckpointNow()
    return { logStartOffset: offset, deletedSegments: await this.deleteSegmentsBelowStart() }
  }

  /** Delete segments whose every offset is below the log start; roll first if that includes the active one. */
  private async deleteSegmentsBelowStart(): Promise<number> {
    await this.idle()
    const active = this.active
    if (active.size > 0 && active.nextOffset <= this._logStartOffset && this._logEndOffset === this._highWatermark) {
      this.roll()
      await this.idle()
    }
    let deleted = 0
    while (this.segments.length > 1 && this.segments[1].baseOffset <= this._logStartOffset) {
      const seg = this.segments.shift() as Segment
      this.loadedIndexes.delete(seg)
      this.retired = this.retired.filter((s) => s !== seg)
      seg.delete()
      deleted++
    }
    return deleted
  }

  /**
   * Kafka's retention (deleteOldSegments): the oldest whole segments whose largest timestamp is
   * more than `retentionMs` before `now`, then the oldest whole segments while the log stays over
   * `retentionBytes` without them. Only a prefix of the log goes, and only segments wholly below
   * the high watermark. When that is every segment, the active one is rolled first, so the log
   * end offset stays where it was. Deletion moves the log start first (see deleteRecordsBefore),
   * so a crash part-way leaves only files the next open removes.
   */
  async enforceRetention(options: RetentionOptions = {}): Promise<RetentionResult> {
    // A dry run only looks, so a read-only view of a live log can answer it.
    if (options.dryRun === true) this.checkReadable()
    else this.checkWritable()
    if (this.readOnly) this.refresh()
    await this.idle()
    const now = options.now ?? this.now()
    const retentionMs = options.retentionMs ?? -1
    const retentionBytes = options.retentionBytes ?? -1
    const segs = this.segments
    const hw = this._highWatermark
    const deletable = (i: number): boolean =>
      i < segs.length - 1 ? segs[i + 1].baseOffset <= hw : segs[i].size > 0 && segs[i].nextOffset <= hw
    let count = 0
    if (retentionMs >= 0) {
      while (count < segs.length && deletable(count) && now - segs[count].largestTimestamp() > retentionMs) count++
    }
    if (retentionBytes >= 0) {
      let excess = this.size - retentionBytes
      for (let i = 0; i < count; i++) excess -= segs[i].size
      while (count < segs.length && deletable(count) && excess - segs[count].size >= 0) {
        excess -= segs[count].size
        count++
      }
    }
    if (count === 0) return { deleted: [], logStartOffset: this._logStartOffset }
    const deleted = segs.slice(0, count).map((s) => this.segmentInfo(s))
    const target = count < segs.length ? segs[count].baseOffset : this._logEndOffset
    if (options.dryRun === true) return { deleted, logStartOffset: Math.max(target, this._logStartOffset) }
    const { logStartOffset } = await this.deleteRecordsBefore(target)
    return { deleted, logStartOffset }
  }

  /**
   * Visit the header of every batch holding offsets >= `from` (default: the log start) and below
   * the high watermark, oldest first, without decoding records; `visit` returns false to stop.
   * For rebuilding state kept beside the log, such as producer sequences.
   */
  scanBatchHeaders(from: number, visit: (header: BatchHeader) => boolean | void): void {
    this.checkReadable()
    checkOffset(from, 'from')
    const hw = this._highWatermark
    let stopped = false
    for (let i = this.segmentIndexFor(from); i < this.segments.length && !stopped; i++) {
      const seg = this.segments[i]
      const position = seg.findPosition(from, seg.size)
      this.trackIndexes(seg)
      if (position < 0) continue
      const end = seg.walk(position, seg.size, false, (buf, at) => {
        const header = readBatchHeader(buf, at)
        if (header.baseOffset >= hw || visit(header) === false) {
          stopped = true
          return false
        }
        return true
      })
      if (end.problem !== null) throw new CorruptBatchError(end.problem, seg.logFile, end.position)
    }
  }

  /** Resolve when no sync is in flight. */
  private async idle(): Promise<void> {
    while (this.flushLoop !== null) await this.flushLoop.catch(noop)
  }

  /** Flush everything, record a clean shutdown and release the directory. */
  async close(): Promise<void> {
    if (this.closed) return
    this.readAhead?.close()
    if (this.flushTimer !== null) clearInterval(this.flushTimer)
    this.flushTimer = null
    if (!this.readOnly) {
      await this.idle()
      let syncFailed = false
      try {
        await this.flush()
      } catch {
        syncFailed = true
      }
      this.closed = true
      await this.idle()
      if (!syncFailed && this._logEndOffset > this.recoveryPoint) {
        // Appends that came in after the flush above ('interval' and 'never' write at once): the
        // clean-shutdown marker must not vouch for bytes that were never synced.
        try {
          for (const s of [...this.retired, this.active]) s.syncSync()
        } catch {
          syncFailed = true
        }
      }
      if (!syncFailed) {
        // The zeros past the last batch go, and the cut is synced before the marker vouches for it.
        try {
          if (this.active.trimPreallocated()) this.active.syncSync()
        } catch {
          syncFailed = true
        }
      }
      this.active.sealIndexes()
      for (const s of this.segments) s.close()
      if (!syncFailed) {
        this.recoveryPoint = this._logEndOffset
        this.writeCheckpointNow()
        markCleanShutdown(this.io, this.dir)
      }
      this.releaseLock?.()
    } else {
      this.closed = true
      for (const s of this.segments) s.close()
    }
    this.wakeReaders()
  }
}

function noop(): void {}

export type { LogRecord, RecordInput }
