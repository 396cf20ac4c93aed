/**
 * CreateTopics (key 19), versions 0-3. num_partitions and replication_factor -1 mean the broker's
 * defaults (KafkaJS always sends -1 unless told).
 *
 * Request: [topic name num_partitions replication_factor [assignment partition [broker_id]]
 *   [config name value]] timeout_ms (v1+ validate_only)
 * Response: (v2+ throttle_time_ms) [topic name error_code (v1+ error_message)]
 */
import type { ApiCodec } from './codec.js'

export interface CreateTopicsRequest {
  topics: {
    name: string
    numPartitions: number
    replicationFactor: number
    assignments: { partition: number; brokerIds: number[] }[]
    configs: { name: string; value: string | null }[]
  }[]
  timeoutMs: number
  validateOnly: boolean
}

export interface CreateTopicsResponse {
  throttleTimeMs: number
  topics: { name: string; errorCode: number; errorMessage: string | null }[]
}

export const CreateTopics: ApiCodec<CreateTopicsRequest, CreateTopicsResponse> = {
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 3,
  decodeRequest(r, version) {
    const topics = r.array(
      (r) => ({
        name: r.string('topic name'),
        numPartitions: r.int32('num_partitions'),
        replicationFactor: r.int16('replication_factor'),
        assignments: r.array((r) => ({ partition: r.int32('partition'), brokerIds: r.array((r) => r.int32('broker_id'), 'broker_ids') }), 'assignments'),
        configs: r.array((r) => ({ name: r.string('config name'), value: r.nullableString('config value') }), 'configs'),
      }),
      'topics',
    )
    const timeoutMs = r.int32('timeout_ms')
    const validateOnly = version >= 1 ? r.bool('validate_only') : false
    return { topics, timeoutMs, validateOnly }
  },
  encodeResponse(w, version, res) {
    if (version >= 2) w.int32(res.throttleTimeMs)
    w.array(res.topics, (w, t) => {
      w.string(t.name).int16(t.errorCode)
      if (version >= 1) w.nullableString(t.errorMessage)
    })
  },
}
