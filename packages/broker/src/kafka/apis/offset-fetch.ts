/**
 * OffsetFetch (key 9), versions 1-4 (KafkaJS has no v0, and v0 read ZooKeeper-stored offsets).
 * A partition with nothing committed answers offset -1 and no error.
 *
 * Request: group_id [topic [partition]] (v2+: a null array asks for every committed partition)
 * Response: (v3+ throttle_time_ms) [topic [partition committed_offset metadata error_code]]
 *   (v2+ error_code)
 */
import type { Reader } from '../wire.js'
import type { ApiCodec } from './codec.js'

export interface OffsetFetchRequest {
  groupId: string
  /** null: every partition the group has committed (v2+). */
  topics: { name: string; partitions: number[] }[] | null
}

export interface OffsetFetchResponse {
  throttleTimeMs: number
  topics: { name: string; partitions: { partition: number; offset: number; metadata: string | null; errorCode: number }[] }[]
  errorCode: number
}

export const OffsetFetch: ApiCodec<OffsetFetchRequest, OffsetFetchResponse> = {
  apiKey: 9,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 4,
  decodeRequest(r, version) {
    const groupId = r.string('group_id')
    const readTopic = (r: Reader) => ({ name: r.string('topic name'), partitions: r.array((r) => r.int32('partition'), 'partitions') })
    const topics = version >= 2 ? r.nullableArray(readTopic, 'topics') : r.array(readTopic, 'topics')
    return { groupId, topics }
  },
  encodeResponse(w, version, res) {
    if (version >= 3) w.int32(res.throttleTimeMs)
    w.array(res.topics, (w, t) => {
      w.string(t.name)
      w.array(t.partitions, (w, p) => w.int32(p.partition).int64(p.offset).nullableString(p.metadata).int16(p.errorCode))
    })
    if (version >= 2) w.int16(res.errorCode)
  },
}
