/** What every request handler of the wire server works with. */
import type { Broker } from '../../broker.js'
import type { ConsumerGroups } from '../../consumer-groups.js'
import type { RequestHeader } from '../frame.js'
import type { WireGroupCoordinator } from '../wire-group-coordinator.js'

export interface ServerContext {
  readonly broker: Broker
  readonly groups: ConsumerGroups
  readonly coordinator: WireGroupCoordinator
  /** This broker's node id in Metadata and FindCoordinator. */
  readonly nodeId: number
  readonly clusterId: string
  /** The host and port clients are told to connect to. */
  advertised(): { host: string; port: number }
  log(line: string): void
}

export interface RequestContext {
  readonly header: RequestHeader
  /** The client's address, as Kafka shows it in DescribeGroups ("/127.0.0.1"). */
  readonly clientHost: string
  /** Aborted when the connection closes or the server shuts down: long polls answer at once. */
  readonly signal: AbortSignal
}

/** Decoded request in, response out; null means no response at all (Produce with acks 0). */
export type Handler<Req, Res> = (request: Req, rc: RequestContext) => Promise<Res | null>
