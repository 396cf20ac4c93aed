/**
 * DeleteTopics (key 20), versions 0-1.
 *
 * Request: [topic_name] timeout_ms
 * Response: (v1+ throttle_time_ms) [topic name error_code]
 */
import type { ApiCodec } from './codec.js'

export interface DeleteTopicsRequest {
  topics: string[]
  timeoutMs: number
}

export interface DeleteTopicsResponse {
  throttleTimeMs: number
  topics: { name: string; errorCode: number }[]
}

export const DeleteTopics: ApiCodec<DeleteTopicsRequest, DeleteTopicsResponse> = {
  apiKey: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 1,
  decodeRequest(r) {
    return { topics: r.array((r) => r.string('topic name'), 'topic_names'), timeoutMs: r.int32('timeout_ms') }
  },
  encodeResponse(w, version, res) {
    if (version >= 1) w.int32(res.throttleTimeMs)
    w.array(res.topics, (w, t) => w.string(t.name).int16(t.errorCode))
  },
}
