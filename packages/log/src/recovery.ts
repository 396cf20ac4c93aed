/**
 * Opening a log's directory: which segments it has, where the log ends, and, after an unclean
 * stop, Kafka's recovery (LogLoader): every batch from the segment holding the recovery point on
 * is checked (length in bounds, magic 2, CRC-32C, offsets contiguous with the batch before), its
 * indexes are rebuilt on the way, and the log is cut at the first invalid byte.
 *
 * - Damage at or above the recovery point is the expected result of a crash (a torn write, a
 *   zero-filled tail, garbage past the end): cut off silently and reported in the RecoveryReport.
 * - Damage below the recovery point was fsynced and acknowledged: it fails the open with
 *   CorruptLogError naming the file and byte, unless `repair` asks to cut the log there.
 * - Stray `.tmp`, `.deleted` and orphaned index files are removed; segments wholly below the log
 *   start (a deleteRecordsBefore interrupted by a crash) are deleted.
 */
import * as path from 'node:path'
import { type Checkpoint, hasCleanShutdown } from './checkpoint.js'
import { CorruptLogError } from './errors.js'
import { LAST_OFFSET_DELTA_OFFSET, readInt64 } from './record-batch.js'
import { INDEX_SUFFIX, parseSegmentName, Segment, type SegmentConfig, TIME_INDEX_SUFFIX } from './segment.js'

export interface RecoveryReport {
  /** The log had been closed cleanly, so nothing was scanned. */
  clean: boolean
  /** Segments whose batches were checked and whose indexes were rebuilt. */
  segmentsRecovered: number
  /** Bytes cut off the end of the log, and the records they held (as far as they can be counted). */
  truncatedBytes: number
  droppedRecords: number
  /** Segments deleted because they came after the first invalid byte. */
  segmentsDeleted: number
  /** Where the first invalid byte was, and why; null if the log was whole. */
  damage: { file: string; position: number; problem: string } | null
  /** Whether the damage was below the recovery point, so only `repair` allowed the cut. */
  repaired: boolean
  /** Stray files removed. */
  strayFilesRemoved: number
}

export interface LoadedLog {
  segments: Segment[]
  logStartOffset: number
  logEndOffset: number
  report: RecoveryReport | null
}

function listSegments(dir: string, config: SegmentConfig, cleanUp: boolean): { bases: number[]; removed: number } {
  const io = config.io
  const names = io.readdirSync(dir)
  const bases: number[] = []
  const logs = new Set<string>()
  let removed = 0
  for (const name of names) {
    const base = parseSegmentName(name)
    if (base !== null) {
      bases.push(base)
      logs.add(name.slice(0, 20))
    }
  }
  if (cleanUp) {
    for (const name of names) {
      const stray =
        name.endsWith('.tmp') ||
        name.endsWith('.deleted') ||
        name.startsWith('.lock.stale-') ||
        ((name.endsWith(INDEX_SUFFIX) || name.endsWith(TIME_INDEX_SUFFIX)) && !logs.has(name.slice(0, 20)))
      if (stray) {
        io.rmSync(path.join(dir, name))
        removed++
      }
    }
  }
  bases.sort((a, b) => a - b)
  return { bases, removed }
}

/** The last segment whose base offset is <= offset (or the first). */
function segmentIndexFor(segments: Segment[], offset: number): number {
  let found = 0
  for (let i = 0; i < segments.length; i++) if (segments[i].baseOffset <= offset) found = i
  return found
}

/** Open a log for writing: recover it if it was not closed cleanly. */
export function recoverLog(
  dir: string,
  config: SegmentConfig,
  checkpoint: Checkpoint | null,
  repair: boolean,
  nowMs: number,
): LoadedLog {
  const io = config.io
  const { bases, removed } = listSegments(dir, config, true)
  const logStartOffset = checkpoint?.logStartOffset ?? (bases.length > 0 ? bases[0] : 0)
  const segments = bases.map((base) => Segment.existing(dir, base, config, nowMs))
  if (segments.length === 0) {
    segments.push(Segment.create(dir, logStartOffset, config, nowMs))
    io.fsyncDirSync(dir)
    return { segments, logStartOffset, logEndOffset: logStartOffset, report: null }
  }

  let report: RecoveryReport | null = null
  let clean = hasCleanShutdown(io, dir) && !repair && checkpoint !== null
  if (clean) {
    try {
      segments[segments.length - 1].loadTail()
    } catch {
      clean = false // the marker says clean but the tail disagrees: trust the bytes, recover
    }
  }
  if (!clean) {
    report = recoverSegments(dir, segments, config, checkpoint?.recoveryPoint ?? 0, repair)
    report.strayFilesRemoved = removed
  }

  // A deleteRecordsBefore that moved the start but crashed before deleting its segments.
  while (segments.length > 1 && segments[1].baseOffset <= logStartOffset) {
    ;(segments.shift() as Segment).delete()
  }
  const logEndOffset = segments[segments.length - 1].nextOffset
  return { segments, logStartOffset, logEndOffset, report }
}

