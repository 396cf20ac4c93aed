/**
 * Metadata: this broker is the only one, the controller, and the leader of every partition. Topics
 * a client names that do not exist are created when the request allows it and the broker was
 * opened with autoCreateTopics; otherwise they answer UNKNOWN_TOPIC_OR_PARTITION.
 */
import type { MetadataRequest, MetadataResponse, MetadataTopic } from '../apis/metadata.js'
import { ErrorCode } from '../error-codes.js'
import { errorLine, kafkaErrorCode } from '../error-mapping.js'
import type { Handler, ServerContext } from './context.js'

export function metadataHandler(ctx: ServerContext): Handler<MetadataRequest, MetadataResponse> {
  return async (req) => {
    const names = req.topics ?? (await ctx.broker.listTopics())
    const topics: MetadataTopic[] = []
    for (const name of names) topics.push(await describe(ctx, name, req.topics !== null && req.allowAutoTopicCreation))
    const { host, port } = ctx.advertised()
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: ctx.nodeId, host, port, rack: null }],
      clusterId: ctx.clusterId,
      controllerId: ctx.nodeId,
      topics,
    }
  }
}

async function describe(ctx: ServerContext, name: string, autoCreate: boolean): Promise<MetadataTopic> {
  let topic = ctx.broker.getTopic(name)
  if (topic === undefined) {
    if (!autoCreate) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, isInternal: false, partitions: [] }
    try {
      topic = await ctx.broker.ensureTopic(name)
    } catch (err) {
      const code = kafkaErrorCode(err)
      if (code === ErrorCode.UNKNOWN_SERVER_ERROR) ctx.log(`auto-creating topic ${JSON.stringify(name)} failed: ${errorLine(err)}`)
      return { errorCode: code, name, isInternal: false, partitions: [] }
    }
  }
  const node = ctx.nodeId
  return {
    errorCode: ErrorCode.NONE,
    name,
    isInternal: false,
    partitions: topic.partitions.map((_, partition) => ({ errorCode: ErrorCode.NONE, partition, leaderId: node, replicaNodes: [node], isrNodes: [node] })),
  }
}
