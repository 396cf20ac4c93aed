/** `samsa topic create|list|describe|delete|alter`, after kafka-topics and rpk topic. */
import type { Argv } from 'yargs'
import { withBroker } from '../broker-access.js'
import { UsageError } from '../errors.js'
import type { GlobalArgs } from '../main.js'
import { humanBytes, outJson, outLine, table } from '../output.js'

interface CreateArgs extends GlobalArgs {
  topic: string
  partitions?: number
  config: string[]
}
interface TopicArgs extends GlobalArgs {
  topic: string
}
interface AlterArgs extends TopicArgs {
  config: string[]
  delete: string[]
  partitions?: number
}

/** `--config key=value` pairs: numbers where they look like numbers; Kafka's dotted names allowed. */
export function parseConfigPairs(pairs: readonly string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--config takes key=value, got ${JSON.stringify(pair)}`)
    const key = pair.slice(0, eq).trim()
    const raw = pair.slice(eq + 1).trim()
    out[key] = /^-?\d+$/.test(raw) ? Number(raw) : raw
  }
  return out
}

function asList(v: unknown): string[] {
  if (v === undefined) return []
  return (Array.isArray(v) ? v : [v]).map(String)
}

const RETENTION_KEYS = ['retentionMs', 'retentionBytes', 'segmentBytes', 'segmentMs', 'cleanupPolicy', 'maxMessageBytes', 'flush'] as const

function fmtMs(ms: number): string {
  if (ms < 0) return 'forever'
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ]
  for (const [n, u] of units) if (ms >= n && ms % n === 0) return `${ms / n}${u}`
  return `${ms}ms`
}

export function topicCommand(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y
    .command<CreateArgs>(
      'create <topic>',
      'Create a topic',
      (c) =>
        c
          .positional('topic', { type: 'string', demandOption: true })
          .option('partitions', { alias: 'p', type: 'number', describe: 'number of partitions (default: the broker default, 1)' })
          .option('config', { alias: 'c', type: 'string', array: true, nargs: 1, default: [], describe: 'key=value, repeatable (retentionMs, retention.ms, segmentBytes, ...)' })
          .example('$0 topic create orders -p 6', 'six partitions')
          .example('$0 topic create audit -c retention.ms=86400000 -c segmentBytes=67108864', 'one day of retention, 64 MiB segments'),
      (args) =>
        withBroker(args, 'write', async (broker) => {
          const config = parseConfigPairs(asList(args.config))
          await broker.createTopic(args.topic, { ...config, ...(args.partitions !== undefined ? { partitions: args.partitions } : {}) })
          const d = await broker.describeTopic(args.topic)
          if (args.json) await outJson({ topic: d.name, partitions: d.partitions.length, config: d.config })
          else await outLine(`created topic ${d.name} with ${d.partitions.length} partition(s)`)
        }),
    )
    .command<GlobalArgs>(
      'list',
      'List topics',
      (c) => c.example('$0 topic list', 'name, partitions, records and size of each topic'),
      (args) =>
        withBroker(args, 'read', async (broker) => {
          const names = (await broker.listTopics()).map((t: unknown) => (typeof t === 'string' ? t : (t as { name: string }).name)).sort()
          const rows = []
          for (const name of names) {
            const d = await broker.describeTopic(name)
            let records = 0
            let size = 0
            for (const p of d.partitions) {
              records += p.logEndOffset - p.logStartOffset
              size += p.size
            }
            rows.push({ name, partitions: d.partitions.length, records, size })
          }
          if (args.json) for (const r of rows) await outJson(r)
          else if (rows.length === 0) await outLine('no topics')
          else await outLine(table(['NAME', 'PARTITIONS', 'RECORDS', 'SIZE'], rows.map((r) => [r.name, r.partitions, r.records, humanBytes(r.size)])))
        }),
    )
    .command<TopicArgs>(
      'describe <topic>',
      'Show a topic: its config (retention in force) and, per partition, offsets, size and segments',
      (c) => c.positional('topic', { type: 'string', demandOption: true }).example('$0 topic describe orders', ''),
      (args) =>
        withBroker(args, 'read', async (broker) => {
          const d = await broker.describeTopic(args.topic)
          if (args.json) {
            await outJson(d)
            return
          }
          await outLine(`NAME        ${d.name}`)
          await outLine(`PARTITIONS  ${d.partitions.length}`)
          const cfg = d.config as unknown as Record<string, unknown>
          const own = (d as { overrides?: Record<string, unknown> }).overrides ?? {}
          const cfgRows = RETENTION_KEYS.filter((k) => k in cfg).map((k) => {
            const v = cfg[k]
            const shown = k === 'retentionMs' || k === 'segmentMs' ? `${v} (${fmtMs(Number(v))})` : k === 'retentionBytes' && v === -1 ? '-1 (no limit)' : String(v)
            return [k, shown, k in own ? 'topic' : 'default']
          })
          await outLine('')
          await outLine(table(['CONFIG', 'VALUE', 'SOURCE'], cfgRows))
          await outLine('')
          await outLine(
            table(
              ['PARTITION', 'LOG-START-OFFSET', 'LOG-END-OFFSET', 'RECORDS', 'SIZE', 'SEGMENTS'],
              d.partitions.map((p) => [p.partition, p.logStartOffset, p.logEndOffset, p.logEndOffset - p.logStartOffset, humanBytes(p.size), p.segments]),
            ),
          )
        }),
    )
    .command<TopicArgs>(
      'delete <topic>',
      'Delete a topic and all its data',
      (c) => c.positional('topic', { type: 'string', demandOption: true }).example('$0 topic delete orders', ''),
      (args) =>
        withBroker(args, 'write', async (broker) => {
          await broker.deleteTopic(args.topic)
          if (args.json) await outJson({ topic: args.topic, deleted: true })
          else await outLine(`deleted topic ${args.topic}`)
        }),
    )
    .command<AlterArgs>(
      'alter <topic>',
      'Change a topic: config values, or more partitions',
      (c) =>
        c
          .positional('topic', { type: 'string', demandOption: true })
          .option('config', { alias: 'c', type: 'string', array: true, nargs: 1, default: [], describe: 'key=value to set, repeatable' })
          .option('delete', { alias: 'd', type: 'string', array: true, nargs: 1, default: [], describe: 'key to reset to the broker default, repeatable' })
          .option('partitions', { alias: 'p', type: 'number', describe: 'grow to this many partitions (never fewer)' })
          .example('$0 topic alter orders -c retention.ms=3600000', 'keep one hour')
          .example('$0 topic alter orders -d retentionMs', 'back to the broker default')
          .example('$0 topic alter orders -p 12', 'grow to 12 partitions'),
      (args) =>
        withBroker(args, 'write', async (broker) => {
          const set: Record<string, string | number | null> = parseConfigPairs(asList(args.config))
          for (const k of asList(args.delete)) set[k] = null
          if (Object.keys(set).length === 0 && args.partitions === undefined) {
            throw new UsageError('topic alter needs --config key=value, --delete key or --partitions N')
          }
          if (Object.keys(set).length > 0) await broker.alterTopicConfig(args.topic, set)
          if (args.partitions !== undefined) await broker.createPartitions(args.topic, args.partitions)
          const d = await broker.describeTopic(args.topic)
          if (args.json) await outJson({ topic: d.name, partitions: d.partitions.length, config: d.config })
          else await outLine(`altered topic ${d.name}: ${d.partitions.length} partition(s)`)
        }),
    )
    .example('$0 topic create orders -p 3 -c retention.ms=86400000', 'three partitions, one day of retention')
    .example('$0 topic list', 'every topic with its partitions, records and size')
    .example('$0 topic describe orders', 'config in force and per-partition offsets, size, segments')
    .example('$0 topic alter orders -p 6', 'grow to six partitions')
    .demandCommand(1, 'name a topic subcommand: create, list, describe, delete or alter')
}
