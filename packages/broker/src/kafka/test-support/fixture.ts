/**
 * Test fixture for the wire server: a real Broker in a temp directory, serving the Kafka protocol
 * (broker.listen) on a free port of 127.0.0.1, and helpers to drive the real clients (kcat as a
 * child process, KafkaJS in-process). Nothing here stands in for a client.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Broker, type BrokerOptions } from '../../broker.js'
import type { ConsumerGroups } from '../../consumer-groups.js'
import type { KafkaServer, KafkaServerOptions } from '../server.js'

export interface Running {
  dir: string
  broker: Broker
  groups: ConsumerGroups
  server: KafkaServer
  port: number
  /** Lines the server logged. */
  logs: string[]
  /** "127.0.0.1:port", for client configs. */
  bootstrap: string
  /** Close the broker (and with it the server) and remove the data directory unless `keepDir`. */
  stop(options?: { keepDir?: boolean }): Promise<void>
}

export async function startServer(
  options: { dir?: string; broker?: BrokerOptions; server?: KafkaServerOptions } = {},
): Promise<Running> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-kafka-'))
  const broker = await Broker.open(dir, { retentionCheckIntervalMs: 0, ...options.broker })
  const groups = broker.groups
  const logs: string[] = []
  const server = await broker.listen({ port: 0, log: (l) => logs.push(l), ...options.server })
  const port = server.address().port
  let stopped = false
  return {
    dir,
    broker,
    groups,
    server,
    port,
    logs,
    bootstrap: `127.0.0.1:${port}`,
    async stop({ keepDir = false } = {}) {
      if (stopped) return
      stopped = true
      // The broker closes its Kafka server first.
      await broker.close()
      if (!keepDir) fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface KcatResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Run kcat to completion (killed after `timeoutMs`), feeding `input` on stdin. */
export function kcat(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<KcatResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

export function hasKcat(): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => fs.existsSync(path.join(d, 'kcat')))
}
