/**
 * The group APIs: FindCoordinator (always this broker), JoinGroup, SyncGroup, Heartbeat and
 * LeaveGroup (the wire group coordinator), OffsetCommit and OffsetFetch (the same LMDB offset
 * store as embedded groups, so `samsa group describe` shows wire groups' lag), DescribeGroups and
 * ListGroups (wire groups, and embedded ones as Kafka tools would see them).
 */
import type { DescribeGroupsRequest, DescribeGroupsResponse, DescribedGroup } from '../apis/describe-groups.js'
import type { FindCoordinatorRequest, FindCoordinatorResponse } from '../apis/find-coordinator.js'
import type { HeartbeatRequest, HeartbeatResponse } from '../apis/heartbeat.js'
import type { JoinGroupRequest, JoinGroupResponse } from '../apis/join-group.js'
import type { LeaveGroupRequest, LeaveGroupResponse } from '../apis/leave-group.js'
import type { ListGroupsRequest, ListGroupsResponse } from '../apis/list-groups.js'
import type { OffsetCommitRequest, OffsetCommitResponse } from '../apis/offset-commit.js'
import type { OffsetFetchRequest, OffsetFetchResponse } from '../apis/offset-fetch.js'
import type { SyncGroupRequest, SyncGroupResponse } from '../apis/sync-group.js'
import type { PartitionOffset } from '../../offset-store.js'
import { ErrorCode } from '../error-codes.js'
import { errorLine, kafkaErrorCode } from '../error-mapping.js'
import type { Handler, ServerContext } from './context.js'

/** Kafka's offset.metadata.max.bytes. */
const MAX_METADATA_BYTES = 4096
const EMPTY = Buffer.alloc(0)

export function findCoordinatorHandler(ctx: ServerContext): Handler<FindCoordinatorRequest, FindCoordinatorResponse> {
  return async (req) => {
    const { host, port } = ctx.advertised()
    if (req.keyType !== 0) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'transactions are not supported', nodeId: -1, host: '', port: -1 }
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, nodeId: ctx.nodeId, host, port }
  }
}

export function joinGroupHandler(ctx: ServerContext): Handler<JoinGroupRequest, JoinGroupResponse> {
  return (req, rc) => ctx.coordinator.join(req, { version: rc.header.apiVersion, clientId: rc.header.clientId ?? '', clientHost: rc.clientHost })
}

export function syncGroupHandler(ctx: ServerContext): Handler<SyncGroupRequest, SyncGroupResponse> {
  return (req) => ctx.coordinator.sync(req)
}

export function heartbeatHandler(ctx: ServerContext): Handler<HeartbeatRequest, HeartbeatResponse> {
  return async (req) => ({ throttleTimeMs: 0, errorCode: ctx.coordinator.heartbeat(req) })
}

export function leaveGroupHandler(ctx: ServerContext): Handler<LeaveGroupRequest, LeaveGroupResponse> {
  return async (req) => ({ throttleTimeMs: 0, errorCode: ctx.coordinator.leave(req) })
}

class CommitRefused extends Error {
  constructor(readonly errorCode: number) {
    super(`commit refused with Kafka error ${errorCode}`)
  }
}

export function offsetCommitHandler(ctx: ServerContext): Handler<OffsetCommitRequest, OffsetCommitResponse> {
  return async (req) => {
    const codes = new Map<string, number>()
    const key = (topic: string, partition: number) => `${topic}\u0000${partition}`
    const entries: PartitionOffset[] = []
    const check = ctx.coordinator.checkCommit(req.groupId, req.memberId, req.generationId)
    for (const t of req.topics) {
      const topic = ctx.broker.getTopic(t.name)
      for (const p of t.partitions) {
        let code: number = check
        if (code === ErrorCode.NONE) {
          if (topic === undefined || topic.partitions[p.partition] === undefined) code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          else if (p.metadata !== null && Buffer.byteLength(p.metadata) > MAX_METADATA_BYTES) code = 12 // OFFSET_METADATA_TOO_LARGE
          else entries.push({ topic: t.name, partition: p.partition, offset: p.offset, metadata: p.metadata })
        }
        codes.set(key(t.name, p.partition), code)
      }
    }
    if (entries.length > 0) {
      let failure: number | null = null
      try {
        await ctx.groups.offsets.commit(req.groupId, entries, {
          protocolType: 'consumer',
          // Checked again inside the LMDB transaction: a rebalance may have happened meanwhile.
          check: () => {
            const again = ctx.coordinator.checkCommit(req.groupId, req.memberId, req.generationId)
            if (again !== ErrorCode.NONE) throw new CommitRefused(again)
          },
        })
      } catch (err) {
        failure = err instanceof CommitRefused ? err.errorCode : kafkaErrorCode(err)
        if (!(err instanceof CommitRefused)) ctx.log(`offset commit of group ${req.groupId} failed: ${errorLine(err)}`)
      }
      if (failure !== null) for (const e of entries) codes.set(key(e.topic, e.partition), failure)
    }
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: codes.get(key(t.name, p.partition)) ?? ErrorCode.NONE })),
      })),
    }
  }
}

export function offsetFetchHandler(ctx: ServerContext): Handler<OffsetFetchRequest, OffsetFetchResponse> {
  return async (req) => {
    const offsets = ctx.groups.offsets
    let wanted = req.topics
    if (wanted === null) {
      // Every partition the group has committed.
      const byTopic = new Map<string, number[]>()
      for (const c of offsets.list(req.groupId)) {
        const list = byTopic.get(c.topic) ?? []
        list.push(c.partition)
        byTopic.set(c.topic, list)
      }
      wanted = [...byTopic].map(([name, partitions]) => ({ name, partitions }))
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      topics: wanted.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((partition) => {
          const c = offsets.get(req.groupId, t.name, partition)
          // Nothing committed: -1 and no error; the client then asks ListOffsets.
          return { partition, offset: c?.offset ?? -1, metadata: c?.metadata ?? '', errorCode: ErrorCode.NONE }
        }),
      })),
    }
  }
}

export function describeGroupsHandler(ctx: ServerContext): Handler<DescribeGroupsRequest, DescribeGroupsResponse> {
  return async (req) => ({ throttleTimeMs: 0, groups: req.groups.map((id) => describeOne(ctx, id)) })
}

function describeOne(ctx: ServerContext, groupId: string): DescribedGroup {
  const wire = ctx.coordinator.describe(groupId)
  if (wire !== null && wire.members.length > 0) {
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: wire.state,
      protocolType: wire.protocolType,
      protocolData: wire.protocol,
      members: wire.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, metadata: m.metadata, assignment: m.assignment })),
    }
  }
  try {
    const d = ctx.groups.describeGroup(groupId)
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: d.state,
      protocolType: d.protocolType,
      protocolData: d.protocol ?? '',
      members: d.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: '', metadata: EMPTY, assignment: EMPTY })),
    }
  } catch (err) {
    if (kafkaErrorCode(err) !== ErrorCode.GROUP_ID_NOT_FOUND) ctx.log(`describe group ${groupId} failed: ${errorLine(err)}`)
    // Kafka describes a group it does not know as Dead, without an error.
    return { errorCode: ErrorCode.NONE, groupId, state: 'Dead', protocolType: '', protocolData: '', members: [] }
  }
}

export function listGroupsHandler(ctx: ServerContext): Handler<ListGroupsRequest, ListGroupsResponse> {
  return async () => ({
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    groups: ctx.groups.listGroups().map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })),
  })
}
