/**
 * `samsa serve`: the Kafka wire protocol on this data directory, so kcat, KafkaJS and other
 * Kafka clients produce, consume and join groups unchanged. Binds 127.0.0.1 unless told
 * otherwise; SIGINT or SIGTERM closes it cleanly (in-flight requests finish, then the data
 * directory is flushed and released).
 */
import type { Argv } from 'yargs'
import { interruptSignal, withBroker } from '../broker-access.js'
import { resolveDataDir } from '../data-dir.js'
import type { GlobalArgs } from '../main.js'
import { outJson, outLine } from '../output.js'

interface ServeArgs extends GlobalArgs {
  host: string
  port: number
  advertisedHost?: string
  advertisedPort?: number
  autoCreateTopics: boolean
  partitions?: number
}

export function serveOptions(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
    .option('port', { type: 'number', default: 9092, describe: 'port to listen on (0: any free port)' })
    .option('advertised-host', { type: 'string', describe: 'host clients are told to connect to (default: --host)' })
    .option('advertised-port', { type: 'number', describe: 'port clients are told to connect to (default: --port)' })
    .option('auto-create-topics', { type: 'boolean', default: true, describe: 'create topics clients ask for, as a Kafka broker does (--no-auto-create-topics to refuse)' })
    .option('partitions', { type: 'number', describe: 'partitions of auto-created topics (default 1)' })
    .example('$0 serve', 'serve ./samsa-data on 127.0.0.1:9092')
    .example('$0 serve --port 19092 --data-dir /var/lib/samsa', 'another port and directory')
    .example('kcat -b 127.0.0.1:9092 -L', 'then, from another shell: list topics with kcat') as Argv<GlobalArgs>
}

export async function serve(args: ServeArgs): Promise<void> {
  const signal = interruptSignal()
  const dataDir = resolveDataDir(args.dataDir)
  await withBroker(
    args,
    'write',
    async (broker) => {
      const server = await broker.listen({
        host: args.host,
        port: args.port,
        ...(args.advertisedHost !== undefined ? { advertisedHost: args.advertisedHost } : {}),
        ...(args.advertisedPort !== undefined ? { advertisedPort: args.advertisedPort } : {}),
      })
      const { host, port } = server.address()
      const target = `${args.advertisedHost ?? host}:${args.advertisedPort ?? port}`
      if (args.json) await outJson({ event: 'listening', dataDir, host, port, bootstrap: target })
      else {
        await outLine(`samsa: serving ${dataDir} to Kafka clients on ${host}:${port} (Ctrl-C to stop)`)
        await outLine('')
        await outLine(`  kcat:     kcat -b ${target} -L`)
        await outLine(`            echo 'key1:hello' | kcat -b ${target} -t orders -P -K:`)
        await outLine(`            kcat -b ${target} -t orders -C -o beginning -e -f '%k=%s\\n'`)
        await outLine(`  KafkaJS:  new Kafka({ clientId: 'my-app', brokers: ['${target}'] })`)
        await outLine(`  samsa:    samsa --data-dir ${dataDir} topic list   (read commands work beside the server)`)
      }
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
      if (!args.json) process.stderr.write('samsa: stopping: finishing in-flight requests\n')
      await server.close()
    },
    { autoCreateTopics: args.autoCreateTopics, ...(args.partitions !== undefined ? { partitions: args.partitions } : {}) },
  )
  if (args.json) await outJson({ event: 'stopped' })
}
