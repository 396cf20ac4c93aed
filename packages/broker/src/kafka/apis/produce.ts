/**
 * Produce (key 0), versions 3-7: every version here carries RecordBatch v2 bytes, which are kept
 * as views of the request frame and stored as they are.
 *
 * Request: transactional_id acks timeout_ms [topic [partition records]]
 * Response: [topic [partition error_code base_offset log_append_time_ms (v5+ log_start_offset)]]
 *   throttle_time_ms
 */
import type { ApiCodec } from './codec.js'

export interface ProduceRequest {
  transactionalId: string | null
  acks: number
  timeoutMs: number
  topics: { name: string; partitions: { partition: number; records: Buffer | null }[] }[]
}

export interface ProducePartitionResponse {
  partition: number
  errorCode: number
  baseOffset: number
  /** -1 unless the topic uses LogAppendTime. */
  logAppendTimeMs: number
  logStartOffset: number
}

export interface ProduceResponse {
  topics: { name: string; partitions: ProducePartitionResponse[] }[]
  throttleTimeMs: number
}

export const Produce: ApiCodec<ProduceRequest, ProduceResponse> = {
  apiKey: 0,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 7,
  decodeRequest(r) {
    return {
      transactionalId: r.nullableString('transactional_id'),
      acks: r.int16('acks'),
      timeoutMs: r.int32('timeout_ms'),
      topics: r.array(
        (r) => ({
          name: r.string('topic name'),
          partitions: r.array((r) => ({ partition: r.int32('partition'), records: r.nullableBytes('records') }), 'partitions'),
        }),
        'topics',
      ),
    }
  },
  encodeResponse(w, version, res) {
    w.array(res.topics, (w, t) => {
      w.string(t.name)
      w.array(t.partitions, (w, p) => {
        w.int32(p.partition).int16(p.errorCode).int64(p.baseOffset).int64(p.logAppendTimeMs)
        if (version >= 5) w.int64(p.logStartOffset)
      })
    })
    w.int32(res.throttleTimeMs)
  },
}
