/**
 * One segment of a partition: `<baseOffset>.log` with its `.index` and `.timeindex`.
 *
 * Invariants:
 * - `size` bytes of the .log are whole, valid batches with contiguous offsets; the active segment
 *   never has bytes past `size` that a reader may see (a failed write is truncated back).
 * - A closed segment holds no descriptor and no index in memory until a read needs them; the
 *   descriptor comes from the shared FileCache and the index is dropped again by the log's LRU.
 * - Nothing in a segment is fsynced here: the log decides when (see log.ts).
 */
import * as path from 'node:path'
import type { FileCache } from './file-cache.js'
import { type FileIO, readFully } from './file-io.js'
import { IndexCorruptError } from './index-file.js'
import { OffsetIndex } from './offset-index.js'
import {
  BATCH_HEADER_SIZE,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  buildRecords,
  checkBatch,
  decodeRecords,
  isControlBatch,
  type LogRecord,
  type RecordSource,
  readInt64,
} from './record-batch.js'
import { CorruptBatchError } from './errors.js'
import type { Chunk, ReadAhead } from './read-ahead.js'
import { BATCH_STRIDE, KIND_DECODE, KIND_INDEXED } from './read-ahead-worker.js'
import { TimeIndex } from './time-index.js'

export const LOG_SUFFIX = '.log'
export const INDEX_SUFFIX = '.index'
export const TIME_INDEX_SUFFIX = '.timeindex'
export const DELETED_SUFFIX = '.deleted'

const SCAN_CHUNK = 64 * 1024

export function segmentBaseName(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0')
}

/** The base offset a segment file is named for, or null if the name is not a segment's. */
export function parseSegmentName(name: string): number | null {
  const m = /^(\d{20})\.log$/.exec(name)
  if (m === null) return null
  const n = Number(m[1])
  return Number.isSafeInteger(n) ? n : null
}

/** Source of preallocation zeros (never written to). */
const ZEROS = Buffer.alloc(1024 * 1024)

export interface SegmentConfig {
  io: FileIO
  files: FileCache
  indexIntervalBytes: number
  maxIndexEntries: number
  /** Any batch bigger than this is damage, not data. */
  maxBatchBytes: number
  /** Never write: indexes rebuilt for a read-only log stay in memory. */
  readOnly: boolean
  /**
   * Zero-fill the .log this far ahead of the write position (0: never). With zeros already in
   * place an append changes neither the file's size nor its block map, so its fdatasync writes
   * the data and flushes the disk cache without an ext4 journal commit: about 1.3-1.5x the syncs
   * per second on this machine's disk for small appends. Writes over a quarter of this go
   * without. The zeros past `size` are never data: readers stop at `size`, read-only tailers and
   * recovery stop at the first invalid batch (a zero length), and the writer cuts them off when
   * it rolls or closes.
   */
  preallocateBytes?: number
  /** Never zero-fill past this file length (the log's segmentBytes); a write itself may pass it. */
  preallocateLimit?: number
}

/** Where a scan of the segment stopped, and why. */
export interface ScanResult {
  /** Bytes of whole, valid, contiguous batches from the start of the segment. */
  validBytes: number
  /** One past the last offset of those batches (the base offset if there are none). */
  nextOffset: number
  records: number
  /** Why the byte at validBytes is not the start of a valid batch; null if it is the end of the file. */
  problem: string | null
  /** The offset the batch at validBytes should have started with. */
  expectedOffset: number
}

/** Segment.resumePosition after the batch at `at` in `buf` (file position `filePos`) was decoded into `out`. */
function resumeAfter(buf: Buffer, at: number, filePos: number, size: number, out: LogRecord[], maxRecords: number): number {
  if (out.length < maxRecords) return filePos + size
  const last = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
  return out[out.length - 1].offset < last ? filePos : filePos + size
}

export class Segment {
  readonly logFile: string
  readonly indexFile: string
  readonly timeIndexFile: string
  readonly index: OffsetIndex
  readonly timeIndex: TimeIndex

