/**
 * OffsetCommit (key 8), versions 0-5.
 *
 * Request: group_id (v1+ generation_id member_id) (v2-4 retention_time_ms)
 *   [topic [partition committed_offset (v1 commit_timestamp) committed_metadata]]
 * Response: (v3+ throttle_time_ms) [topic [partition error_code]]
 */
import type { ApiCodec } from './codec.js'

export interface OffsetCommitRequest {
  groupId: string
  /** -1 in v0, and from clients committing without being members (simple consumers). */
  generationId: number
  memberId: string
  retentionTimeMs: number
  topics: { name: string; partitions: { partition: number; offset: number; commitTimestamp: number; metadata: string | null }[] }[]
}

export interface OffsetCommitResponse {
  throttleTimeMs: number
  topics: { name: string; partitions: { partition: number; errorCode: number }[] }[]
}

export const OffsetCommit: ApiCodec<OffsetCommitRequest, OffsetCommitResponse> = {
  apiKey: 8,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 5,
  decodeRequest(r, version) {
    const groupId = r.string('group_id')
    const generationId = version >= 1 ? r.int32('generation_id') : -1
    const memberId = version >= 1 ? r.string('member_id') : ''
    const retentionTimeMs = version >= 2 && version <= 4 ? r.int64('retention_time_ms') : -1
    const topics = r.array(
      (r) => ({
        name: r.string('topic name'),
        partitions: r.array(
          (r) => ({
            partition: r.int32('partition'),
            offset: r.int64('committed_offset'),
            commitTimestamp: version === 1 ? r.int64('commit_timestamp') : -1,
            metadata: r.nullableString('committed_metadata'),
          }),
          'partitions',
        ),
      }),
      'topics',
    )
    return { groupId, generationId, memberId, retentionTimeMs, topics }
  },
  encodeResponse(w, version, res) {
    if (version >= 3) w.int32(res.throttleTimeMs)
    w.array(res.topics, (w, t) => {
      w.string(t.name)
      w.array(t.partitions, (w, p) => w.int32(p.partition).int16(p.errorCode))
    })
  },
}
