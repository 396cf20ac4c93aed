/** Every API this server implements, by key, and the version table ApiVersions advertises. */
import { ApiVersions, type ApiVersionRange } from './api-versions.js'
import type { ApiCodec } from './codec.js'
import { CreateTopics } from './create-topics.js'
import { DeleteTopics } from './delete-topics.js'
import { DescribeGroups } from './describe-groups.js'
import { Fetch } from './fetch.js'
import { FindCoordinator } from './find-coordinator.js'
import { Heartbeat } from './heartbeat.js'
import { InitProducerId } from './init-producer-id.js'
import { JoinGroup } from './join-group.js'
import { LeaveGroup } from './leave-group.js'
import { ListGroups } from './list-groups.js'
import { ListOffsets } from './list-offsets.js'
import { Metadata } from './metadata.js'
import { OffsetCommit } from './offset-commit.js'
import { OffsetFetch } from './offset-fetch.js'
import { Produce } from './produce.js'
import { SyncGroup } from './sync-group.js'

export {
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  DescribeGroups,
  Fetch,
  FindCoordinator,
  Heartbeat,
  InitProducerId,
  JoinGroup,
  LeaveGroup,
  ListGroups,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  Produce,
  SyncGroup,
}
export type { ApiCodec }

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCodec = ApiCodec<any, any>

const ALL: AnyCodec[] = [
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  FindCoordinator,
  JoinGroup,
  Heartbeat,
  LeaveGroup,
  SyncGroup,
  DescribeGroups,
  ListGroups,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  InitProducerId,
]

export const CODECS: ReadonlyMap<number, AnyCodec> = new Map(ALL.map((c) => [c.apiKey, c]))

/** What ApiVersions advertises, by ascending key. */
export const SUPPORTED_VERSIONS: ApiVersionRange[] = ALL.map((c) => ({
  apiKey: c.apiKey,
  minVersion: c.minVersion,
  maxVersion: c.maxVersion,
})).sort((a, b) => a.apiKey - b.apiKey)

/** Whether a request uses the flexible header (v2: tagged fields after client_id). */
export function isFlexibleRequest(apiKey: number, apiVersion: number): boolean {
  return apiKey === ApiVersions.apiKey && apiVersion >= 3
}
