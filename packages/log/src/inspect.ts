/**
 * Reading segment files as they are on disk, for `samsa log dump` and `samsa log verify`, like
 * Kafka's DumpLogSegments. Nothing here trusts the bytes: every batch is checked and a damaged
 * one is reported with its file position, never decoded as data. Read-only; safe on a live log
 * (a batch still being written shows up as a truncated last batch).
 */
import * as path from 'node:path'
import { CorruptBatchError, SamsaError } from './errors.js'
import { defaultIO, type FileIO, readFully } from './file-io.js'
import {
  BATCH_HEADER_SIZE,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  type BatchHeader,
  type LogRecord,
  checkBatch,
  compressionName,
  decodeRecords,
  readBatchHeader,
  readInt64,
  CONTROL_MASK,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_MASK,
} from './record-batch.js'
import { INDEX_SUFFIX, LOG_SUFFIX, parseSegmentName, TIME_INDEX_SUFFIX } from './segment.js'

const CHUNK = 1024 * 1024

export interface InspectedBatch {
  position: number
  size: number
  /** Null when the batch is too short to have a header. */
  header: BatchHeader | null
  valid: boolean
  problem: string | null
  compression: string
  timestampType: 'CreateTime' | 'LogAppendTime'
  transactional: boolean
  control: boolean
  /** Decoded records, when asked for and the batch is valid. */
  records?: LogRecord[]
  /** Why the records could not be decoded (an unsupported codec), when asked for. */
  recordsError?: string
  /**
   * This is no batch: from `position` to the end of the file every byte is zero. A writer with
   * `preallocate` leaves that after its last batch while it runs (and after a crash); so does a
   * power loss that took the data of pages whose size had already grown. Always the last item.
   */
  zeros?: boolean
}

/**
 * Every batch of a .log file, in order. Stops after the first batch whose length makes no sense
 * (nothing after it can be located); a batch with a bad CRC is reported and the walk goes on,
 * since its length still says where the next one starts.
 */
export function* inspectSegmentFile(
  file: string,
  options: { records?: boolean; io?: FileIO } = {},
): Generator<InspectedBatch, void, undefined> {
  const io = options.io ?? defaultIO
  const fd = io.openSync(file, 'r')
  try {
    const fileSize = io.fstatSizeSync(fd)
    let chunk: Buffer = Buffer.alloc(0)
    let chunkStart = 0
    let pos = 0
    while (pos < fileSize) {
      let rel = pos - chunkStart
      if (rel + BATCH_HEADER_SIZE > chunk.length) {
        chunk = readAt(io, fd, pos, Math.min(CHUNK, fileSize - pos))
        chunkStart = pos
        rel = 0
      }
      if (isZero(chunk, rel, Math.min(chunk.length, rel + LOG_OVERHEAD)) && zerosToEnd(io, fd, pos, fileSize)) {
        yield { ...broken(pos, fileSize - pos, null), valid: true, zeros: true }
        return
      }
      if (chunk.length - rel < LOG_OVERHEAD) {
        yield broken(pos, fileSize - pos, `truncated batch: ${fileSize - pos} bytes, too few for a header`)
        return
      }
      const size = chunk.readInt32BE(rel + LENGTH_OFFSET) + LOG_OVERHEAD
      if (size < BATCH_HEADER_SIZE || pos + size > fileSize) {
        const problem = size < BATCH_HEADER_SIZE ? `batch length ${size - LOG_OVERHEAD} is smaller than a header` : `truncated batch: ${fileSize - pos} of ${size} bytes present`
        const header = chunk.length - rel >= BATCH_HEADER_SIZE ? readBatchHeader(chunk, rel) : null
        yield { ...broken(pos, Math.min(size, fileSize - pos), problem), header }
        return
      }
      if (rel + size > chunk.length) {
        chunk = readAt(io, fd, pos, Math.max(size, Math.min(CHUNK, fileSize - pos)))
        chunkStart = pos
        rel = 0
      }
      const header = readBatchHeader(chunk, rel)
      const problem = checkBatch(chunk, rel, rel + size)
      const attributes = header.attributes
      const batch: InspectedBatch = {
        position: pos,
        size,
        header,
        valid: problem === null,
        problem,
        compression: compressionName(attributes),
        timestampType: attributes & TIMESTAMP_TYPE_MASK ? 'LogAppendTime' : 'CreateTime',
        transactional: (attributes & TRANSACTIONAL_MASK) !== 0,
        control: (attributes & CONTROL_MASK) !== 0,
      }
      if (options.records && problem === null) {
        const records: LogRecord[] = []
        try {
          decodeRecords(chunk, rel, records)
          batch.records = records
        } catch (err) {
          if (err instanceof CorruptBatchError) {
            batch.valid = false
            batch.problem = err.message
          } else if (err instanceof SamsaError) {
            batch.recordsError = err.message
          } else {
            throw err
          }
        }
      }
      yield batch
      pos += size
    }
  } finally {
    io.closeSync(fd)
  }
}

