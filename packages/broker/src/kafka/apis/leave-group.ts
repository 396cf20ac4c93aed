/**
 * LeaveGroup (key 13), versions 0-1 (v3 turns into a batch of members).
 *
 * Request: group_id member_id
 * Response: (v1+ throttle_time_ms) error_code
 */
import type { ApiCodec } from './codec.js'

export interface LeaveGroupRequest {
  groupId: string
  memberId: string
}

export interface LeaveGroupResponse {
  throttleTimeMs: number
  errorCode: number
}

export const LeaveGroup: ApiCodec<LeaveGroupRequest, LeaveGroupResponse> = {
  apiKey: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 1,
  decodeRequest(r) {
    return { groupId: r.string('group_id'), memberId: r.string('member_id') }
  },
  encodeResponse(w, version, res) {
    if (version >= 1) w.int32(res.throttleTimeMs)
    w.int16(res.errorCode)
  },
}
