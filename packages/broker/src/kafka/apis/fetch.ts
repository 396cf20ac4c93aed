/**
 * Fetch (key 1), versions 4-11 (v4 is the first KafkaJS reads batches from; v12 turns flexible).
 *
 * Request: replica_id max_wait_ms min_bytes max_bytes isolation_level (v7+ session_id session_epoch)
 *   [topic [partition (v9+ current_leader_epoch) fetch_offset (v5+ log_start_offset) partition_max_bytes]]
 *   (v7+ [forgotten topic [partition]]) (v11+ rack_id)
 * Response: throttle_time_ms (v7+ error_code session_id) [topic [partition error_code high_watermark
 *   last_stable_offset (v5+ log_start_offset) [aborted producer_id first_offset]
 *   (v11+ preferred_read_replica) records]]
 */
import type { ApiCodec } from './codec.js'

export interface FetchPartitionRequest {
  partition: number
  currentLeaderEpoch: number
  fetchOffset: number
  logStartOffset: number
  maxBytes: number
}

export interface FetchRequest {
  replicaId: number
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  isolationLevel: number
  sessionId: number
  sessionEpoch: number
  topics: { name: string; partitions: FetchPartitionRequest[] }[]
  forgottenTopics: { name: string; partitions: number[] }[]
  rackId: string
}

export interface FetchPartitionResponse {
  partition: number
  errorCode: number
  highWatermark: number
  lastStableOffset: number
  logStartOffset: number
  abortedTransactions: { producerId: number; firstOffset: number }[]
  preferredReadReplica: number
  /** Stored batches, concatenated in order; never null on the wire (an empty list is empty bytes). */
  records: Buffer[]
}

export interface FetchResponse {
  throttleTimeMs: number
  errorCode: number
  sessionId: number
  topics: { name: string; partitions: FetchPartitionResponse[] }[]
}

export const Fetch: ApiCodec<FetchRequest, FetchResponse> = {
  apiKey: 1,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 11,
  decodeRequest(r, version) {
    const replicaId = r.int32('replica_id')
    const maxWaitMs = r.int32('max_wait_ms')
    const minBytes = r.int32('min_bytes')
    const maxBytes = r.int32('max_bytes')
    const isolationLevel = r.int8('isolation_level')
    const sessionId = version >= 7 ? r.int32('session_id') : 0
    const sessionEpoch = version >= 7 ? r.int32('session_epoch') : -1
    const topics = r.array(
      (r) => ({
        name: r.string('topic name'),
        partitions: r.array((r) => {
          const partition = r.int32('partition')
          const currentLeaderEpoch = version >= 9 ? r.int32('current_leader_epoch') : -1
          const fetchOffset = r.int64('fetch_offset')
          const logStartOffset = version >= 5 ? r.int64('log_start_offset') : -1
          const maxBytes = r.int32('partition_max_bytes')
          return { partition, currentLeaderEpoch, fetchOffset, logStartOffset, maxBytes }
        }, 'partitions'),
      }),
      'topics',
    )
    const forgottenTopics =
      version >= 7
        ? r.array((r) => ({ name: r.string('forgotten topic'), partitions: r.array((r) => r.int32('partition'), 'forgotten partitions') }), 'forgotten_topics_data')
        : []
    const rackId = version >= 11 ? r.string('rack_id') : ''
    return { replicaId, maxWaitMs, minBytes, maxBytes, isolationLevel, sessionId, sessionEpoch, topics, forgottenTopics, rackId }
  },
  encodeResponse(w, version, res) {
    w.int32(res.throttleTimeMs)
    if (version >= 7) w.int16(res.errorCode).int32(res.sessionId)
    w.array(res.topics, (w, t) => {
      w.string(t.name)
      w.array(t.partitions, (w, p) => {
        w.int32(p.partition).int16(p.errorCode).int64(p.highWatermark).int64(p.lastStableOffset)
        if (version >= 5) w.int64(p.logStartOffset)
        w.array(p.abortedTransactions, (w, a) => w.int64(a.producerId).int64(a.firstOffset))
        if (version >= 11) w.int32(p.preferredReadReplica)
        w.bytesFrom(p.records)
      })
    })
  },
}
