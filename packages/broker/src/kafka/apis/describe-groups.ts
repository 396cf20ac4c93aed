/**
 * DescribeGroups (key 15), versions 0-2.
 *
 * Request: [group_id]
 * Response: (v1+ throttle_time_ms) [group error_code group_id state protocol_type protocol_data
 *   [member member_id client_id client_host member_metadata member_assignment]]
 */
import type { ApiCodec } from './codec.js'

export interface DescribeGroupsRequest {
  groups: string[]
}

export interface DescribedGroupMember {
  memberId: string
  clientId: string
  clientHost: string
  metadata: Buffer
  assignment: Buffer
}

export interface DescribedGroup {
  errorCode: number
  groupId: string
  /** Kafka's names: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. */
  state: string
  protocolType: string
  /** The chosen protocol (assignor) name. */
  protocolData: string
  members: DescribedGroupMember[]
}

export interface DescribeGroupsResponse {
  throttleTimeMs: number
  groups: DescribedGroup[]
}

export const DescribeGroups: ApiCodec<DescribeGroupsRequest, DescribeGroupsResponse> = {
  apiKey: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 2,
  decodeRequest(r) {
    return { groups: r.array((r) => r.string('group_id'), 'groups') }
  },
  encodeResponse(w, version, res) {
    if (version >= 1) w.int32(res.throttleTimeMs)
    w.array(res.groups, (w, g) => {
      w.int16(g.errorCode).string(g.groupId).string(g.state).string(g.protocolType).string(g.protocolData)
      w.array(g.members, (w, m) => w.string(m.memberId).string(m.clientId).string(m.clientHost).bytes(m.metadata).bytes(m.assignment))
    })
  },
}
