/**
 * Heartbeat (key 12), versions 0-3.
 *
 * Request: group_id generation_id member_id (v3+ group_instance_id)
 * Response: (v1+ throttle_time_ms) error_code
 */
import type { ApiCodec } from './codec.js'

export interface HeartbeatRequest {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
}

export interface HeartbeatResponse {
  throttleTimeMs: number
  errorCode: number
}

export const Heartbeat: ApiCodec<HeartbeatRequest, HeartbeatResponse> = {
  apiKey: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 3,
  decodeRequest(r, version) {
    const groupId = r.string('group_id')
    const generationId = r.int32('generation_id')
    const memberId = r.string('member_id')
    const groupInstanceId = version >= 3 ? r.nullableString('group_instance_id') : null
    return { groupId, generationId, memberId, groupInstanceId }
  },
  encodeResponse(w, version, res) {
    if (version >= 1) w.int32(res.throttleTimeMs)
    w.int16(res.errorCode)
  },
}
