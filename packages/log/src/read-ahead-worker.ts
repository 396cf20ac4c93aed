/**
 * The read-ahead thread (read-ahead.ts says when it is asked): for each stream it reads chunks of a
 * segment into memory of their own, checks each whole batch in them as the main thread would
 * (checkBatch: framing and CRC-32C), and indexes their records (indexRecords). It builds no
 * record. It hands each chunk's memory over to the main thread in a message (a transfer, not a
 * copy: the worker keeps no access to it, and the values a read hands out view an ordinary
 * ArrayBuffer) and then bumps a counter in shared memory, which a waiting main thread watches; its
 * first act is to raise the "started" flag there.
 *
 * What an answer promises: the `checked` bytes from the chunk's start are whole batches that passed
 * checkBatch. A batch that fails stops the chunk there (the main thread then reads it itself and
 * reports the damage exactly as without read-ahead); so does a batch cut off by the chunk's end.
 * Entries in `records` are indexRecords' over the batch's own bytes; a batch whose records did not
 * index (or are compressed) is marked for the main thread to decode.
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import { defaultIO, readFully } from './file-io.js'
import {
  ATTRIBUTES_OFFSET,
  COMPRESSION_MASK,
  INDEX_STRIDE,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  checkBatch,
  indexRecords,
  isControlBatch,
  readInt64,
} from './record-batch.js'

export interface ReadAheadRequest {
  id: number
  file: string
  position: number
  length: number
  maxBatchBytes: number
}

export interface ReadAheadReply {
  id: number
  /** The bytes read, from `position` (transferred with the message); null when the read failed. */
  memory: ArrayBuffer | null
  /** Bytes from the start that are whole batches which passed checkBatch. */
  checked: number
  /** BATCH_STRIDE numbers a batch: position in the chunk, size, kind, first entry, entries. */
  batches: Float64Array
  /** INDEX_STRIDE numbers a record (record-batch.ts). */
  records: Int32Array
  error: string | null
}

export const BATCH_STRIDE = 5
/** The batch's records are in `records`. */
export const KIND_INDEXED = 0
/** A control batch: no records to hand out. */
export const KIND_CONTROL = 1
/** Compressed, or its records do not index: the main thread decodes it (and reports any damage). */
export const KIND_DECODE = 2

/** The fewest bytes a record takes: a one-byte varint for each of its seven fields. */
const MIN_RECORD_BYTES = 7

export function serve(req: ReadAheadRequest): ReadAheadReply {
  let fd = -1
  try {
    // Its own descriptor, opened and closed each time: a segment that retention deletes meanwhile
    // fails here (the main thread reads it itself) instead of living on in an open descriptor.
    fd = defaultIO.openSync(req.file, 'r')
    const length = Math.max(0, Math.min(req.length, defaultIO.fstatSizeSync(fd) - req.position))
    // Memory of its own (never the pool's), so that it can be transferred; not zeroed first, since
    // the read fills it and only the bytes read are ever looked at.
    const buf = Buffer.allocUnsafeSlow(length)
    const memory = buf.buffer as ArrayBuffer
    const bytes = readFully(defaultIO, fd, buf, 0, length, req.position)
    let checked = 0
    let batchCount = 0
    let recordCount = 0
    while (checked < bytes && checkBatch(buf, checked, bytes, req.maxBatchBytes) === null) {
      const size = buf.readInt32BE(checked + LENGTH_OFFSET) + LOG_OVERHEAD
      const count = buf.readInt32BE(checked + RECORDS_COUNT_OFFSET)
      batchCount++
      if (count <= (size - RECORDS_OFFSET) / MIN_RECORD_BYTES) recordCount += count
      checked += size
    }
    const batches = new Float64Array(batchCount * BATCH_STRIDE)
    const records = new Int32Array(recordCount * INDEX_STRIDE)
    let entries = 0
    for (let b = 0, at = 0; b < batchCount; b++) {
      const size = buf.readInt32BE(at + LENGTH_OFFSET) + LOG_OVERHEAD
      const count = buf.readInt32BE(at + RECORDS_COUNT_OFFSET)
      let kind = KIND_DECODE
      let n = 0
      if (isControlBatch(buf, at)) kind = KIND_CONTROL
      else if ((buf.readInt16BE(at + ATTRIBUTES_OFFSET) & COMPRESSION_MASK) === 0 && count <= (size - RECORDS_OFFSET) / MIN_RECORD_BYTES) {
        try {
          const lastOffsetDelta = buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
          const into = records.subarray(entries * INDEX_STRIDE)
          n = indexRecords(buf, at + RECORDS_OFFSET, at + size, count, readInt64(buf, at), lastOffsetDelta, 0, count, into)
          kind = KIND_INDEXED
        } catch {
          n = 0
        }
      }
      const e = b * BATCH_STRIDE
      batches[e] = at
      batches[e + 1] = size
      batches[e + 2] = kind
      batches[e + 3] = entries
      batches[e + 4] = n
      entries += n
      at += size
    }
    return { id: req.id, memory, checked, batches, records, error: null }
  } catch (err) {
    return { id: req.id, memory: null, checked: 0, batches: new Float64Array(0), records: new Int32Array(0), error: String(err) }
  } finally {
    if (fd >= 0) {
      try {
        defaultIO.closeSync(fd)
      } catch {
        // A read-only descriptor: nothing was written through it that a close could lose.
      }
    }
  }
}

