/**
 * `samsa consume TOPIC` and `samsa tail TOPIC`, after kcat -C and rpk topic consume.
 * Without -g they read partitions directly from a read-only view of the data directory, so they
 * never disturb a running writer; `--follow` sees another process's appends within about 100 ms.
 * With -g they join the consumer group (which takes the writer's lock) and commit as they go.
 */
import type { Broker } from '@samsa/broker'
import type { Log, LogRecord } from '@samsa/log'
import type { Argv } from 'yargs'
import { interruptSignal, withBroker } from '../broker-access.js'
import { UsageError } from '../errors.js'
import type { GlobalArgs } from '../main.js'
import { type EndSpec, parseOffsetSpec, resolveStart } from '../offset-spec.js'
import { out } from '../output.js'
import { compileFormat, type Encoding, type FormattableRecord, recordJson } from '../record-format.js'

export interface ConsumeArgs extends GlobalArgs {
  topic: string
  offset?: string
  count?: number
  partition: (string | number)[]
  group?: string
  exit: boolean
  follow: boolean
  format?: string
  encoding: Encoding
}

export function consumeOptions(y: Argv<GlobalArgs>, tail: boolean): Argv<GlobalArgs> {
  let c = y
    .positional('topic', { type: 'string', demandOption: true })
    .option('count', { alias: 'n', type: 'number', describe: tail ? 'first show the last N records' : 'stop after COUNT records' })
    .option('partition', { alias: 'p', type: 'string', array: true, nargs: 1, default: [], describe: 'only these partitions (0,2 or repeated)' })
    .option('format', { alias: 'f', type: 'string', describe: "kcat-style format: %t %p %o %k %v %T %h %K %V, \\n \\t (default '%v\\n')" })
    .option('encoding', { type: 'string', choices: ['utf8', 'base64', 'hex'], default: 'utf8', describe: 'how keys and values are printed' })
  if (!tail) {
    c = c
      .option('offset', { alias: 'o', type: 'string', describe: 'start|end|N|-N|+N|@TIME, ranges N:M and @T1:T2 (rpk grammar); default start' })
      .option('group', { alias: 'g', type: 'string', describe: 'consume as a member of this group and commit' })
      .option('exit', { alias: 'e', type: 'boolean', default: false, describe: 'exit at the end of the partitions' })
      .option('follow', { type: 'boolean', default: false, describe: 'keep waiting for new records (the default unless -e)' })
      .example('$0 consume orders -o start -e', 'everything, then exit')
      .example('$0 consume orders -o -10 -e -f "%p:%o %k=%v\\n"', 'the last 10 of each partition, formatted')
      .example('$0 consume orders -o @-1h -e --json', 'the last hour, as JSON lines')
      .example('$0 consume orders -o 100:200 -p 0', 'offsets 100 to 199 of partition 0')
      .example('$0 consume orders -g billing', 'as a member of group billing, committing')
  } else {
    c = c.example('$0 tail orders', 'follow new records').example('$0 tail orders -n 20', 'the last 20, then follow')
  }
  return c as Argv<GlobalArgs>
}

function parsePartitions(values: (string | number)[]): number[] | null {
  const list = values.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter((s) => s !== '')
  if (list.length === 0) return null
  return list.map((s) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`-p takes partition numbers, got ${JSON.stringify(s)}`)
    return Number(s)
  })
}

class Printer {
  private readonly format: ((r: FormattableRecord) => string) | null
  printed = 0
  constructor(private readonly args: ConsumeArgs) {
    this.format = args.json ? null : compileFormat(args.format ?? '%v\\n', args.encoding)
  }
  async print(r: FormattableRecord): Promise<void> {
    this.printed++
    if (this.format === null) await out(JSON.stringify(recordJson(r, this.args.encoding)) + '\n')
    else await out(this.format(r))
  }
}

interface Cursor {
  partition: number
  log: Log
  next: number
  /** Stop before this offset (exclusive); Infinity to keep going. */
  stopOffset: number
  stopTime: number
  done: boolean
}

function endOf(spec: EndSpec, log: Log): { stopOffset: number; stopTime: number } {
  switch (spec.kind) {
    case 'none':
      return { stopOffset: Number.POSITIVE_INFINITY, stopTime: Number.POSITIVE_INFINITY }
    case 'end':
      return { stopOffset: log.highWatermark, stopTime: Number.POSITIVE_INFINITY }
    case 'offset':
      return { stopOffset: spec.offset, stopTime: Number.POSITIVE_INFINITY }
    case 'time':
      return { stopOffset: Number.POSITIVE_INFINITY, stopTime: spec.timestamp }
  }
}

async function openCursors(broker: Broker, args: ConsumeArgs, startFor: (log: Log) => Promise<number>, end: EndSpec): Promise<Cursor[]> {
  const d = await broker.describeTopic(args.topic)
  const wanted = parsePartitions(args.partition ?? [])
  const cursors: Cursor[] = []
  for (const p of d.partitions) {
    if (wanted !== null && !wanted.includes(p.partition)) continue
    const log = broker.partitionLog(args.topic, p.partition)
    cursors.push({ partition: p.partition, log, next: await startFor(log), ...endOf(end, log), done: false })
  }
  if (wanted !== null) {
    for (const w of wanted) {
      if (!d.partitions.some((p) => p.partition === w)) throw new UsageError(`topic ${args.topic} has no partition ${w}; it has ${d.partitions.length}`)
    }
  }
  return cursors
}

