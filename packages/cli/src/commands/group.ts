/** `samsa group list|describe|reset-offsets|delete`, after kafka-consumer-groups. */
import type { Argv } from 'yargs'
import { withBroker } from '../broker-access.js'
import { resolveDataDir } from '../data-dir.js'
import { UsageError } from '../errors.js'
import type { GlobalArgs } from '../main.js'
import { parseTime } from '../offset-spec.js'
import { outJson, outLine, table } from '../output.js'

interface GroupArgs extends GlobalArgs {
  group: string
}
interface ResetArgs extends GroupArgs {
  topic: string
  toEarliest?: boolean
  toLatest?: boolean
  toOffset?: number
  toDatetime?: string
  shiftBy?: number
  execute: boolean
}

export function groupCommand(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y
    .command<GlobalArgs>(
      'list',
      'List consumer groups',
      (c) => c.example('$0 group list', ''),
      (args) =>
        withBroker(args, 'read', async (broker) => {
          const groups = await broker.listGroups()
          if (args.json) for (const g of groups) await outJson(g)
          else if (groups.length === 0) await outLine('no consumer groups')
          else {
            await outLine(table(['GROUP', 'STATE', 'MEMBERS', 'PROTOCOL-TYPE'], groups.map((g) => [g.groupId, g.state, g.members, g.protocolType])))
          }
        }),
    )
    .command<GroupArgs>(
      'describe <group>',
      "Show a group's members and, per partition, committed offset, log end offset and lag",
      (c) => c.positional('group', { type: 'string', demandOption: true }).example('$0 group describe billing', ''),
      (args) =>
        withBroker(args, 'read', async (broker) => {
          const d = await broker.describeGroup(args.group)
          if (args.json) {
            await outJson(d)
            return
          }
          const owner = new Map<string, string>()
          for (const m of d.members) for (const tp of m.assignment) owner.set(`${tp.topic}\u0000${tp.partition}`, m.memberId)
          await outLine(`GROUP ${d.groupId}  STATE ${d.state}  MEMBERS ${d.members.length}`)
          if (d.members.length > 0) {
            await outLine('')
            await outLine(
              table(
                ['MEMBER', 'CLIENT-ID', 'PARTITIONS'],
                d.members.map((m) => [m.memberId, m.clientId, m.assignment.map((tp) => `${tp.topic}-${tp.partition}`).join(',') || '-']),
              ),
            )
          }
          await outLine('')
          await outLine(
            table(
              ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'MEMBER'],
              d.partitions.map((p) => [
                p.topic,
                p.partition,
                p.committedOffset ?? '-',
                p.logEndOffset,
                p.lag ?? '-',
                owner.get(`${p.topic}\u0000${p.partition}`) ?? '-',
              ]),
            ),
          )
        }),
    )
    .command<ResetArgs>(
      'reset-offsets <group>',
      "Move a group's committed offsets (a dry run unless --execute)",
      (c) =>
        c
          .positional('group', { type: 'string', demandOption: true })
          .option('topic', { type: 'string', demandOption: true, describe: 'the topic whose offsets move' })
          .option('to-earliest', { type: 'boolean', describe: 'to the log start' })
          .option('to-latest', { type: 'boolean', describe: 'to the log end' })
          .option('to-offset', { type: 'number', describe: 'to this offset (clamped to the log)' })
          .option('to-datetime', { type: 'string', describe: 'to the first record at or after this time (RFC 3339, epoch ms, -1h)' })
          .option('shift-by', { type: 'number', describe: 'by N (negative: back)' })
          .option('execute', { type: 'boolean', default: false, describe: 'apply the change (otherwise only show it)' })
          .example('$0 group reset-offsets billing --topic orders --to-earliest', 'show what would change')
          .example('$0 group reset-offsets billing --topic orders --to-datetime 2026-11-24T00:00:00Z --execute', 'replay since midnight')
          .example('$0 group reset-offsets billing --topic orders --shift-by -100 --execute', 'back 100 records per partition'),
      async (args) => {
        const chosen = [args.toEarliest, args.toLatest, args.toOffset, args.toDatetime, args.shiftBy].filter((v) => v !== undefined && v !== false)
        if (chosen.length !== 1) {
          throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime T, --shift-by N')
        }
        const to = args.toEarliest
          ? ('earliest' as const)
          : args.toLatest
            ? ('latest' as const)
            : args.toOffset !== undefined
              ? args.toOffset
              : args.toDatetime !== undefined
                ? { timestamp: parseTime(args.toDatetime, Date.now()) }
                : { shiftBy: args.shiftBy as number }
        await withBroker(args, args.execute ? 'write' : 'read', async (broker) => {
          const plan = await broker.resetOffsets(args.group, args.topic, to, { dryRun: !args.execute })
          if (args.json) {
            for (const p of plan) await outJson({ ...p, executed: args.execute })
            return
          }
          await outLine(
            table(
              ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
              plan.map((p) => [p.topic, p.partition, p.from ?? '-', p.to]),
            ),
          )
          await outLine(args.execute ? `\nreset ${plan.length} partition(s) of group ${args.group}` : '\ndry run: nothing changed; add --execute to apply')
        })
      },
    )
    .command<GroupArgs>(
      'delete <group>',
      "Delete a group's committed offsets (refused while it has members)",
      (c) => c.positional('group', { type: 'string', demandOption: true }).example('$0 group delete billing', ''),
      (args) =>
        withBroker(args, 'write', async (broker) => {
          await broker.deleteGroup(args.group)
          if (args.json) await outJson({ groupId: args.group, deleted: true })
          else await outLine(`deleted group ${args.group}`)
        }),
    )
    .example('$0 group list', 'every group with its state and members')
    .example('$0 group describe billing', 'committed offset, log end and lag per partition')
    .example('$0 group reset-offsets billing --topic orders --to-earliest --execute', 'replay from the start')
    .demandCommand(1, 'name a group subcommand: list, describe, reset-offsets or delete')
}
