/**
 * FindCoordinator (key 10), versions 0-2. This broker coordinates every group (and would every
 * transaction), so the answer is always itself.
 *
 * Request: key (v1+ key_type: 0 group, 1 transaction)
 * Response: (v1+ throttle_time_ms) error_code (v1+ error_message) node_id host port
 */
import type { ApiCodec } from './codec.js'

export interface FindCoordinatorRequest {
  key: string
  keyType: number
}

export interface FindCoordinatorResponse {
  throttleTimeMs: number
  errorCode: number
  errorMessage: string | null
  nodeId: number
  host: string
  port: number
}

export const FindCoordinator: ApiCodec<FindCoordinatorRequest, FindCoordinatorResponse> = {
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 2,
  decodeRequest(r, version) {
    const key = r.string('key')
    const keyType = version >= 1 ? r.int8('key_type') : 0
    return { key, keyType }
  },
  encodeResponse(w, version, res) {
    if (version >= 1) w.int32(res.throttleTimeMs)
    w.int16(res.errorCode)
    if (version >= 1) w.nullableString(res.errorMessage)
    w.int32(res.nodeId).string(res.host).int32(res.port)
  },
}
