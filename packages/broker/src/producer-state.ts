/**
 * Idempotent producers on one partition (Kafka's ProducerStateManager): for every producer id, its
 * current epoch and the sequence ranges and offsets of its last 5 batches.
 *
 * The decision for a batch is a function of (producerId, producerEpoch, baseSequence, count) and
 * this state alone, so batches from the embedded producer and from a Kafka client's Produce
 * request (which carry the client's own ids) are checked alike:
 * - a batch equal to one of the last 5 (same epoch, same first and last sequence) is a duplicate:
 *   it is not written again and gets the original offsets;
 * - an epoch older than the producer's current one is fenced (a zombie producer);
 * - a newer epoch must start at sequence 0;
 * - in the same epoch, the batch must start right after the last sequence (wrapping at 2^31-1);
 *   a sequence already passed is a duplicate too old to answer with offsets; anything else is out
 *   of order;
 * - a producer this partition does not know (new, or all its batches gone to retention) may start
 *   at any sequence, as in Kafka.
 *
 * The state survives restarts as a snapshot (written by the partition, see partition.ts) plus the
 * batch headers of the log after the snapshot's offset, which `replay` applies.
 */
import type { AppendResult, BatchHeader } from '@samsa/log'
import { DuplicateSequenceError, OutOfOrderSequenceError, ProducerFencedError } from './errors.js'

/** Batches remembered per producer, as Kafka (ProducerStateEntry.NumBatchesToRetain). */
export const BATCHES_TO_RETAIN = 5
const INT32_MAX = 0x7fffffff
const CONTROL_MASK = 0x20

export interface BatchMetadata {
  firstSeq: number
  lastSeq: number
  /** -1 while the append is in flight. */
  firstOffset: number
  lastOffset: number
  timestamp: number
  /** The append in flight; a duplicate arriving meanwhile waits for the same result. */
  pending?: Promise<AppendResult>
}

export interface ProducerEntry {
  producerId: number
  epoch: number
  /** Oldest first, at most BATCHES_TO_RETAIN. */
  batches: BatchMetadata[]
  /** When the producer last wrote here (its batches' time); for expiry. */
  lastTimestamp: number
}

export interface ProducerStateSnapshot {
  version: 1
  /** The log end offset the snapshot covers: replay the log from here. */
  offset: number
  producers: {
    producerId: number
    epoch: number
    lastTimestamp: number
    batches: { firstSeq: number; lastSeq: number; firstOffset: number; lastOffset: number; timestamp: number }[]
  }[]
}

/** The sequence `count - 1` after `first`, wrapping past 2^31-1 to 0 as Kafka's producers do. */
export function lastSequence(first: number, count: number): number {
  const last = first + count - 1
  return last > INT32_MAX ? last - INT32_MAX - 1 : last
}

function inSequence(last: number, next: number): boolean {
  return next === last + 1 || (next === 0 && last === INT32_MAX)
}

/** Whether `seq` lies at or behind `last` within half the sequence space: already passed. */
function alreadyPassed(seq: number, last: number): boolean {
  const behind = (last - seq + INT32_MAX + 1) % (INT32_MAX + 1)
  return behind < 0x40000000
}

export class ProducerState {
  private readonly producers = new Map<number, ProducerEntry>()
  /** Changed since the last snapshot. */
  dirty = false

  /** `where` names the partition in error messages. */
  constructor(private readonly where: string) {}

