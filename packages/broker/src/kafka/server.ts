/**
 * The Kafka protocol server: a net.Server in front of a Broker, so kcat, KafkaJS and other Kafka
 * clients produce to it, consume from it and join its consumer groups, unchanged.
 *
 * - Binds to 127.0.0.1 unless told otherwise; Metadata and FindCoordinator advertise
 *   `advertisedHost:advertisedPort` (by default the bound address and port).
 * - Each connection answers its requests in order (connection.ts). A frame that does not parse, an
 *   unknown API key or an unsupported version ends that connection with one log line; an
 *   unsupported ApiVersions version is answered (v0 shape, UNSUPPORTED_VERSION) so the client
 *   retries lower. Nothing a client sends can crash the server.
 * - Connections idle for `idleTimeoutMs` are closed (Kafka's connections.max.idle.ms).
 * - `close()` stops accepting, answers held group requests, cuts long polls short, lets the
 *   requests in flight finish, then ends every connection.
 */
import * as net from 'node:net'
import * as os from 'node:os'
import type { Broker } from '../broker.js'
import type { ConsumerGroups } from '../consumer-groups.js'
import type { GroupState } from '../group-coordinator.js'
import { encodeUnsupportedApiVersions } from './apis/api-versions.js'
import { SUPPORTED_VERSIONS } from './apis/index.js'
import { UnsupportedApiVersionError } from '../errors.js'
import { Connection, type FrameProcessor } from './connection.js'
import { errorLine } from './error-mapping.js'
import { DEFAULT_MAX_REQUEST_BYTES, peekCorrelationId, responseFrame } from './frame.js'
import { createHandlers, type Handler, type ServerContext } from './handlers/index.js'
import { decodeRequest } from './request.js'
import { Writer } from './wire.js'
import { WireGroupCoordinator } from './wire-group-coordinator.js'

export interface KafkaServerOptions {
  /** Address to bind. Default 127.0.0.1: reachable from this machine only. */
  host?: string
  /** Port to bind; 0 picks a free one. Default 9092. */
  port?: number
  /** Host clients are told to connect to (Metadata, FindCoordinator). Default: the bound host (or the machine's name when bound to all interfaces). */
  advertisedHost?: string
  /** Port clients are told to connect to. Default: the bound port. */
  advertisedPort?: number
  /** Largest request frame accepted; bigger ones end the connection before their body is read. Default 100 MiB. */
  maxRequestBytes?: number
  /** Close connections with no request for this long. Default 10 minutes (Kafka's connections.max.idle.ms). */
  idleTimeoutMs?: number
  /** How long close() waits for a connection to finish before cutting it. Default 10 s. */
  closeTimeoutMs?: number
  /** One line per event worth a look (bad frames, refused requests, group changes). Default: stderr. */
  log?: (line: string) => void
  /** This broker's node id. Default 0. */
  nodeId?: number
  /** Shortest session timeout a group member may ask for. Default 1000 ms. */
  minSessionTimeoutMs?: number
  /** How long a group's first rebalance waits for more members. Default 0. */
  initialRebalanceDelayMs?: number
}

export interface ServerAddress {
  host: string
  port: number
  family: string
}

const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000
const PRODUCE_API_KEY = 0

