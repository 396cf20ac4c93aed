/**
 * Metadata (key 3), versions 0-4. v4 has no offline_replicas (that is v5).
 *
 * Request: v0 [topic] (empty = all); v1+ nullable [topic] (null = all, empty = none);
 *   v4+ allow_auto_topic_creation
 * Response: (v3+ throttle_time_ms) [broker node_id host port (v1+ rack)] (v2+ cluster_id)
 *   (v1+ controller_id) [topic error_code name (v1+ is_internal)
 *   [partition error_code partition_index leader_id [replica] [isr]]]
 */
import type { ApiCodec } from './codec.js'

export interface MetadataRequest {
  /** null: every topic. */
  topics: string[] | null
  allowAutoTopicCreation: boolean
}

export interface MetadataBroker {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

export interface MetadataPartition {
  errorCode: number
  partition: number
  leaderId: number
  replicaNodes: number[]
  isrNodes: number[]
}

export interface MetadataTopic {
  errorCode: number
  name: string
  isInternal: boolean
  partitions: MetadataPartition[]
}

export interface MetadataResponse {
  throttleTimeMs: number
  brokers: MetadataBroker[]
  clusterId: string | null
  controllerId: number
  topics: MetadataTopic[]
}

export const Metadata: ApiCodec<MetadataRequest, MetadataResponse> = {
  apiKey: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 4,
  decodeRequest(r, version) {
    let topics: string[] | null
    if (version === 0) {
      const list = r.array((r) => r.string('topic'), 'topics')
      topics = list.length === 0 ? null : list
    } else {
      topics = r.nullableArray((r) => r.string('topic'), 'topics')
    }
    // Before v4 a broker's own auto.create.topics.enable alone decides.
    const allowAutoTopicCreation = version >= 4 ? r.bool('allow_auto_topic_creation') : true
    return { topics, allowAutoTopicCreation }
  },
  encodeResponse(w, version, res) {
    if (version >= 3) w.int32(res.throttleTimeMs)
    w.array(res.brokers, (w, b) => {
      w.int32(b.nodeId).string(b.host).int32(b.port)
      if (version >= 1) w.nullableString(b.rack)
    })
    if (version >= 2) w.nullableString(res.clusterId)
    if (version >= 1) w.int32(res.controllerId)
    w.array(res.topics, (w, t) => {
      w.int16(t.errorCode).string(t.name)
      if (version >= 1) w.bool(t.isInternal)
      w.array(t.partitions, (w, p) => {
        w.int16(p.errorCode).int32(p.partition).int32(p.leaderId)
        w.array(p.replicaNodes, (w, n) => w.int32(n))
        w.array(p.isrNodes, (w, n) => w.int32(n))
      })
    })
  },
}