  get size(): number {
    return this.producers.size
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId)
  }

  /**
   * Check a batch before it is written. Returns the earlier batch it duplicates (whose offsets
   * answer it), or null if it may be appended; throws a typed error if it must be refused.
   */
  check(producerId: number, epoch: number, firstSeq: number, count: number): BatchMetadata | null {
    if (producerId < 0) return null
    const entry = this.producers.get(producerId)
    if (entry === undefined) return null
    if (epoch < entry.epoch) throw new ProducerFencedError(producerId, epoch, entry.epoch, this.where)
    if (epoch > entry.epoch) {
      if (firstSeq !== 0) throw new OutOfOrderSequenceError(producerId, epoch, firstSeq, null, this.where)
      return null
    }
    const lastSeq = lastSequence(firstSeq, count)
    for (const b of entry.batches) if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return b
    const last = entry.batches[entry.batches.length - 1].lastSeq
    if (inSequence(last, firstSeq)) return null
    if (alreadyPassed(firstSeq, last)) throw new DuplicateSequenceError(producerId, firstSeq, this.where)
    throw new OutOfOrderSequenceError(producerId, epoch, firstSeq, last === INT32_MAX ? 0 : last + 1, this.where)
  }

  /**
   * Record a batch that passed `check` and was handed to the log, in the same synchronous step, so
   * the next batch is checked against it. If the append fails, the batch is forgotten again.
   */
  begin(producerId: number, epoch: number, firstSeq: number, count: number, timestamp: number, result: Promise<AppendResult>): void {
    if (producerId < 0) return
    const batch: BatchMetadata = {
      firstSeq,
      lastSeq: lastSequence(firstSeq, count),
      firstOffset: -1,
      lastOffset: -1,
      timestamp,
      pending: result,
    }
    const entry = this.add(producerId, epoch, batch, timestamp)
    result.then(
      (r) => {
        batch.firstOffset = r.baseOffset
        batch.lastOffset = r.lastOffset
        batch.pending = undefined
        this.dirty = true
      },
      () => {
        const i = entry.batches.indexOf(batch)
        if (i >= 0) entry.batches.splice(i, 1)
        if (entry.batches.length === 0 && this.producers.get(producerId) === entry) this.producers.delete(producerId)
      },
    )
  }

  private add(producerId: number, epoch: number, batch: BatchMetadata, timestamp: number): ProducerEntry {
    let entry = this.producers.get(producerId)
    if (entry === undefined || epoch > entry.epoch) {
      entry = { producerId, epoch, batches: [], lastTimestamp: timestamp }
      this.producers.set(producerId, entry)
    }
    entry.batches.push(batch)
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift()
    entry.lastTimestamp = Math.max(entry.lastTimestamp, timestamp)
    this.dirty = true
    return entry
  }

  /** Apply a batch found in the log (rebuilding after a restart); no checks, as Kafka's loader. */
  replay(header: BatchHeader): void {
    if (header.producerId < 0 || (header.attributes & CONTROL_MASK) !== 0) return
    const entry = this.producers.get(header.producerId)
    if (entry !== undefined && header.producerEpoch < entry.epoch) return
    this.add(
      header.producerId,
      header.producerEpoch,
      {
        firstSeq: header.baseSequence,
        lastSeq: lastSequence(header.baseSequence, header.lastOffsetDelta + 1),
        firstOffset: header.baseOffset,
        lastOffset: header.lastOffset,
        timestamp: header.maxTimestamp,
      },
      header.maxTimestamp,
    )
  }

  /** Forget producers whose every remembered batch is below the new log start (retention). */
  truncateHead(logStartOffset: number): void {
    for (const [id, entry] of this.producers) {
      const last = entry.batches[entry.batches.length - 1]
      if (last.pending === undefined && last.lastOffset < logStartOffset) {
        this.producers.delete(id)
        this.dirty = true
      }
    }
  }

  /** Forget producers that wrote nothing since `before` (Kafka's producer.id.expiration.ms). */
  expire(before: number): void {
    for (const [id, entry] of this.producers) {
      if (entry.lastTimestamp < before && entry.batches.every((b) => b.pending === undefined)) {
        this.producers.delete(id)
        this.dirty = true
      }
    }
  }

  /** The state as of log end offset `offset`, with only completed batches. */
  snapshot(offset: number): ProducerStateSnapshot {
    const producers: ProducerStateSnapshot['producers'] = []
    for (const entry of this.producers.values()) {
      const batches = entry.batches
        .filter((b) => b.pending === undefined && b.lastOffset < offset)
        .map(({ firstSeq, lastSeq, firstOffset, lastOffset, timestamp }) => ({ firstSeq, lastSeq, firstOffset, lastOffset, timestamp }))
      if (batches.length > 0) producers.push({ producerId: entry.producerId, epoch: entry.epoch, lastTimestamp: entry.lastTimestamp, batches })
    }
    return { version: 1, offset, producers }
  }

  /** Replace the state with a snapshot's. Returns false (state left empty) if it is not one. */
  load(snapshot: unknown): boolean {
    this.producers.clear()
    if (!isSnapshot(snapshot)) return false
    for (const p of snapshot.producers) {
      this.producers.set(p.producerId, {
        producerId: p.producerId,
        epoch: p.epoch,
        lastTimestamp: p.lastTimestamp,
        batches: p.batches.slice(-BATCHES_TO_RETAIN).map((b) => ({ ...b })),
      })
    }
    return true
  }

  /** The largest producer id remembered here, or -1. */
  maxProducerId(): number {
    let max = -1
    for (const id of this.producers.keys()) if (id > max) max = id
    return max
  }

  clear(): void {
    this.producers.clear()
  }
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v)

export function isSnapshot(value: unknown): value is ProducerStateSnapshot {
  const s = value as ProducerStateSnapshot
  if (s === null || typeof s !== 'object' || s.version !== 1 || !isInt(s.offset) || !Array.isArray(s.producers)) return false
  return s.producers.every(
    (p) =>
      p !== null &&
      typeof p === 'object' &&
      isInt(p.producerId) &&
      isInt(p.epoch) &&
      isInt(p.lastTimestamp) &&
      Array.isArray(p.batches) &&
      p.batches.length > 0 &&
      p.batches.every((b) => b !== null && typeof b === 'object' && isInt(b.firstSeq) && isInt(b.lastSeq) && isInt(b.firstOffset) && isInt(b.lastOffset) && isInt(b.timestamp)),
  )
}
