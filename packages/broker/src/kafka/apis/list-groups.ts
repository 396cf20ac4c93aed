/**
 * ListGroups (key 16), versions 0-2.
 *
 * Request: (empty)
 * Response: (v1+ throttle_time_ms) error_code [group group_id protocol_type]
 */
import type { ApiCodec } from './codec.js'

export type ListGroupsRequest = Record<string, never>

export interface ListGroupsResponse {
  throttleTimeMs: number
  errorCode: number
  groups: { groupId: string; protocolType: string }[]
}

export const ListGroups: ApiCodec<ListGroupsRequest, ListGroupsResponse> = {
  apiKey: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 2,
  decodeRequest() {
    return {}
  },
  encodeResponse(w, version, res) {
    if (version >= 1) w.int32(res.throttleTimeMs)
    w.int16(res.errorCode)
    w.array(res.groups, (w, g) => w.string(g.groupId).string(g.protocolType))
  },
}
