/**
 * `samsa log dump PATH` and `samsa log verify [TOPIC]`: the segment files as they are on disk,
 * after Kafka's kafka-dump-log. Both read files directly and never open a log for writing, so
 * they are safe on a directory another process is writing.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  type InspectedBatch,
  type LogRecord,
  inspectIndexFile,
  inspectSegmentFile,
  listSegmentFiles,
} from '@samsa/log'
import type { Argv } from 'yargs'
import { parsePartitionDir, resolveDataDir } from '../data-dir.js'
import { CommandFailed, UsageError } from '../errors.js'
import { humanBytes, outJson, outLine } from '../output.js'
import type { GlobalArgs } from '../main.js'

interface DumpArgs extends GlobalArgs {
  path: string
  records: boolean
  index: boolean
}

interface VerifyArgs extends GlobalArgs {
  topic?: string
}

export function logCommand(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y
    .command<DumpArgs>(
      'dump <path>',
      'Print the batches of a segment file or a partition directory, like kafka-dump-log',
      (c) =>
        c
          .positional('path', { type: 'string', demandOption: true, describe: 'a .log, .index or .timeindex file, or a partition directory' })
          .option('records', { type: 'boolean', default: false, describe: 'print every record of every batch' })
          .option('index', { type: 'boolean', default: false, describe: 'print the index entries and sanity-check them' })
          .example('$0 log dump ./samsa-data/orders-0', 'every batch of every segment of partition 0')
          .example('$0 log dump ./samsa-data/orders-0/00000000000000000000.log --records', 'with the records')
          .example('$0 log dump ./samsa-data/orders-0 --index --json', 'index entries, checked, as JSON'),
      (args) => dump(args),
    )
    .command<VerifyArgs>(
      'verify [topic]',
      'CRC-check every batch of every partition (or of one topic)',
      (c) =>
        c
          .positional('topic', { type: 'string', describe: 'only this topic' })
          .example('$0 log verify', 'check the whole data directory')
          .example('$0 log verify orders --json', 'check one topic, one JSON line per partition'),
      (args) => verify(args),
    )
    .example('$0 log dump ./samsa-data/orders-0 --records', 'batches and records of a partition')
    .example('$0 log verify', 'CRC-check every batch of every partition')
    .demandCommand(1, 'name a log subcommand: dump or verify')
}

function fmtBytes(b: Buffer | null, limit = 256): string {
  if (b === null) return 'null'
  const s = b.toString('utf8')
  return s.length > limit ? s.slice(0, limit) + '...' : s
}

const ZEROS_WHY = 'preallocated by a writer that is running or crashed, or pages a power loss took; cut when the log is next opened for writing'

function batchLine(b: InspectedBatch): string {
  const h = b.header
  if (b.zeros) return `position: ${b.position} size: ${b.size} zeros: the rest of the file is zero bytes (${ZEROS_WHY})`
  if (h === null) return `position: ${b.position} size: ${b.size} isvalid: false problem: ${b.problem}`
  return (
    `baseOffset: ${h.baseOffset} lastOffset: ${h.lastOffset} count: ${h.recordCount} position: ${b.position} ` +
    `${b.timestampType}: ${h.maxTimestamp} size: ${b.size} crc: ${h.crc} isvalid: ${b.valid} ` +
    `compression: ${b.compression} producerId: ${h.producerId} producerEpoch: ${h.producerEpoch} ` +
    `baseSequence: ${h.baseSequence} isTransactional: ${b.transactional} isControl: ${b.control}` +
    (b.problem ? ` problem: ${b.problem}` : '')
  )
}

function recordLine(r: LogRecord): string {
  const headers = r.headers.map((h) => `${h.key}=${fmtBytes(h.value, 64)}`).join(',')
  return (
    `| offset: ${r.offset} CreateTime: ${r.timestamp} keySize: ${r.key?.length ?? -1} ` +
    `valueSize: ${r.value?.length ?? -1} headers: [${headers}] key: ${fmtBytes(r.key)} payload: ${fmtBytes(r.value)}`
  )
}

function batchJson(b: InspectedBatch): Record<string, unknown> {
  const h = b.header
  return {
    baseOffset: h?.baseOffset ?? null,
    lastOffset: h?.lastOffset ?? null,
    count: h?.recordCount ?? null,
    position: b.position,
    timestampType: b.timestampType,
    maxTimestamp: h?.maxTimestamp ?? null,
    size: b.size,
    crc: h?.crc ?? null,
    isValid: b.valid,
    problem: b.problem,
    compression: b.compression,
    producerId: h?.producerId ?? null,
    producerEpoch: h?.producerEpoch ?? null,
    baseSequence: h?.baseSequence ?? null,
    isTransactional: b.transactional,
    isControl: b.control,
    ...(b.zeros ? { zeros: true } : {}),
    ...(b.records
      ? {
          records: b.records.map((r) => ({
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key === null ? null : r.key.toString('utf8'),
            value: r.value === null ? null : r.value.toString('utf8'),
            headers: r.headers.map((x) => ({ key: x.key, value: x.value === null ? null : x.value.toString('utf8') })),
          })),
        }
      : {}),
  }
}

/** The files `log dump PATH` covers. */
function dumpTargets(target: string): { logs: string[]; indexes: string[] } {
  let stat: fs.Stats
  try {
    stat = fs.statSync(target)
  } catch {
    throw new CommandFailed(`no such file or directory: ${target}`, 'SAMSA_NOT_FOUND')
  }
  if (stat.isDirectory()) {
    const logs = listSegmentFiles(target).map((s) => s.logFile)
    if (logs.length === 0) throw new CommandFailed(`${target} holds no segment files (*.log named by a 20-digit offset)`, 'SAMSA_NOT_FOUND')
    return { logs, indexes: logs.flatMap((l) => [l.replace(/\.log$/, '.index'), l.replace(/\.log$/, '.timeindex')]) }
  }
  if (target.endsWith('.log')) return { logs: [target], indexes: [target.replace(/\.log$/, '.index'), target.replace(/\.log$/, '.timeindex')] }
  if (target.endsWith('.index') || target.endsWith('.timeindex')) return { logs: [], indexes: [target] }
  throw new UsageError(`${target} is not a .log, .index or .timeindex file or a partition directory`)
}

