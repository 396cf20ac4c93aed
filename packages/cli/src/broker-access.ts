/**
 * How commands open the data directory. Read commands open it read-only: no lock, so they work
 * beside a service (or `samsa serve`) that is writing it. Commands that change it take the
 * writer's lock, and say what to do when another process holds it.
 */
import * as fs from 'node:fs'
import type { Broker, BrokerOptions } from '@samsa/broker'
import { SamsaError } from '@samsa/log'
import { resolveDataDir } from './data-dir.js'
import { CommandFailed } from './errors.js'
import type { GlobalArgs } from './main.js'

export async function withBroker<T>(
  args: GlobalArgs,
  mode: 'read' | 'write',
  fn: (broker: Broker) => Promise<T>,
  options: BrokerOptions = {},
): Promise<T> {
  const dataDir = resolveDataDir(args.dataDir)
  if (mode === 'read' && !fs.existsSync(dataDir)) {
    throw new CommandFailed(`data directory ${dataDir} does not exist; pass --data-dir or set SAMSA_DATA_DIR`, 'SAMSA_NOT_FOUND')
  }
  // Loaded here, not at startup: --help and the log commands never need the broker (or LMDB).
  const { Broker } = await import('@samsa/broker')
  let broker: Broker
  try {
    broker = await Broker.open(dataDir, { ...options, readOnly: mode === 'read' })
  } catch (err) {
    if (err instanceof SamsaError && err.code === 'SAMSA_LOCKED') {
      throw new CommandFailed(
        `${err.message}. This command changes the data directory, so it needs the writer's lock: stop the process that ` +
          `holds it, or make the change through that process (for samsa serve, with a Kafka client such as kcat)`,
        'SAMSA_LOCKED',
      )
    }
    throw err
  }
  try {
    return await fn(broker)
  } finally {
    await broker.close()
  }
}

/** Stop on SIGINT/SIGTERM: aborts the signal so follow loops end and the broker closes cleanly. */
export function interruptSignal(): AbortSignal {
  const ac = new AbortController()
  const stop = () => ac.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return ac.signal
}
