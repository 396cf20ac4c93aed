/** `samsa retention run [--dry-run]`: apply retention now, or show what it would delete. */
import type { Argv } from 'yargs'
import { withBroker } from '../broker-access.js'
import type { GlobalArgs } from '../main.js'
import { humanBytes, outJson, outLine, table } from '../output.js'

interface RetentionArgs extends GlobalArgs {
  dryRun: boolean
}

export function retentionCommand(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y
    .command<RetentionArgs>(
      'run',
      'Delete segments past their topic retention (by time and size) now',
      (c) =>
        c
          .option('dry-run', { type: 'boolean', default: false, describe: 'only show what would be deleted' })
          .example('$0 retention run --dry-run', 'what retention would delete now')
          .example('$0 retention run', 'delete it'),
      (args) =>
        withBroker(args, args.dryRun ? 'read' : 'write', async (broker) => {
          const deleted = await broker.enforceRetention({ dryRun: args.dryRun })
          if (args.json) {
            for (const d of deleted) await outJson({ ...d, dryRun: args.dryRun })
            return
          }
          if (deleted.length === 0) {
            await outLine(args.dryRun ? 'nothing is past retention' : 'nothing was past retention')
            return
          }
          await outLine(
            table(
              ['TOPIC', 'PARTITION', 'SEGMENTS', 'SIZE', 'NEW-LOG-START-OFFSET'],
              deleted.map((d) => [d.topic, d.partition, d.segments.length, humanBytes(d.bytes), d.logStartOffset]),
            ),
          )
          const bytes = deleted.reduce((n, d) => n + d.bytes, 0)
          await outLine(`\n${args.dryRun ? 'would delete' : 'deleted'} ${humanBytes(bytes)} in ${deleted.reduce((n, d) => n + d.segments.length, 0)} segment(s)`)
        }),
    )
    .example('$0 retention run --dry-run', 'what retention would delete now')
    .demandCommand(1, 'name a retention subcommand: run')
}
