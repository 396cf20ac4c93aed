/**
 * ListOffsets (key 2), versions 0-2. Timestamp -1 asks for the latest offset (the high watermark),
 * -2 for the earliest (the log start), anything else for the first offset at or after it.
 *
 * Request: replica_id (v2+ isolation_level) [topic [partition timestamp (v0 max_num_offsets)]]
 * Response: (v2+ throttle_time_ms) [topic [partition error_code
 *   (v0 [old_style_offsets]) (v1+ timestamp offset)]]
 */
import type { ApiCodec } from './codec.js'

export const LATEST_TIMESTAMP = -1
export const EARLIEST_TIMESTAMP = -2

export interface ListOffsetsRequest {
  replicaId: number
  isolationLevel: number
  topics: { name: string; partitions: { partition: number; timestamp: number; maxNumOffsets: number }[] }[]
}

export interface ListOffsetsPartitionResponse {
  partition: number
  errorCode: number
  /** -1 when looking up -1/-2, or when nothing was found. */
  timestamp: number
  /** -1 when nothing was found. */
  offset: number
}

export interface ListOffsetsResponse {
  throttleTimeMs: number
  topics: { name: string; partitions: ListOffsetsPartitionResponse[] }[]
}

export const ListOffsets: ApiCodec<ListOffsetsRequest, ListOffsetsResponse> = {
  apiKey: 2,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 2,
  decodeRequest(r, version) {
    const replicaId = r.int32('replica_id')
    const isolationLevel = version >= 2 ? r.int8('isolation_level') : 0
    const topics = r.array(
      (r) => ({
        name: r.string('topic name'),
        partitions: r.array(
          (r) => ({
            partition: r.int32('partition'),
            timestamp: r.int64('timestamp'),
            maxNumOffsets: version === 0 ? r.int32('max_num_offsets') : 1,
          }),
          'partitions',
        ),
      }),
      'topics',
    )
    return { replicaId, isolationLevel, topics }
  },
  encodeResponse(w, version, res) {
    if (version >= 2) w.int32(res.throttleTimeMs)
    w.array(res.topics, (w, t) => {
      w.string(t.name)
      w.array(t.partitions, (w, p) => {
        w.int32(p.partition).int16(p.errorCode)
        // v0 answers a list of offsets; an error or nothing found is the empty list.
        if (version === 0) w.array(p.errorCode === 0 && p.offset >= 0 ? [p.offset] : [], (w, o) => w.int64(o))
        else w.int64(p.timestamp).int64(p.offset)
      })
    })
  },
}
