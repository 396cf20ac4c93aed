/**
 * JoinGroup (key 11), versions 0-5. From v4 a first join with an empty member id may be answered
 * MEMBER_ID_REQUIRED with the id to join with.
 *
 * Request: group_id session_timeout_ms (v1+ rebalance_timeout_ms) member_id (v5+ group_instance_id)
 *   protocol_type [protocol name metadata]
 * Response: (v2+ throttle_time_ms) error_code generation_id protocol_name leader member_id
 *   [member member_id (v5+ group_instance_id) metadata]
 */
import type { ApiCodec } from './codec.js'

export interface JoinGroupRequest {
  groupId: string
  sessionTimeoutMs: number
  /** v0 has none: Kafka then uses the session timeout. */
  rebalanceTimeoutMs: number
  memberId: string
  groupInstanceId: string | null
  protocolType: string
  protocols: { name: string; metadata: Buffer }[]
}

export interface JoinGroupResponse {
  throttleTimeMs: number
  errorCode: number
  generationId: number
  protocolName: string
  leader: string
  memberId: string
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[]
}

export const JoinGroup: ApiCodec<JoinGroupRequest, JoinGroupResponse> = {
  apiKey: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 5,
  decodeRequest(r, version) {
    const groupId = r.string('group_id')
    const sessionTimeoutMs = r.int32('session_timeout_ms')
    const rebalanceTimeoutMs = version >= 1 ? r.int32('rebalance_timeout_ms') : sessionTimeoutMs
    const memberId = r.string('member_id')
    const groupInstanceId = version >= 5 ? r.nullableString('group_instance_id') : null
    const protocolType = r.string('protocol_type')
    const protocols = r.array((r) => ({ name: r.string('protocol name'), metadata: r.bytes('protocol metadata') }), 'protocols')
    return { groupId, sessionTimeoutMs, rebalanceTimeoutMs, memberId, groupInstanceId, protocolType, protocols }
  },
  encodeResponse(w, version, res) {
    if (version >= 2) w.int32(res.throttleTimeMs)
    w.int16(res.errorCode).int32(res.generationId).string(res.protocolName).string(res.leader).string(res.memberId)
    w.array(res.members, (w, m) => {
      w.string(m.memberId)
      if (version >= 5) w.nullableString(m.groupInstanceId)
      w.bytes(m.metadata)
    })
  },
}