async function dump(args: DumpArgs): Promise<void> {
  const { logs, indexes } = dumpTargets(args.path)
  const indexOnly = logs.length === 0
  let problems = 0
  for (const file of logs) {
    if (!args.json) await outLine(`Dumping ${file}`)
    for (const b of inspectSegmentFile(file, { records: args.records })) {
      if (!b.valid) problems++
      if (args.json) {
        await outJson({ file, ...batchJson(b) })
        continue
      }
      await outLine(batchLine(b))
      if (b.records) for (const r of b.records) await outLine(recordLine(r))
      if (b.recordsError) await outLine(`| records not shown: ${b.recordsError}`)
    }
  }
  if (args.index || indexOnly) {
    for (const file of indexes) {
      if (!fs.existsSync(file)) continue
      if (!args.json) await outLine(`Dumping ${file}`)
      const time = file.endsWith('.timeindex')
      for (const e of inspectIndexFile(file)) {
        if (e.problem !== null) problems++
        if (args.json) await outJson({ file, ...e })
        else if (time) await outLine(`timestamp: ${e.timestamp} offset: ${e.offset}${e.problem ? ` problem: ${e.problem}` : ''}`)
        else await outLine(`offset: ${e.offset} position: ${e.position}${e.problem ? ` problem: ${e.problem}` : ''}`)
      }
    }
  }
  if (problems > 0) throw new CommandFailed(`${problems} invalid batch(es) or index entries found; see the lines marked problem`, 'SAMSA_CORRUPT_BATCH')
}

interface PartitionDir {
  name: string
  dir: string
  topic: string
  partition: number
}

