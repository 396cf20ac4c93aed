/**
 * SyncGroup (key 14), versions 0-3.
 *
 * Request: group_id generation_id member_id (v3+ group_instance_id) [assignment member_id assignment]
 * Response: (v1+ throttle_time_ms) error_code assignment
 */
import type { ApiCodec } from './codec.js'

export interface SyncGroupRequest {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
  assignments: { memberId: string; assignment: Buffer }[]
}

export interface SyncGroupResponse {
  throttleTimeMs: number
  errorCode: number
  assignment: Buffer
}

export const SyncGroup: ApiCodec<SyncGroupRequest, SyncGroupResponse> = {
  apiKey: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 3,
  decodeRequest(r, version) {
    const groupId = r.string('group_id')
    const generationId = r.int32('generation_id')
    const memberId = r.string('member_id')
    const groupInstanceId = version >= 3 ? r.nullableString('group_instance_id') : null
    const assignments = r.array((r) => ({ memberId: r.string('assignment member_id'), assignment: r.bytes('assignment') }), 'assignments')
    return { groupId, generationId, memberId, groupInstanceId, assignments }
  },
  encodeResponse(w, version, res) {
    if (version >= 1) w.int32(res.throttleTimeMs)
    w.int16(res.errorCode).bytes(res.assignment)
  },
}