/** Read cursors round-robin until the count, the ends, or (when following) an interrupt. */
async function drain(cursors: Cursor[], printer: Printer, args: ConsumeArgs, follow: boolean, exitAtEnd: boolean): Promise<void> {
  const signal = interruptSignal()
  const limit = args.count ?? Number.POSITIVE_INFINITY
  while (!signal.aborted && printer.printed < limit) {
    let progressed = false
    for (const c of cursors) {
      if (c.done || printer.printed >= limit) continue
      if (c.next < c.log.logStartOffset) c.next = c.log.logStartOffset // retention moved the start past us
      let records: LogRecord[]
      try {
        records = await c.log.read(c.next, { maxRecords: Math.min(500, limit - printer.printed) })
      } catch (err) {
        if ((err as { code?: string }).code === 'SAMSA_OFFSET_OUT_OF_RANGE') {
          c.next = c.log.logStartOffset
          continue
        }
        throw err
      }
      for (const r of records) {
        if (r.offset >= c.stopOffset || r.timestamp >= c.stopTime) {
          c.done = true
          break
        }
        await printer.print({ topic: args.topic, partition: c.partition, ...r })
        c.next = r.offset + 1
        progressed = true
        if (printer.printed >= limit) break
      }
      if (c.next >= c.stopOffset) c.done = true
      // A time range whose end has passed is over at the tail: later appends are stamped after it.
      if (records.length === 0 && c.next >= c.log.highWatermark && (exitAtEnd || c.stopTime <= Date.now())) c.done = true
    }
    if (cursors.every((c) => c.done)) return
    if (!progressed) {
      if (!follow) return
      const ac = new AbortController()
      const stop = () => ac.abort()
      signal.addEventListener('abort', stop, { once: true })
      await Promise.race(cursors.filter((c) => !c.done).map((c) => c.log.waitForData(c.next, 1000, ac.signal)))
      ac.abort()
      signal.removeEventListener('abort', stop)
    }
  }
}

export async function consume(args: ConsumeArgs): Promise<void> {
  const spec = parseOffsetSpec(args.offset ?? 'start')
  if (args.follow && args.exit) throw new UsageError('-e (exit at the end) and --follow contradict each other; pick one')
  // As kcat: without -e, wait for records (a count or a range end stops it); with -e, stop at the end.
  const exitAtEnd = args.exit || spec.end.kind === 'end'
  const follow = !exitAtEnd
  const printer = new Printer(args)
  if (args.group !== undefined) return consumeInGroup(args, spec.start.kind, printer, exitAtEnd, follow)
  await withBroker(args, 'read', async (broker) => {
    const cursors = await openCursors(
      broker,
      args,
      (log) => resolveStart(spec.start, log.logStartOffset, log.highWatermark, (ms) => log.offsetForTimestamp(ms)),
      spec.end,
    )
    await drain(cursors, printer, args, follow, exitAtEnd)
  })
}

async function consumeInGroup(args: ConsumeArgs, start: string, printer: Printer, exitAtEnd: boolean, follow: boolean): Promise<void> {
  if (start !== 'start' && start !== 'end') {
    throw new UsageError('with -g, -o takes start or end: where to begin when the group has no committed offset')
  }
  if (parsePartitions(args.partition ?? []) !== null) throw new UsageError('-p cannot be combined with -g: the group assigns partitions')
  await withBroker(args, 'write', async (broker) => {
    const consumer = broker.consumer({ groupId: args.group as string, autoOffsetReset: start === 'start' ? 'earliest' : 'latest' })
    const signal = interruptSignal()
    try {
      await consumer.subscribe([args.topic])
      const limit = args.count ?? Number.POSITIVE_INFINITY
      while (!signal.aborted && printer.printed < limit) {
        const records = await consumer.poll({ maxRecords: Math.min(500, limit - printer.printed), timeoutMs: exitAtEnd ? 200 : 1000 })
        for (const r of records) await printer.print(r)
        if (records.length === 0 && !follow) {
          const atEnd = consumer.assignment().every((tp) => consumer.position(tp.topic, tp.partition) >= broker.partitionLog(tp.topic, tp.partition).highWatermark)
          if (atEnd) break
        }
      }
      await consumer.commit()
    } finally {
      await consumer.close()
    }
  })
}

export async function tail(args: ConsumeArgs): Promise<void> {
  const printer = new Printer(args)
  const n = args.count ?? 0
  await withBroker(args, 'read', async (broker) => {
    const cursors = await openCursors(broker, args, async (log) => Math.max(log.logStartOffset, log.highWatermark - n), { kind: 'none' })
    if (n > 0) {
      // The last N of the topic, in time order, then follow.
      const recent: FormattableRecord[] = []
      for (const c of cursors) {
        const records = c.next < c.log.highWatermark ? await c.log.read(c.next, { maxRecords: n, maxBytes: 64 * 1024 * 1024 }) : []
        for (const r of records) recent.push({ topic: args.topic, partition: c.partition, ...r })
        c.next = c.log.highWatermark
      }
      recent.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset)
      for (const r of recent.slice(-n)) await printer.print(r)
    }
    printer.printed = 0
    await drain(cursors, printer, { ...args, count: undefined }, true, false)
  })
}