function defaultLog(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`)
}

export class KafkaServer implements FrameProcessor {
  readonly coordinator: WireGroupCoordinator
  /** Requests served so far, by API key. */
  readonly requestCounts = new Map<number, number>()
  private readonly server: net.Server
  private readonly connections = new Set<Connection>()
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly handlers: Map<number, Handler<any, any>>
  private readonly context: ServerContext
  private readonly maxRequestBytes: number
  private readonly idleTimeoutMs: number
  private readonly closeTimeoutMs: number
  private readonly idleSweeper: NodeJS.Timeout
  private bound: ServerAddress | null = null
  private closing: Promise<void> | null = null
  readonly log: (line: string) => void

  private constructor(
    readonly broker: Broker,
    readonly groups: ConsumerGroups,
    private readonly options: KafkaServerOptions,
  ) {
    const sink = options.log ?? defaultLog
    // Client ids, group ids and member ids come from clients: no control characters may split a line.
    this.log = (line) => sink(line.replace(/[\u0000-\u001f\u007f]/g, ' '))
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000
    this.coordinator = new WireGroupCoordinator({
      embeddedMembers: (groupId) => groups.embeddedMembers(groupId),
      onGroupJoined: (groupId) => {
        groups.offsets.touchGroup(groupId, 'consumer').catch((err) => this.log(`kafka: recording group ${groupId} failed: ${errorLine(err)}`))
      },
      log: (line) => this.log(`kafka: ${line}`),
      minSessionTimeoutMs: options.minSessionTimeoutMs,
      initialRebalanceDelayMs: options.initialRebalanceDelayMs,
    })
    const coordinator = this.coordinator
    // Wire members show in describeGroup/listGroups, and keep embedded consumers out of their groups.
    groups.attachForeign({
      members: (groupId) =>
        coordinator.describe(groupId)?.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, assignment: m.partitions })) ?? [],
      state: (groupId) => {
        const s = coordinator.describe(groupId)?.state
        if (s === undefined) return null
        return (s === 'CompletingRebalance' ? 'PreparingRebalance' : s) as GroupState
      },
      groupIds: () => coordinator.groupIds(),
    })
    this.context = {
      broker,
      groups,
      coordinator,
      nodeId: options.nodeId ?? 0,
      clusterId: 'samsa',
      advertised: () => this.advertised(),
      log: (line) => this.log(`kafka: ${line}`),
    }
    this.handlers = createHandlers(this.context)
    this.server = net.createServer((socket) => this.accept(socket))
    this.server.on('error', (err) => this.log(`kafka: server error: ${errorLine(err)}`))
    const every = Math.max(10, Math.min(1000, Math.floor(this.idleTimeoutMs / 4)))
    this.idleSweeper = setInterval(() => this.closeIdleConnections(), every)
    this.idleSweeper.unref()
  }

  /** Bind and start serving; resolves once listening. */
  static async start(broker: Broker, groups: ConsumerGroups, options: KafkaServerOptions = {}): Promise<KafkaServer> {
    const s = new KafkaServer(broker, groups, options)
    const host = options.host ?? '127.0.0.1'
    try {
      await new Promise<void>((resolve, reject) => {
        s.server.once('error', reject)
        s.server.listen(options.port ?? 9092, host, () => {
          s.server.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      clearInterval(s.idleSweeper)
      s.coordinator.close()
      throw err
    }
    const a = s.server.address() as net.AddressInfo
    s.bound = { host: a.address, port: a.port, family: a.family }
    return s
  }

  /** Where the server listens. */
  address(): ServerAddress {
    if (this.bound === null) throw new Error('the Kafka server is not listening')
    return { ...this.bound }
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.connections.size
  }

  private advertised(): { host: string; port: number } {
    const bound = this.bound ?? { host: this.options.host ?? '127.0.0.1', port: this.options.port ?? 9092, family: 'IPv4' }
    const wildcard = bound.host === '0.0.0.0' || bound.host === '::'
    return {
      host: this.options.advertisedHost ?? (wildcard ? os.hostname() : bound.host),
      port: this.options.advertisedPort ?? bound.port,
    }
  }

  private accept(socket: net.Socket): void {
    if (this.closing !== null) {
      socket.destroy()
      return
    }
    this.connections.add(new Connection(socket, this, this.maxRequestBytes))
  }

  closed(conn: Connection): void {
    this.connections.delete(conn)
  }

  private closeIdleConnections(): void {
    const now = Date.now()
    for (const c of this.connections) {
      if (c.idle && now - c.lastActivity > this.idleTimeoutMs) c.closeIdle(now - c.lastActivity)
    }
  }

  /**
   * Produce requests may overlap: the handler hands every batch to its partition before its first
   * await, so the next Produce of a connection can start while this one waits for its fsync
   * (acks -1) and still lands after it in each log; requests in a row then share one fsync.
   */
  mayOverlap(frame: Buffer): boolean {
    return frame.length >= 2 && frame.readInt16BE(0) === PRODUCE_API_KEY
  }

  /** Decode, serve and encode one request frame. */
  async process(frame: Buffer, conn: Connection): Promise<Buffer[] | null | 'close'> {
    let decoded
    try {
      decoded = decodeRequest(frame)
    } catch (err) {
      const correlationId = peekCorrelationId(frame)
      if (err instanceof UnsupportedApiVersionError && err.apiKey === 18 && correlationId !== null) {
        // KIP-511: answer in the v0 shape with the versions we have, so the client retries lower.
        const w = new Writer()
        encodeUnsupportedApiVersions(w, SUPPORTED_VERSIONS)
        return responseFrame(correlationId, w)
      }
      this.log(`kafka: closing connection from ${conn.remote}: ${errorLine(err)}`)
      return 'close'
    }
    const { header, codec, request } = decoded
    this.requestCounts.set(header.apiKey, (this.requestCounts.get(header.apiKey) ?? 0) + 1)
    const handler = this.handlers.get(header.apiKey)!
    let response
    try {
      response = await handler(request, { header, clientHost: conn.clientHost, signal: conn.signal })
    } catch (err) {
      this.log(`kafka: ${codec.name} v${header.apiVersion} from ${header.clientId ?? '?'}@${conn.remote} failed, closing the connection: ${errorLine(err)}`)
      return 'close'
    }
    if (response === null) return null
    const w = new Writer()
    codec.encodeResponse(w, header.apiVersion, response)
    return responseFrame(header.correlationId, w)
  }

  /** Stop accepting, finish what is in flight, close every connection. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing
    this.closing = (async () => {
      clearInterval(this.idleSweeper)
      const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()))
      // Held JoinGroup/SyncGroup requests get their answer now, so their connections can finish.
      this.coordinator.close()
      await Promise.all([...this.connections].map((c) => c.close(this.closeTimeoutMs)))
      await stopped
    })()
    return this.closing
  }
}
