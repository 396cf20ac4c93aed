/**
 * The `samsa` command, kubectl-style: a noun, then a verb. Every command gets --data-dir
 * (else SAMSA_DATA_DIR, else ./samsa-data), --json and --debug.
 */
import yargs, { type Argv } from 'yargs'
import { type ConsumeArgs, consume, consumeOptions, tail } from './commands/consume.js'
import { groupCommand } from './commands/group.js'
import { logCommand } from './commands/log.js'
import { produce, produceCommand } from './commands/produce.js'
import { retentionCommand } from './commands/retention.js'
import { serve, serveOptions } from './commands/serve.js'
import { topicCommand } from './commands/topic.js'
import { normalizeArgv } from './argv.js'
import { exitCodeFor, formatError, UsageError } from './errors.js'
import { usageMessage } from './usage-message.js'

export interface GlobalArgs {
  dataDir?: string
  json: boolean
  debug: boolean
}

export function buildParser(argv: string[]): Argv<GlobalArgs> {
  return yargs(normalizeArgv(argv))
    .scriptName('samsa')
    .usage('$0 <command> [options]\n\nAn embedded, Kafka-style commit log: inspect, produce, consume and tail its topics.')
    .option('data-dir', {
      type: 'string',
      describe: 'the data directory (default: $SAMSA_DATA_DIR, else ./samsa-data)',
      global: true,
    })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output: one JSON value per line', global: true })
    .option('debug', { type: 'boolean', default: false, describe: 'show stack traces on errors', global: true })
    .command('topic', 'Create, list, describe, delete and alter topics', (y) => topicCommand(y as Argv<GlobalArgs>))
    .command(
      'produce <topic>',
      'Produce one record per line of stdin (like kcat -P)',
      (y) => produceCommand(y as Argv<GlobalArgs>),
      (args) => produce(args as never),
    )
    .command(
      'consume <topic>',
      'Consume records (like kcat -C / rpk topic consume)',
      (y) => consumeOptions(y as Argv<GlobalArgs>, false),
      (args) => consume(args as unknown as ConsumeArgs),
    )
    .command(
      'tail <topic>',
      'Follow a topic from its end',
      (y) => consumeOptions(y as Argv<GlobalArgs>, true),
      (args) => tail(args as unknown as ConsumeArgs),
    )
    .command('group', 'List, describe, reset and delete consumer groups', (y) => groupCommand(y as Argv<GlobalArgs>))
    .command('log', 'Dump and verify segment files', (y) => logCommand(y as Argv<GlobalArgs>))
    .command('retention', 'Apply retention now', (y) => retentionCommand(y as Argv<GlobalArgs>))
    .command(
      'serve',
      'Serve the data directory over the Kafka protocol (kcat, KafkaJS, librdkafka clients)',
      (y) => serveOptions(y as Argv<GlobalArgs>),
      (args) => serve(args as never),
    )
    .example('$0 topic create orders -p 3', 'a topic of three partitions in ./samsa-data')
    .example('printf "k1:hello\\n" | $0 produce orders -K :', 'produce a keyed record')
    .example('$0 consume orders -o start -e', 'read everything and exit')
    .example('$0 group describe billing', "a group's lag per partition")
    .example('$0 log verify', 'CRC-check every partition')
    .example('$0 serve', 'let Kafka clients in on 127.0.0.1:9092')
    .demandCommand(1, 'name a command; see samsa --help')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs calls this for its own usage errors (msg) and for errors thrown by handlers (err).
      throw err ?? new UsageError(usageMessage(msg, argv))
    }) as unknown as Argv<GlobalArgs>
}

/** Run the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug')
  try {
    await buildParser(argv).parseAsync()
    return 0
  } catch (err) {
    process.stderr.write(formatError(err, debug) + '\n')
    if (err instanceof UsageError) process.stderr.write('Run samsa --help (or samsa <command> --help) for usage.\n')
    return exitCodeFor(err)
  }
}