function readAt(io: FileIO, fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  const n = readFully(io, fd, buf, 0, length, position)
  return n === length ? buf : buf.subarray(0, n)
}

function isZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false
  return true
}

function zerosToEnd(io: FileIO, fd: number, from: number, fileSize: number): boolean {
  for (let pos = from; pos < fileSize; ) {
    const chunk = readAt(io, fd, pos, Math.min(CHUNK, fileSize - pos))
    if (chunk.length === 0 || !isZero(chunk, 0, chunk.length)) return false
    pos += chunk.length
  }
  return true
}

function broken(position: number, size: number, problem: string | null): InspectedBatch {
  return {
    position,
    size,
    header: null,
    valid: false,
    problem,
    compression: 'none',
    timestampType: 'CreateTime',
    transactional: false,
    control: false,
  }
}

export interface IndexEntryCheck {
  offset: number
  position: number
  timestamp?: number
  /** Null if the entry agrees with the .log; else what is wrong with it. */
  problem: string | null
}

/**
 * The entries of a `.index` (offset, position) or `.timeindex` (timestamp, offset) file, each
 * checked against the segment's .log the way kafka-dump-log --index-sanity-check does: offsets
 * and timestamps must not go backwards, and an offset entry must point at the start of the batch
 * whose last offset it names.
 */
export function inspectIndexFile(file: string, io: FileIO = defaultIO): IndexEntryCheck[] {
  const name = path.basename(file)
  const time = name.endsWith(TIME_INDEX_SUFFIX)
  if (!time && !name.endsWith(INDEX_SUFFIX)) {
    throw new SamsaError('SAMSA_INVALID_ARGUMENT', `${file} is not a .index or .timeindex file`)
  }
  const base = parseSegmentName(name.replace(time ? TIME_INDEX_SUFFIX : INDEX_SUFFIX, LOG_SUFFIX))
  if (base === null) throw new SamsaError('SAMSA_INVALID_ARGUMENT', `${file} is not named by a 20-digit base offset`)
  const data = io.readFileSync(file)
  const entrySize = time ? 12 : 8
  const logFile = file.slice(0, file.length - (time ? TIME_INDEX_SUFFIX : INDEX_SUFFIX).length) + LOG_SUFFIX
  const batches = io.existsSync(logFile) ? new Map<number, BatchHeader>() : null
  if (batches !== null) {
    for (const b of inspectSegmentFile(logFile, { io })) if (b.header !== null && b.valid) batches.set(b.position, b.header)
  }
  const out: IndexEntryCheck[] = []
  let prevOffset = -1
  let prevKey = -Infinity
  const whole = Math.floor(data.length / entrySize)
  for (let i = 0; i < whole; i++) {
    const at = i * entrySize
    let entry: IndexEntryCheck
    if (time) {
      const timestamp = readInt64(data, at)
      const offset = base + data.readInt32BE(at + 8)
      entry = { offset, position: -1, timestamp, problem: null }
      if (timestamp < prevKey) entry.problem = `timestamp ${timestamp} is below the previous entry's ${prevKey}`
      else if (offset < prevOffset) entry.problem = `offset ${offset} is below the previous entry's ${prevOffset}`
      prevKey = timestamp
    } else {
      const offset = base + data.readInt32BE(at)
      const position = data.readInt32BE(at + 4)
      entry = { offset, position, problem: null }
      if (offset <= prevOffset) entry.problem = `offset ${offset} does not increase`
      else if (position <= prevKey) entry.problem = `position ${position} does not increase`
      else if (batches !== null) {
        const header = batches.get(position)
        if (header === undefined) entry.problem = `position ${position} is not the start of a valid batch`
        else if (header.lastOffset !== offset) entry.problem = `the batch at ${position} ends at offset ${header.lastOffset}, not ${offset}`
      }
      prevKey = position
    }
    prevOffset = entry.offset
    out.push(entry)
  }
  if (data.length % entrySize !== 0) {
    out.push({ offset: -1, position: -1, problem: `${data.length % entrySize} trailing bytes: the file is not a whole number of entries` })
  }
  return out
}

export interface PartitionDirEntry {
  baseOffset: number
  logFile: string
  size: number
}

/** The segment files of a partition directory, by base offset. */
export function listSegmentFiles(dir: string, io: FileIO = defaultIO): PartitionDirEntry[] {
  const out: PartitionDirEntry[] = []
  for (const name of io.readdirSync(dir)) {
    const base = parseSegmentName(name)
    if (base === null) continue
    const logFile = path.join(dir, name)
    out.push({ baseOffset: base, logFile, size: io.statSizeSync(logFile) })
  }
  return out.sort((a, b) => a.baseOffset - b.baseOffset)
}
