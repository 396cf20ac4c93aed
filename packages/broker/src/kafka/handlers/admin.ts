/**
 * CreateTopics, DeleteTopics and InitProducerId.
 *
 * CreateTopics: num_partitions -1 is the broker's default count, replication_factor -1 or 1 is
 * what a single broker has (more is INVALID_REPLICATION_FACTOR); a manual assignment may only name
 * this broker. Configs use Kafka's names (retention.ms, ...), checked as the broker checks its own.
 *
 * InitProducerId hands an idempotent producer a fresh id (epoch 0) from the broker's durable
 * allocator; the partitions' producer state then checks its sequences as for embedded producers.
 * Transactions are not supported: a transactional id is refused.
 */
import type { CreateTopicsRequest, CreateTopicsResponse } from '../apis/create-topics.js'
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../apis/delete-topics.js'
import type { InitProducerIdRequest, InitProducerIdResponse } from '../apis/init-producer-id.js'
import { parseTopicConfig } from '../../topic-config.js'
import { validateTopicName } from '../../topic-name.js'
import { ErrorCode } from '../error-codes.js'
import { errorLine, kafkaErrorCode } from '../error-mapping.js'
import type { Handler, ServerContext } from './context.js'

export function createTopicsHandler(ctx: ServerContext): Handler<CreateTopicsRequest, CreateTopicsResponse> {
  return async (req) => {
    const counts = new Map<string, number>()
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1)
    const topics: CreateTopicsResponse['topics'] = []
    for (const t of req.topics) {
      const refuse = (errorCode: number, errorMessage: string) => topics.push({ name: t.name, errorCode, errorMessage })
      if ((counts.get(t.name) ?? 0) > 1) {
        refuse(ErrorCode.INVALID_REQUEST, `topic ${JSON.stringify(t.name)} is named more than once in the request`)
        continue
      }
      let partitions = t.numPartitions
      if (t.assignments.length > 0) {
        if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
          refuse(ErrorCode.INVALID_REQUEST, 'give either a replica assignment or num_partitions and replication_factor, not both')
          continue
        }
        const sorted = [...t.assignments].sort((a, b) => a.partition - b.partition)
        if (sorted.some((a, i) => a.partition !== i || a.brokerIds.length !== 1 || a.brokerIds[0] !== ctx.nodeId)) {
          refuse(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `this is a single broker (node ${ctx.nodeId}): assign partitions 0..n-1 each to [${ctx.nodeId}]`)
          continue
        }
        partitions = sorted.length
      } else if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
        refuse(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor ${t.replicationFactor} is larger than the 1 broker available`)
        continue
      }
      const config: Record<string, unknown> = {}
      // A null value means the default: the same as leaving the key out.
      for (const c of t.configs) if (c.value !== null) config[c.name] = c.value
      if (partitions !== -1) config.partitions = partitions
      try {
        if (req.validateOnly) {
          validateTopicName(t.name)
          parseTopicConfig(config, { allowPartitions: true })
          if (ctx.broker.getTopic(t.name) !== undefined) {
            refuse(ErrorCode.TOPIC_ALREADY_EXISTS, `topic ${JSON.stringify(t.name)} already exists`)
            continue
          }
        } else {
          await ctx.broker.createTopic(t.name, config)
        }
        topics.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null })
      } catch (err) {
        const code = kafkaErrorCode(err)
        if (code === ErrorCode.UNKNOWN_SERVER_ERROR) ctx.log(`create topic ${JSON.stringify(t.name)} failed: ${errorLine(err)}`)
        refuse(code, err instanceof Error ? err.message : String(err))
      }
    }
    return { throttleTimeMs: 0, topics }
  }
}

export function deleteTopicsHandler(ctx: ServerContext): Handler<DeleteTopicsRequest, DeleteTopicsResponse> {
  return async (req) => {
    const topics: DeleteTopicsResponse['topics'] = []
    for (const name of req.topics) {
      try {
        await ctx.broker.deleteTopic(name)
        topics.push({ name, errorCode: ErrorCode.NONE })
      } catch (err) {
        const code = kafkaErrorCode(err)
        if (code === ErrorCode.UNKNOWN_SERVER_ERROR) ctx.log(`delete topic ${JSON.stringify(name)} failed: ${errorLine(err)}`)
        topics.push({ name, errorCode: code })
      }
    }
    return { throttleTimeMs: 0, topics }
  }
}

export function initProducerIdHandler(ctx: ServerContext): Handler<InitProducerIdRequest, InitProducerIdResponse> {
  return async (req, rc) => {
    if (req.transactionalId !== null) {
      ctx.log(`InitProducerId from ${rc.header.clientId ?? '?'}@${rc.clientHost} refused: transactions are not supported (transactional id ${JSON.stringify(req.transactionalId)})`)
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 }
    }
    try {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: ctx.broker.allocateProducerId(), producerEpoch: 0 }
    } catch (err) {
      ctx.log(`InitProducerId failed: ${errorLine(err)}`)
      return { throttleTimeMs: 0, errorCode: kafkaErrorCode(err), producerId: -1, producerEpoch: -1 }
    }
  }
}
