/** `samsa produce TOPIC`: one record per line of stdin (or --file), like kcat -P. */
import * as fs from 'node:fs'
import * as readline from 'node:readline'
import type { Argv } from 'yargs'
import { withBroker } from '../broker-access.js'
import { CommandFailed, UsageError } from '../errors.js'
import type { GlobalArgs } from '../main.js'
import { outJson, outLine } from '../output.js'

interface ProduceArgs extends GlobalArgs {
  topic: string
  key?: string
  header: string[]
  partition?: number
  file?: string
  verbose: boolean
  acks: string
}

const BATCH = 1000

export function parseHeaders(pairs: readonly string[]): { key: string; value: string }[] {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`-H takes key=value, got ${JSON.stringify(pair)}`)
    return { key: pair.slice(0, eq), value: pair.slice(eq + 1) }
  })
}

export function produceCommand(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y
    .positional('topic', { type: 'string', demandOption: true })
    .option('key', { alias: 'K', type: 'string', describe: 'split each line at the first SEP into key and value' })
    .option('header', { alias: 'H', type: 'string', array: true, nargs: 1, default: [], describe: 'key=value header on every record, repeatable' })
    .option('partition', { alias: 'p', type: 'number', describe: 'write to this partition (default: by key, or sticky for no key)' })
    .option('file', { type: 'string', describe: 'read lines from this file instead of stdin' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'print the partition and offset each record got' })
    .option('acks', { type: 'string', default: 'all', choices: ['0', '1', 'all'], describe: "'all': fsynced before acknowledged" })
    .example('echo hello | $0 produce orders', 'one record, value "hello"')
    .example("printf 'k1:v1\\nk2:v2\\n' | $0 produce orders -K : -v", 'keyed records, printing partition and offset')
    .example('$0 produce orders --file events.txt -H source=import', 'a file, with a header on every record') as Argv<GlobalArgs>
}

export async function produce(args: ProduceArgs): Promise<void> {
  const headers = parseHeaders((args.header ?? []).map(String))
  if (args.key === '') throw new UsageError('-K needs a separator, such as -K :')
  const input = args.file !== undefined ? fs.createReadStream(args.file) : process.stdin
  await withBroker(args, 'write', async (broker) => {
    // Refuse a wrong topic or partition before reading input: `samsa produce typo` must not sit
    // waiting for stdin, nor accept an empty input and report success.
    const partitions = (await broker.describeTopic(args.topic)).partitions.length
    if (args.partition !== undefined && !(Number.isInteger(args.partition) && args.partition >= 0 && args.partition < partitions)) {
      throw new CommandFailed(
        `topic ${JSON.stringify(args.topic)} has no partition ${args.partition}; its partitions are 0 to ${partitions - 1}; add partitions with samsa topic alter ${args.topic} -p N`,
        'SAMSA_UNKNOWN_PARTITION',
      )
    }
    const acks = args.acks === 'all' ? 'all' : Number(args.acks)
    const producer = broker.producer({ acks: acks as 0 | 1 | 'all' })
    let pending: { key: string | null; value: string; headers: typeof headers; partition?: number }[] = []
    let total = 0
    const flush = async () => {
      if (pending.length === 0) return
      const batch = pending
      pending = []
      const results = await producer.send(args.topic, batch)
      total += batch.length
      if (args.verbose) {
        for (const r of results) {
          if (args.json) await outJson(r)
          else await outLine(`${r.topic} partition ${r.partition} offset ${r.offset}`)
        }
      }
    }
    const lines = readline.createInterface({ input, crlfDelay: Infinity })
    for await (const line of lines) {
      let key: string | null = null
      let value = line
      if (args.key !== undefined) {
        const at = line.indexOf(args.key)
        if (at >= 0) {
          key = line.slice(0, at)
          value = line.slice(at + args.key.length)
        }
      }
      pending.push({ key, value, headers, ...(args.partition !== undefined ? { partition: args.partition } : {}) })
      if (pending.length >= BATCH) await flush()
    }
    await flush()
    await producer.close?.()
    if (!args.verbose) process.stderr.write(`produced ${total} record(s) to ${args.topic}\n`)
  })
}