function partitionDirs(dataDir: string, topic: string | undefined): PartitionDir[] {
  if (!fs.existsSync(dataDir)) throw new CommandFailed(`data directory ${dataDir} does not exist; pass --data-dir or set SAMSA_DATA_DIR`, 'SAMSA_NOT_FOUND')
  const out: PartitionDir[] = []
  for (const entry of fs.readdirSync(dataDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const parsed = parsePartitionDir(entry.name)
    if (parsed === null) continue
    if (topic !== undefined && parsed.topic !== topic) continue
    out.push({ name: entry.name, dir: path.join(dataDir, entry.name), ...parsed })
  }
  if (topic !== undefined && out.length === 0) throw new CommandFailed(`no partitions of topic ${topic} in ${dataDir}`, 'SAMSA_UNKNOWN_TOPIC')
  return out.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
}

/** A one-line progress bar on stderr, redrawn at most every 100 ms. */
class Progress {
  private last = 0
  constructor(
    private readonly total: number,
    private readonly enabled: boolean,
  ) {}

  update(done: number, label: string): void {
    if (!this.enabled) return
    const now = Date.now()
    if (now - this.last < 100 && done < this.total) return
    this.last = now
    const width = 30
    const frac = this.total === 0 ? 1 : Math.min(1, done / this.total)
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.')
    process.stderr.write(`\r[${bar}] ${(frac * 100).toFixed(0).padStart(3)}%  ${humanBytes(done)} / ${humanBytes(this.total)}  ${label}`.padEnd(100))
  }

  end(): void {
    if (this.enabled) process.stderr.write('\r' + ' '.repeat(100) + '\r')
  }
}

/** A CRC covers a whole batch, so the damage is somewhere in its byte range. */
function where(bad: { position: number; size: number }): string {
  return `the batch at bytes ${bad.position}-${bad.position + Math.max(bad.size, 1) - 1}`
}

async function verify(args: VerifyArgs): Promise<void> {
  const dataDir = resolveDataDir(args.dataDir)
  const partitions = partitionDirs(dataDir, args.topic)
  const segmentsOf = new Map(partitions.map((p) => [p.name, listSegmentFiles(p.dir)]))
  let total = 0
  for (const segs of segmentsOf.values()) for (const s of segs) total += s.size
  const progress = new Progress(total, process.stderr.isTTY === true && !args.json)
  if (partitions.length === 0 && !args.json) await outLine(`no partitions in ${dataDir}`)
  let done = 0
  let failure: string | null = null
  for (const p of partitions) {
    const segs = segmentsOf.get(p.name) ?? []
    let batches = 0
    let records = 0
    let bytes = 0
    let expected = -1
    let note: string | null = null
    let bad: { file: string; position: number; size: number; problem: string } | null = null
    for (let i = 0; i < segs.length && bad === null; i++) {
      const seg = segs[i]
      const last = i === segs.length - 1
      for (const b of inspectSegmentFile(seg.logFile)) {
        if (b.zeros && last) {
          note = `${b.size} zero bytes after the last batch of ${seg.logFile} (${ZEROS_WHY})`
          break
        }
        if (b.zeros) {
          // A rolled segment is trimmed before the next one exists: zeros here are lost data.
          bad = { file: seg.logFile, position: b.position, size: b.size, problem: `${b.size} zero bytes after the last batch of a closed segment` }
          break
        }
        const tail = last && b.header === null && b.problem?.startsWith('truncated')
        const truncatedTail = last && b.problem !== null && b.problem.startsWith('truncated')
        if (tail || truncatedTail) {
          note = `incomplete batch at byte ${b.position} of ${seg.logFile} (being written now, or a torn write that the writer's recovery removes)`
          break
        }
        if (!b.valid || b.header === null) {
          bad = { file: seg.logFile, position: b.position, size: b.size, problem: b.problem ?? 'invalid batch' }
          break
        }
        if (expected >= 0 && b.header.baseOffset !== expected) {
          bad = { file: seg.logFile, position: b.position, size: b.size, problem: `batch offset ${b.header.baseOffset} does not follow ${expected}` }
          break
        }
        expected = b.header.lastOffset + 1
        batches++
        records += b.header.recordCount
        bytes += b.size
        progress.update(done + b.position + b.size, p.name)
      }
      done += seg.size
    }
    progress.update(done, p.name)
    const summary = {
      topic: p.topic,
      partition: p.partition,
      segments: segs.length,
      batches,
      records,
      bytes,
      ok: bad === null,
      ...(bad !== null ? { file: bad.file, position: bad.position, batchBytes: bad.size, problem: bad.problem } : {}),
      ...(note !== null ? { note } : {}),
    }
    if (args.json) await outJson(summary)
    else if (!process.stderr.isTTY || bad !== null || note !== null) {
      const status = bad === null ? 'OK' : `CORRUPT at byte ${bad.position} of ${bad.file} (${where(bad)}): ${bad.problem}`
      progress.end()
      await outLine(`${p.name}: ${segs.length} segment(s), ${batches} batch(es), ${records} record(s), ${humanBytes(bytes)}  ${status}${note ? `  (note: ${note})` : ''}`)
    }
    if (bad !== null && failure === null) failure = `corrupt batch in ${bad.file} at byte ${bad.position} (${where(bad)}): ${bad.problem}`
  }
  progress.end()
  if (!args.json && process.stderr.isTTY) await outLine(`verified ${partitions.length} partition(s), ${humanBytes(total)}`)
  if (failure !== null) throw new CommandFailed(failure, 'SAMSA_CORRUPT_BATCH')
}