function recoverSegments(
  dir: string,
  segments: Segment[],
  config: SegmentConfig,
  recoveryPoint: number,
  repair: boolean,
): RecoveryReport {
  const report: RecoveryReport = {
    clean: false,
    segmentsRecovered: 0,
    truncatedBytes: 0,
    droppedRecords: 0,
    segmentsDeleted: 0,
    damage: null,
    repaired: false,
    strayFilesRemoved: 0,
  }
  /**
   * The records a cut at `position` of segments[i] drops, as far as they can be counted: the
   * batches from there on whose headers still read as contiguous (a batch that fails its CRC
   * still says how many records it held), and the records of every later segment.
   */
  const countDropped = (i: number, position: number, firstOffset: number): number => {
    let next = firstOffset
    segments[i].walk(position, segments[i].size, false, (buf, at) => {
      if (readInt64(buf, at) !== next) return false
      next += buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) + 1
      return true
    })
    let dropped = next - firstOffset
    for (const later of segments.slice(i + 1)) {
      try {
        dropped += Math.max(0, later.computeNextOffset() - later.baseOffset)
      } catch {
        // A segment whose headers cannot even be walked adds nothing we can count.
      }
    }
    return dropped
  }

  const start = repair ? 0 : segmentIndexFor(segments, recoveryPoint)
  let expected = -1
  for (let i = start; i < segments.length; i++) {
    const seg = segments[i]
    seg.openForAppend()
    const result = seg.scan(seg.size, true)
    report.segmentsRecovered++
    const gap = expected >= 0 && seg.baseOffset !== expected && seg.size > 0
    const damaged = result.problem !== null || result.validBytes < seg.size || gap
    if (!damaged) {
      seg.flushIndexes()
      seg.syncSync()
      expected = result.nextOffset
      if (i < segments.length - 1) seg.closeWriter()
      continue
    }

    const position = gap ? 0 : result.validBytes
    const problem = gap
      ? `segment starts at offset ${seg.baseOffset} but the one before ends at ${expected}`
      : (result.problem ?? `${seg.size - result.validBytes} bytes past the last valid batch`)
    // The first offset lost: for a missing segment, where the one before it ended.
    const firstBadOffset = gap ? expected : result.nextOffset
    report.damage = { file: seg.logFile, position, problem }
    if (firstBadOffset < recoveryPoint) {
      if (!repair) {
        for (const s of segments) s.close()
        throw new CorruptLogError(`${problem} (below the recovery point ${recoveryPoint})`, seg.logFile, position)
      }
      report.repaired = true
    }
    report.droppedRecords = countDropped(i, position, gap ? seg.baseOffset : result.nextOffset)
    report.truncatedBytes += seg.size - position
    if (gap) {
      seg.truncateToSize(0, seg.baseOffset)
    } else {
      seg.truncateToSize(position, result.nextOffset)
    }
    seg.flushIndexes()
    while (segments.length > i + 1) {
      const later = segments.pop() as Segment
      report.truncatedBytes += later.size
      report.segmentsDeleted++
      later.delete()
    }
    // An emptied segment that is not the first goes too: the previous one is active again.
    if (seg.size === 0 && i > 0) {
      segments.pop()
      seg.delete()
      report.segmentsDeleted++
      segments[i - 1].openForAppend()
      segments[i - 1].loadTail()
    }
    segments[segments.length - 1].syncSync()
    break
  }
  config.io.fsyncDirSync(dir)
  const active = segments[segments.length - 1]
  if (!active.isOpenForAppend) {
    active.openForAppend()
    active.loadTail()
  }
  return report
}

/**
 * The read-only view of a live directory: no lock, no writes, no cleanup. Reuses the Segment
 * objects of an earlier look (keeping their loaded indexes) and finds the end of the last segment
 * by checking each batch, so a batch the writer is still writing is never seen.
 */
export function loadSegments(
  dir: string,
  config: SegmentConfig,
  checkpoint: Checkpoint | null,
  nowMs: number,
  previous: Segment[] = [],
): LoadedLog {
  const { bases } = listSegments(dir, config, false)
  const known = new Map(previous.map((s) => [s.baseOffset, s]))
  const segments: Segment[] = []
  for (const base of bases) {
    let seg = known.get(base)
    if (seg === undefined) {
      try {
        seg = Segment.existing(dir, base, config, nowMs)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue // deleted as we looked
        throw err
      }
    }
    segments.push(seg)
  }
  for (const s of previous) if (!segments.includes(s)) s.close()
  if (segments.length === 0) {
    const base = checkpoint?.logStartOffset ?? 0
    return { segments: [new Segment(dir, base, config, 0, nowMs)], logStartOffset: base, logEndOffset: base, report: null }
  }
  const last = segments[segments.length - 1]
  for (const seg of segments) {
    if (seg === last || seg.verifiedEnd < 0) continue
    // It was the tail at our previous look and the writer has rolled since: it is complete now.
    seg.size = config.io.statSizeSync(seg.logFile)
    seg.verifiedEnd = -1
    seg.nextOffset = -1
  }
  last.size = last.scanVisibleEnd(config.io.statSizeSync(last.logFile))
  return {
    segments,
    logStartOffset: Math.max(checkpoint?.logStartOffset ?? 0, segments[0].baseOffset),
    logEndOffset: last.nextOffset,
    report: null,
  }
}
