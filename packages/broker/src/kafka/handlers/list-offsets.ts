/**
 * ListOffsets: -1 is the latest offset (the high watermark: what a consumer can read), -2 the
 * earliest (the log start), any other timestamp the first offset whose record has a timestamp at
 * or after it, with that record's timestamp; -1 when there is none.
 */
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type ListOffsetsPartitionResponse, type ListOffsetsRequest, type ListOffsetsResponse } from '../apis/list-offsets.js'
import { ErrorCode } from '../error-codes.js'
import { errorLine, kafkaErrorCode } from '../error-mapping.js'
import type { Handler, ServerContext } from './context.js'

export function listOffsetsHandler(ctx: ServerContext): Handler<ListOffsetsRequest, ListOffsetsResponse> {
  return async (req) => ({
    throttleTimeMs: 0,
    topics: await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(t.partitions.map((p) => lookup(ctx, t.name, p.partition, p.timestamp))),
      })),
    ),
  })
}

async function lookup(ctx: ServerContext, topicName: string, index: number, timestamp: number): Promise<ListOffsetsPartitionResponse> {
  const none = (errorCode: number) => ({ partition: index, errorCode, timestamp: -1, offset: -1 })
  const topic = ctx.broker.getTopic(topicName)
  const partition = topic !== undefined && Number.isInteger(index) ? topic.partitions[index] : undefined
  if (partition === undefined) return none(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  const log = partition.log
  try {
    if (timestamp === LATEST_TIMESTAMP) return { partition: index, errorCode: ErrorCode.NONE, timestamp: -1, offset: log.highWatermark }
    if (timestamp === EARLIEST_TIMESTAMP) return { partition: index, errorCode: ErrorCode.NONE, timestamp: -1, offset: log.logStartOffset }
    const offset = await log.offsetForTimestamp(timestamp)
    if (offset === null) return none(ErrorCode.NONE)
    const [record] = log.readSync(offset, { maxRecords: 1 })
    return { partition: index, errorCode: ErrorCode.NONE, timestamp: record?.timestamp ?? -1, offset }
  } catch (err) {
    const code = kafkaErrorCode(err)
    if (code === ErrorCode.UNKNOWN_SERVER_ERROR) ctx.log(`list offsets of ${topicName}-${index} failed: ${errorLine(err)}`)
    return none(code)
  }
}