/** What the main thread sends: a stream of chunks from a position, topped up one at a time. */
export type ReadAheadMessage =
  | { type: 'open'; stream: number; file: string; position: number; length: number; limit: number; maxBatchBytes: number; credit: number }
  | { type: 'credit'; stream: number }
  | { type: 'close'; stream: number }

/** A reply, tagged with its stream and its place in it. */
export interface StreamReply extends ReadAheadReply {
  seq: number
  position: number
}

interface Stream {
  file: string
  position: number
  length: number
  limit: number
  maxBatchBytes: number
  credit: number
  seq: number
}

/**
 * Serve one chunk of stream `id`, from where its last one's checked bytes ended. A chunk with
 * nothing checked in it (damage, a batch larger than a chunk, an error) ends the stream: the main
 * thread reads from there itself.
 */
function serveNext(id: number, s: Stream, streams: Map<number, Stream>, port: MessagePort, signal: Int32Array): void {
  s.credit--
  const reply: StreamReply = {
    ...serve({ id, file: s.file, position: s.position, length: Math.min(s.length, s.limit - s.position), maxBatchBytes: s.maxBatchBytes }),
    seq: s.seq++,
    position: s.position,
  }
  const transfer = [reply.batches.buffer as ArrayBuffer, reply.records.buffer as ArrayBuffer]
  if (reply.memory !== null) transfer.push(reply.memory)
  port.postMessage(reply, transfer)
  Atomics.add(signal, 0, 1)
  Atomics.notify(signal, 0)
  s.position += reply.checked
  streams.delete(id)
  // To the back of the line, so that streams of several logs take turns.
  if (reply.checked > 0 && s.position < s.limit) streams.set(id, s)
}

// Run as the thread (workerData holds the port and the shared counters), not when imported.
const data = workerData as { port: MessagePort; signal: Int32Array } | null | undefined
if (data?.port !== undefined) {
  const { port, signal } = data
  const streams = new Map<number, Stream>()
  const apply = (m: ReadAheadMessage): void => {
    if (m.type === 'close') streams.delete(m.stream)
    else if (m.type === 'open') {
      streams.set(m.stream, { file: m.file, position: m.position, length: m.length, limit: m.limit, maxBatchBytes: m.maxBatchBytes, credit: m.credit, seq: 0 })
    } else {
      const s = streams.get(m.stream)
      if (s !== undefined) s.credit++ // else the stream ended
    }
  }
  port.on('message', (first: ReadAheadMessage) => {
    apply(first)
    for (;;) {
      // Everything the main thread sent meanwhile first: a stream it has closed since asking
      // (a reader that went elsewhere) is never served.
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) apply(m.message as ReadAheadMessage)
      let next: [number, Stream] | null = null
      for (const entry of streams) {
        if (entry[1].credit > 0) {
          next = entry
          break
        }
      }
      if (next === null) return
      serveNext(next[0], next[1], streams, port, signal)
    }
  })
  Atomics.store(signal, 1, 1)
  Atomics.notify(signal, 0)
}