  /** Bytes of valid batches in the .log. */
  size: number
  /** One past the last offset in the segment, or -1 until someone needs it. */
  nextOffset = -1
  /** Largest batch timestamp and the offset it was seen at; -1 until known. */
  maxTimestamp = -1
  offsetOfMaxTimestamp = -1
  /** The first batch's max timestamp: what segmentMs is measured from, as Kafka does. */
  firstBatchTimestamp = -1
  readonly createdMs: number

  private bytesSinceIndexEntry = 0
  private writeFd = -1
  /** Whether write-behind was asked for (and so holds a descriptor of the .log in its thread). */
  private wroteBehind = false
  /** The .log's length on disk while open for append: `size` plus any zeros after it (never less). */
  private allocated = 0
  /** Read-only tails: the end of the batches already checked, or -1. */
  verifiedEnd = -1
  /**
   * Where a read that goes on from the last readRecords' last record starts: after its last
   * batch, or at it when that batch had records left over (the read stopped at maxRecords).
   */
  resumePosition = 0
  /** Bumped by each truncation: read-ahead chunks of an older epoch may hold bytes since cut off. */
  epoch = 0

  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly config: SegmentConfig,
    size: number,
    createdMs: number,
  ) {
    const base = path.join(dir, segmentBaseName(baseOffset))
    this.logFile = base + LOG_SUFFIX
    this.indexFile = base + INDEX_SUFFIX
    this.timeIndexFile = base + TIME_INDEX_SUFFIX
    this.index = new OffsetIndex(this.indexFile, baseOffset, config.maxIndexEntries, config.io)
    this.timeIndex = new TimeIndex(this.timeIndexFile, baseOffset, config.maxIndexEntries, config.io)
    this.size = size
    this.createdMs = createdMs
  }

  /** A new, empty segment, open for appending. */
  static create(dir: string, baseOffset: number, config: SegmentConfig, nowMs: number): Segment {
    const seg = new Segment(dir, baseOffset, config, 0, nowMs)
    seg.writeFd = config.io.openSync(seg.logFile, 'w+')
    seg.index.reset()
    seg.timeIndex.reset()
    seg.index.writeOut()
    seg.timeIndex.writeOut()
    seg.nextOffset = baseOffset
    return seg
  }

  /** An existing segment, as found on disk; nothing is read yet. */
  static existing(dir: string, baseOffset: number, config: SegmentConfig, nowMs: number): Segment {
    const base = path.join(dir, segmentBaseName(baseOffset))
    const size = config.io.statSizeSync(base + LOG_SUFFIX)
    return new Segment(dir, baseOffset, config, size, nowMs)
  }

  get isOpenForAppend(): boolean {
    return this.writeFd >= 0
  }

  /** Take a read-write descriptor, to append to this segment or to truncate it. */
  openForAppend(): void {
    if (this.writeFd >= 0) return
    this.config.files.release(this.logFile)
    this.writeFd = this.config.io.openSync(this.logFile, 'r+')
    // Recovery and clean closes leave no zeros past the last batch.
    this.allocated = this.size
  }

  private fd(): number {
    return this.writeFd >= 0 ? this.writeFd : this.config.files.acquire(this.logFile)
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /**
   * Write batches at the end of the segment in one system call. On failure the segment is cut
   * back to its previous size, so no partial batch stays behind, and the error is rethrown.
   */
  write(buffers: ReadonlyArray<Uint8Array>, length: number): void {
    const io = this.config.io
    const chunk = this.config.preallocateBytes ?? 0
    // Zeros pay for writes up to the chunk: their sync would otherwise wait for a journal commit
    // (the file's size changed). A write bigger than the chunk would pay more in zeros than that.
    // Measured (2026-11-29, two logs in one process, alternating): 64 appenders of ten records
    // (~70 KiB a group) went 2-4% faster with a p50 18% lower than with the old cap of chunk / 4.
    if (this.size + length > this.allocated && length <= chunk) this.preallocate(this.size + length)
    try {
      io.writevSync(this.writeFd, buffers, this.size)
    } catch (err) {
      try {
        io.ftruncateSync(this.writeFd, this.size)
        this.allocated = this.size
      } catch {
        // The truncate failed as well (EIO): the bytes past `size` are invisible to this process,
        // and recovery cuts them off at the next open because they are above the recovery point.
      }
      throw err
    }
    this.size += length
    if (this.allocated < this.size) this.allocated = this.size
  }

  /**
   * Zero-fill from the allocated end to at least `end`. A failure here (a full disk) only costs
   * the speed-up: the zeros written are cut off again and the append goes on without them.
   */
  private preallocate(end: number): void {
    const io = this.config.io
    const ahead = Math.min(this.size + (this.config.preallocateBytes ?? 0), this.config.preallocateLimit ?? Number.MAX_SAFE_INTEGER)
    const target = Math.max(end, ahead)
    try {
      for (let at = this.allocated; at < target; ) {
        const n = Math.min(ZEROS.length, target - at)
        io.writevSync(this.writeFd, [n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n)], at)
        at += n
      }
      this.allocated = target
    } catch {
      try {
        io.ftruncateSync(this.writeFd, this.size)
        this.allocated = this.size
      } catch {
        // Left for recovery, as after a failed append.
      }
    }
  }

  /**
   * Ask for the segment's dirty pages to be written back, without waiting (file-io.ts says how).
   * Returns whether a request was made: false while the previous one is still running.
   */
  writeBehind(): boolean {
    this.wroteBehind = true
    return this.config.io.writeBehind(this.logFile)
  }

  /**
   * Cut the zero-filled space after the last batch (before the segment stops being active).
   * Returns whether there was any, so the caller knows whether the cut needs a sync.
   */
  trimPreallocated(): boolean {
    if (this.writeFd < 0 || this.allocated <= this.size) return false
    this.config.io.ftruncateSync(this.writeFd, this.size)
    this.allocated = this.size
    return true
  }

  /** Account for one batch just written at `position`: indexes, timestamps, next offset. */
  onBatchWritten(position: number, size: number, lastOffset: number, maxTimestamp: number): void {
    if (this.firstBatchTimestamp < 0) this.firstBatchTimestamp = maxTimestamp
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp
      this.offsetOfMaxTimestamp = lastOffset
    }
    if (this.bytesSinceIndexEntry > this.config.indexIntervalBytes) {
      this.index.append(lastOffset, position)
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp)
      this.bytesSinceIndexEntry = 0
    }
    this.bytesSinceIndexEntry += size
    this.nextOffset = lastOffset + 1
  }

  /** fdatasync the .log (the data that was acknowledged). */
  sync(): Promise<void> {
    return this.config.io.fdatasync(this.writeFd)
  }

  syncSync(): void {
    if (this.writeFd >= 0) this.config.io.fdatasyncSync(this.writeFd)
  }

  /** Persist the indexes' new entries. */
  flushIndexes(): void {
    this.index.writeOut()
    this.timeIndex.writeOut()
  }

  /**
   * Stop being the active segment: record the final largest timestamp in the time index and write
   * the indexes out. The write descriptor stays open until the log has synced the segment.
   */
  sealIndexes(): void {
    if (this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp, true)
    this.flushIndexes()
  }

  closeWriter(): void {
    if (this.writeFd >= 0) {
      this.config.io.closeSync(this.writeFd)
      this.writeFd = -1
    }
    if (this.wroteBehind) {
      this.config.io.endWriteBehind(this.logFile)
      this.wroteBehind = false
    }
  }

  close(): void {
    this.closeWriter()
    this.config.files.release(this.logFile)
  }

  /** Cut the segment to `size` bytes (a batch boundary) and forget index entries past it. */
  truncateToSize(size: number, nextOffset: number): void {
    this.openForAppend()
    this.epoch++
    this.config.io.ftruncateSync(this.writeFd, size)
    this.size = size
    this.allocated = size
    this.index.truncateToSize(size)
    this.timeIndex.truncateToOffset(nextOffset)
    this.nextOffset = nextOffset
    this.bytesSinceIndexEntry = 0
    // The cut may have taken the batch with the largest timestamp (or the first batch): learn
    // them again from what is left, or later time-index entries and roll decisions use stale ones.
    this.maxTimestamp = -1
    this.offsetOfMaxTimestamp = -1
    this.firstBatchTimestamp = -1
    this.loadTail()
  }

  /**
   * Delete the segment's files: renamed to `.deleted` first, so a crash in between leaves names
   * that the next open recognises and removes, never a segment with half its files.
   */
  delete(): void {
    const io = this.config.io
    this.close()
    this.index.unload()
    this.timeIndex.unload()
    const renamed: string[] = []
    for (const file of [this.logFile, this.indexFile, this.timeIndexFile]) {
      if (!io.existsSync(file)) continue
      io.renameSync(file, file + DELETED_SUFFIX)
      renamed.push(file + DELETED_SUFFIX)
    }
    io.fsyncDirSync(this.dir)
    for (const file of renamed) io.unlinkSync(file)
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  /** Read up to `length` bytes at `position` into a new Buffer, shorter only at end of file. */
  readBytes(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length)
    const n = readFully(this.config.io, this.fd(), buf, 0, length, position)
    return n === length ? buf : buf.subarray(0, n)
  }

  /**
   * Visit batch headers from `position` up to `end`. `visit` sees a buffer holding at least the
   * batch header (the whole batch when `whole`), the batch's index in it and its file position,
   * and returns false to stop. Returns the position where the walk ended.
   */
  walk(
    position: number,
    end: number,
    whole: boolean,
    visit: (buf: Buffer, at: number, filePos: number, size: number) => boolean,
  ): { position: number; problem: string | null } {
    let chunk: Buffer = Buffer.alloc(0)
    let chunkStart = position
    let pos = position
    while (pos < end) {
      let rel = pos - chunkStart
      if (rel + BATCH_HEADER_SIZE > chunk.length) {
        chunk = this.readBytes(pos, Math.min(SCAN_CHUNK, end - pos))
        chunkStart = pos
        rel = 0
        if (chunk.length < LOG_OVERHEAD) return { position: pos, problem: `truncated batch header: ${chunk.length} bytes` }
      }
      const size = chunk.readInt32BE(rel + LENGTH_OFFSET) + LOG_OVERHEAD
      if (size < BATCH_HEADER_SIZE || size > this.config.maxBatchBytes) {
        return { position: pos, problem: `batch length ${size - LOG_OVERHEAD} is out of bounds` }
      }
      if (pos + size > end) return { position: pos, problem: `truncated batch: ${end - pos} of ${size} bytes present` }
      const need = whole ? size : BATCH_HEADER_SIZE
      if (rel + need > chunk.length) {
        chunk = this.readBytes(pos, Math.max(need, Math.min(SCAN_CHUNK, end - pos)))
        chunkStart = pos
        rel = 0
        if (chunk.length < need) return { position: pos, problem: `truncated batch: ${chunk.length} of ${size} bytes present` }
      }
      if (!visit(chunk, rel, pos, size)) return { position: pos, problem: null }
      pos += size
    }
    return { position: pos, problem: null }
  }

  /**
   * File position of the first batch whose last offset is >= offset, or -1 if none below `end`.
   * A damaged batch header on the way throws CorruptBatchError: answering -1 there would send a
   * read on to the next segment, past everything from the damage on, without a word.
   */
  findPosition(offset: number, end: number): number {
    const start = this.loadIndexes() ? this.index.lookup(offset).position : 0
    let found = -1
    const walked = this.walk(start, end, false, (buf, at, filePos) => {
      const last = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
      if (last >= offset) {
        found = filePos
        return false
      }
      return true
    })
    if (found < 0 && walked.problem !== null) throw new CorruptBatchError(walked.problem, this.logFile, walked.position)
    return found
  }

  /**
   * Decode records with offset >= `offset` into `out`, reading from `position` (a batch boundary)
   * up to `end`, until `out` holds `maxRecords`. Whole batches only, up to `maxBytes` of them,
   * except that the first batch of the read (`out` holds no more than `first` records) is always
   * returned however large it is. Returns the bytes of batches consumed.
   */
  readRecords(
    position: number,
    end: number,
    offset: number,
    out: LogRecord[],
    first: number,
    maxRecords: number,
    maxBytes: number,
    readHint: number,
    highWatermark: number,
    source: RecordSource | null = null,
    ahead: ReadAhead | null = null,
  ): number {
    let consumed = 0
    let pos = position
    this.resumePosition = position
    while (pos < end && out.length < maxRecords) {
      const ready = ahead === null ? null : ahead.take(this, pos)
      if (ready !== null) {
        const n = this.recordsFromChunk(ready, end, offset, out, first, maxRecords, maxBytes, consumed, highWatermark, source)
        if (n < 0) return consumed + ~n // stopped by the high watermark or the byte budget
        consumed += n
        pos += n
        continue
      }
      // Read what the byte budget allows, but no more than the records wanted are likely to need.
      const want = Math.min(end - pos, Math.max(BATCH_HEADER_SIZE, Math.min(maxBytes - consumed, readHint)))
      let chunk: Buffer = this.readBytes(pos, want)
      let at = 0
      while (at + LOG_OVERHEAD <= chunk.length && out.length < maxRecords) {
        const filePos = pos + at
        if (readInt64(chunk, at) >= highWatermark) return consumed
        const size = chunk.readInt32BE(at + LENGTH_OFFSET) + LOG_OVERHEAD
        if (size < BATCH_HEADER_SIZE || size > this.config.maxBatchBytes || filePos + size > end) {
          throw new CorruptBatchError(`batch length ${size - LOG_OVERHEAD} is out of bounds`, this.logFile, filePos)
        }
        // Whole batches within maxBytes, but never nothing: the first batch of the whole read (which
        // may have started in an earlier segment: `out` holds its records) goes out whatever its size.
        if (consumed + size > maxBytes && out.length > first) return consumed
        if (at + size > chunk.length) {
          if (at > 0) break // read again, starting at this batch
          chunk = this.readBytes(filePos, size)
          if (chunk.length < size) {
            throw new CorruptBatchError(`truncated batch: ${chunk.length} of ${size} bytes present`, this.logFile, filePos)
          }
        }
        const problem = checkBatch(chunk, at, at + size, this.config.maxBatchBytes)
        if (problem !== null) throw new CorruptBatchError(problem, this.logFile, filePos)
        if (!isControlBatch(chunk, at)) decodeRecords(chunk, at, out, offset, maxRecords, source)
        this.resumePosition = resumeAfter(chunk, at, filePos, size, out, maxRecords)
        consumed += size
        at += size
      }
      if (at === 0) break
      pos += at
    }
    return consumed
  }

  /**
   * readRecords' loop over a read-ahead chunk, from its `next` batch: the same stops, without the
   * checks the worker made. Returns the bytes consumed, or ~bytes when the read must stop there.
   */
  private recordsFromChunk(
    chunk: Chunk,
    end: number,
    offset: number,
    out: LogRecord[],
    first: number,
    maxRecords: number,
    maxBytes: number,
    consumed: number,
    highWatermark: number,
    source: RecordSource | null,
  ): number {
    const { buf, batches, records } = chunk
    const count = batches.length / BATCH_STRIDE
    let bytes = 0
    let b = chunk.next
    for (; b < count && out.length < maxRecords; b++) {
      const e = b * BATCH_STRIDE
      const at = batches[e]
      const size = batches[e + 1]
      if (readInt64(buf, at) >= highWatermark || chunk.position + at + size > end) break
      if (consumed + bytes + size > maxBytes && out.length > first) break
      const kind = batches[e + 2]
      if (kind === KIND_INDEXED) buildRecords(buf, at, buf, records, batches[e + 3], batches[e + 3] + batches[e + 4], out, offset, maxRecords, source)
      else if (kind === KIND_DECODE) decodeRecords(buf, at, out, offset, maxRecords, source)
      this.resumePosition = resumeAfter(buf, at, chunk.position + at, size, out, maxRecords)
      bytes += size
    }
    chunk.next = b
    return b < count && out.length < maxRecords ? ~bytes : bytes
  }

  /** First record at or above `minOffset` with timestamp >= target, or null. */
  findByTimestamp(target: number, end: number, highWatermark: number, minOffset = 0): LogRecord | null {
    const startOffset = Math.max(this.loadIndexes() ? this.timeIndex.lookup(target) : this.baseOffset, minOffset)
    const start = this.loadIndexes() ? this.index.lookup(startOffset).position : 0
    let result: LogRecord | null = null
    this.walk(start, end, true, (buf, at, filePos, size) => {
      if (readInt64(buf, at) >= highWatermark) return false
      if (readInt64(buf, at + MAX_TIMESTAMP_OFFSET) < target) return true
      if (readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) < minOffset) return true
      const problem = checkBatch(buf, at, at + size, this.config.maxBatchBytes)
      if (problem !== null) throw new CorruptBatchError(problem, this.logFile, filePos)
      if (isControlBatch(buf, at)) return true
      const records: LogRecord[] = []
      decodeRecords(buf, at, records, minOffset)
      for (const r of records) {
        if (r.timestamp >= target) {
          result = r
          return false
        }
      }
      return true
    })
    return result
  }

  // -------------------------------------------------------------------------------------------
  // Indexes and recovery

  /**
   * Load the indexes, rebuilding them from the log if they are missing or fail their checks.
   * Returns false only if the segment is empty, where there is nothing to look up.
   */
  loadIndexes(): boolean {
    if (this.index.isLoaded && this.timeIndex.isLoaded) return this.size > 0
    try {
      this.index.ensureLoaded()
      this.timeIndex.ensureLoaded()
      const last = this.index.lastEntry()
      if (last !== null && last.position >= this.size) throw new IndexCorruptError(`${this.indexFile} points past the log`)
      this.checkIndexesAgainstLog()
    } catch (err) {
      if (!(err instanceof IndexCorruptError)) throw err
      this.rebuildIndexes()
    }
    return this.size > 0
  }

  /**
   * An index can pass its own order checks and still not describe this log: garbage that happens
   * to be ordered, entries left from before the log was cut and rewritten, or a file cut short (a
   * power loss took its unsynced tail). Throws IndexCorruptError unless
   * - the first and last offset-index entries point at the batches they name;
   * - no batch starts further past the last entry than the index's own spacing allows: an entry is
   *   due whenever more than the index interval was appended since the last one, and every gap
   *   between entries is larger than the interval the index was written with (whatever it was);
   * - the last time-index entry names a batch with that timestamp, and no batch after it is
   *   later: it is the largest timestamp, which reopened closed segments are aged and skipped by.
   * Cheap: it reads the headers after the last entry, about one index interval of them (more only
   * when the largest timestamp lies further back, as with timestamps out of order).
   */
  private checkIndexesAgainstLog(): void {
    const n = this.index.entries
    for (const i of n === 0 ? [] : [0, n - 1]) {
      const offset = this.index.offsetAt(i)
      const position = this.index.positionAt(i)
      if (this.lastOffsetOfBatchAt(position) !== offset) {
        throw new IndexCorruptError(`${this.indexFile}: the entry for offset ${offset} points at byte ${position}, where no batch ends at it`)
      }
    }
    const indexedTo = n === 0 ? 0 : this.index.positionAt(n - 1)
    let spacing = n === 0 ? this.config.indexIntervalBytes + 1 : this.index.positionAt(0)
    for (let i = 1; i < n; i++) spacing = Math.min(spacing, this.index.positionAt(i) - this.index.positionAt(i - 1))
    const t = this.timeIndex.lastEntry()
    let timePos = -1
    if (t !== null) {
      this.walk(this.index.lookup(t.offset).position, this.size, false, (buf, at, filePos) => {
        const last = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
        if (last < t.offset) return true
        if (last === t.offset && readInt64(buf, at + MAX_TIMESTAMP_OFFSET) === t.timestamp) timePos = filePos
        return false
      })
      if (timePos < 0) {
        throw new IndexCorruptError(`${this.timeIndexFile}: no batch ends at offset ${t.offset} with timestamp ${t.timestamp}`)
      }
    }
    // An empty time index is only right if no batch has a timestamp (-1).
    const latest = t === null ? -1 : t.timestamp
    if (t === null && this.size >= BATCH_HEADER_SIZE && readInt64(this.readBytes(0, BATCH_HEADER_SIZE), MAX_TIMESTAMP_OFFSET) > latest) {
      throw new IndexCorruptError(`${this.timeIndexFile} is empty, but the segment's batches have timestamps`)
    }
    let problem: string | null = null
    this.walk(t === null ? indexedTo : Math.min(indexedTo, timePos), this.size, false, (buf, at, filePos) => {
      if (filePos - indexedTo >= spacing && filePos > indexedTo && !this.index.isFull) {
        problem = `${this.indexFile} has no entry for the batch at byte ${filePos}`
      } else if (filePos > timePos && readInt64(buf, at + MAX_TIMESTAMP_OFFSET) > latest) {
        problem = `${this.timeIndexFile} ends before the batch at byte ${filePos}, which is later`
      }
      return problem === null
    })
    if (problem !== null) throw new IndexCorruptError(problem)
  }

  /** The last offset of the batch whose header starts at `position`, or -1 if none does. */
  private lastOffsetOfBatchAt(position: number): number {
    if (position < 0 || position >= this.size) return -1
    const header = this.readBytes(position, BATCH_HEADER_SIZE)
    if (header.length < BATCH_HEADER_SIZE || header[MAGIC_OFFSET] !== MAGIC) return -1
    const base = readInt64(header, 0)
    if (base < this.baseOffset) return -1
    return base + header.readInt32BE(LAST_OFFSET_DELTA_OFFSET)
  }

  /** Drop a closed segment's indexes from memory (they stay on disk). */
  unloadIndexes(): void {
    if (this.writeFd >= 0) return
    this.index.unload()
    this.timeIndex.unload()
  }

  /** Rebuild both indexes from the log, which is assumed valid up to `size`. */
  rebuildIndexes(): void {
    this.scan(this.size, true)
    if (!this.config.readOnly) this.flushIndexes()
  }

  /**
   * Walk every batch from the start, checking size, magic, CRC and contiguous offsets, and
   * (when `reindex`) rebuilding both indexes on the way. Also learns the segment's timestamps and
   * next offset. Stops at the first invalid byte or at `end`.
   */
  scan(end: number, reindex: boolean): ScanResult {
    if (reindex) {
      this.index.reset()
      this.timeIndex.reset()
    }
    this.bytesSinceIndexEntry = 0
    this.maxTimestamp = -1
    this.offsetOfMaxTimestamp = -1
    this.firstBatchTimestamp = -1
    let expected = -1
    let records = 0
    let problem: string | null = null
    const result = this.walk(0, end, true, (buf, at, filePos, size) => {
      problem = checkBatch(buf, at, at + size, this.config.maxBatchBytes)
      const base = readInt64(buf, at)
      if (problem === null && (base < this.baseOffset || (expected >= 0 && base !== expected))) {
        problem = `batch offset ${base} does not follow ${expected < 0 ? this.baseOffset : expected}`
      }
      if (problem !== null) return false
      const last = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
      records += last - base + 1
      if (reindex) this.onBatchWritten(filePos, size, last, readInt64(buf, at + MAX_TIMESTAMP_OFFSET))
      else {
        const ts = readInt64(buf, at + MAX_TIMESTAMP_OFFSET)
        if (this.firstBatchTimestamp < 0) this.firstBatchTimestamp = ts
        if (ts > this.maxTimestamp) {
          this.maxTimestamp = ts
          this.offsetOfMaxTimestamp = last
        }
      }
      expected = last + 1
      return true
    })
    // As Kafka's recovery does: the last time-index entry holds the largest timestamp, which is
    // how a closed segment's age and offsetForTimestamp's skipping are read after a reopen.
    if (reindex && this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp, true)
    const nextOffset = expected < 0 ? this.baseOffset : expected
    this.nextOffset = nextOffset
    return {
      validBytes: result.position,
      nextOffset,
      records,
      problem: problem ?? result.problem,
      expectedOffset: nextOffset,
    }
  }

  /**
   * Learn where the active segment ends after a clean shutdown without reading all of it: start
   * at the last index entry and walk forward. Restores the timestamps the roll rules need.
   */
  loadTail(): void {
    this.loadIndexes()
    const lastIndex = this.index.lastEntry()
    const lastTime = this.timeIndex.lastEntry()
    if (lastTime !== null) {
      this.maxTimestamp = lastTime.timestamp
      this.offsetOfMaxTimestamp = lastTime.offset
    }
    const from = lastIndex === null ? 0 : lastIndex.position
    let next = this.baseOffset
    let lastPos = from
    let problem: string | null = null
    // The tail is checked as recovery would check it (it is short: at most one index interval and
    // a batch), so bytes a clean shutdown did not write, such as garbage appended to the file
    // later, send the open to recovery instead of being appended after.
    const end = this.walk(from, this.size, true, (buf, at, filePos, size) => {
      const base = readInt64(buf, at)
      problem = checkBatch(buf, at, at + size, this.config.maxBatchBytes)
      if (problem === null && (base < this.baseOffset || (filePos > from && base !== next))) {
        problem = `batch offset ${base} does not follow ${next}`
      }
      if (problem !== null) return false
      const last = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
      const ts = readInt64(buf, at + MAX_TIMESTAMP_OFFSET)
      if (ts > this.maxTimestamp) {
        this.maxTimestamp = ts
        this.offsetOfMaxTimestamp = last
      }
      next = last + 1
      lastPos = filePos + size
      return true
    })
    if (problem !== null || end.problem !== null) throw new CorruptBatchError(problem ?? end.problem ?? '', this.logFile, end.position)
    this.nextOffset = next
    this.bytesSinceIndexEntry = lastPos - from
    if (this.size > 0) {
      const first = this.readBytes(0, BATCH_HEADER_SIZE)
      if (first.length === BATCH_HEADER_SIZE) this.firstBatchTimestamp = readInt64(first, MAX_TIMESTAMP_OFFSET)
    }
  }

  /**
   * For a read-only view of a segment another process is appending to: the end of its complete,
   * valid batches within `fileSize`. A batch still being written fails the check and is left out
   * until a later look finds it whole.
   */
  scanVisibleEnd(fileSize: number): number {
    let from = this.verifiedEnd
    let next = this.nextOffset
    if (from < 0) {
      from = 0
      next = this.baseOffset
      try {
        this.index.ensureLoaded()
        const last = this.index.lastEntry()
        if (last !== null && last.position < fileSize) from = last.position
      } catch {
        // No usable index: walk from the start.
      }
    }
    let end = from
    this.walk(from, fileSize, true, (buf, at, filePos, size) => {
      if (checkBatch(buf, at, at + size, this.config.maxBatchBytes) !== null) return false
      const base = readInt64(buf, at)
      if (end > 0 && next >= 0 && end === this.verifiedEnd && base !== next) return false
      next = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) + 1
      end = filePos + size
      return true
    })
    if (end === from && from > 0 && this.verifiedEnd < 0) {
      // The index pointed somewhere unusable: start over from the beginning.
      this.index.unload()
      this.verifiedEnd = 0
      this.nextOffset = this.baseOffset
      return this.scanVisibleEnd(fileSize)
    }
    this.verifiedEnd = end
    this.nextOffset = next
    return end
  }

  /** The largest timestamp in a closed segment, from the last time-index entry. */
  largestTimestamp(): number {
    if (this.maxTimestamp >= 0) return this.maxTimestamp
    this.loadIndexes()
    const last = this.timeIndex.lastEntry()
    if (last !== null) this.maxTimestamp = last.timestamp
    return this.maxTimestamp
  }

  /** The next offset after this segment, computed from its tail if not yet known. */
  computeNextOffset(): number {
    if (this.nextOffset >= 0) return this.nextOffset
    this.loadIndexes()
    const lastIndex = this.index.lastEntry()
    let next = this.baseOffset
    this.walk(lastIndex === null ? 0 : lastIndex.position, this.size, false, (buf, at) => {
      next = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) + 1
      return true
    })
    this.nextOffset = next
    return next
  }
}
