/**
 * Produce: each partition's RecordBatch is stored as the client encoded it; the log checks its
 * sizes, magic and CRC and rewrites only the base offset (the CRC covers bytes 21 on, so it stays
 * valid). Batches of idempotent producers go through the partition's producer-state check, the
 * same one embedded producers use: duplicates get their original offsets, gaps and stale epochs
 * their Kafka errors.
 *
 * Only uncompressed and gzip batches are taken (UNSUPPORTED_COMPRESSION_TYPE otherwise): those are
 * what every Samsa reader decodes.
 *
 * acks 0: no response at all. acks 1: answered once the batch is in the log (with flush 'always'
 * the log itself waits for the fsync). acks -1: answered once the batch is fsynced.
 */
import type { ProducePartitionResponse, ProduceRequest, ProduceResponse } from '../apis/produce.js'
import { ErrorCode } from '../error-codes.js'
import { errorLine, kafkaErrorCode } from '../error-mapping.js'
import type { Handler, ServerContext } from './context.js'

const BATCH_HEADER_SIZE = 61
const ATTRIBUTES_OFFSET = 21
/** Codecs every Samsa reader can decode (the embedded consumer, the CLI): none and gzip. */
const READABLE_CODECS = new Set([0, 1])
const CONTROL_BIT = 0x20

/** Split RECORDS bytes into batches by their length fields; null if they do not tile exactly. */
function splitBatches(records: Buffer): Buffer[] | null {
  const out: Buffer[] = []
  let pos = 0
  while (pos < records.length) {
    if (records.length - pos < BATCH_HEADER_SIZE) return null
    const size = records.readInt32BE(pos + 8) + 12
    if (size < BATCH_HEADER_SIZE || pos + size > records.length) return null
    out.push(records.subarray(pos, pos + size))
    pos += size
  }
  return out.length > 0 ? out : null
}

export function produceHandler(ctx: ServerContext): Handler<ProduceRequest, ProduceResponse> {
  return async (req) => {
    const acksValid = req.acks === 0 || req.acks === 1 || req.acks === -1
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map((p): Promise<ProducePartitionResponse> | ProducePartitionResponse => {
            if (!acksValid) return failed(p.partition, ErrorCode.INVALID_REQUIRED_ACKS)
            if (req.transactionalId !== null) return failed(p.partition, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
            return producePartition(ctx, t.name, p.partition, p.records, req.acks)
          }),
        ),
      })),
    )
    if (req.acks === 0) return null
    return { topics, throttleTimeMs: 0 }
  }
}

function failed(partition: number, errorCode: number): ProducePartitionResponse {
  return { partition, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 }
}

/**
 * Appends are handed to the partition synchronously, before the first await, so the batches of
 * one connection reach each log in the order they were sent, even though the connection starts the
 * next Produce while this one still waits (KafkaServer.mayOverlap).
 */
function producePartition(ctx: ServerContext, topicName: string, index: number, records: Buffer | null, acks: number): Promise<ProducePartitionResponse> | ProducePartitionResponse {
  const topic = ctx.broker.getTopic(topicName)
  const partition = topic !== undefined && Number.isInteger(index) ? topic.partitions[index] : undefined
  if (topic === undefined || partition === undefined) return failed(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  const batches = records === null ? null : splitBatches(records)
  if (batches === null) return failed(index, ErrorCode.CORRUPT_MESSAGE)
  for (const b of batches) {
    if (b.length > topic.config.maxMessageBytes) return failed(index, ErrorCode.MESSAGE_TOO_LARGE)
    const attributes = b.readInt16BE(ATTRIBUTES_OFFSET)
    // snappy, lz4 and zstd batches would be stored fine, but embedded consumers and the CLI could
    // not read them: refused, so every record in a topic stays readable by every reader.
    if (!READABLE_CODECS.has(attributes & 0x07)) return failed(index, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE)
    // Control batches are written by brokers (transaction markers), never by producers.
    if ((attributes & CONTROL_BIT) !== 0) return failed(index, ErrorCode.INVALID_RECORD)
  }
  let appends
  try {
    appends = batches.map((b) => partition.appendBatch(b))
  } catch (err) {
    return answerError(ctx, topicName, index, err)
  }
  return (async () => {
    try {
      const results = await Promise.all(appends)
      if (acks === -1 && partition.log.flushPolicy !== 'always') await partition.flush()
      return { partition: index, errorCode: ErrorCode.NONE, baseOffset: results[0].baseOffset, logAppendTimeMs: -1, logStartOffset: partition.log.logStartOffset }
    } catch (err) {
      return answerError(ctx, topicName, index, err)
    }
  })()
}

function answerError(ctx: ServerContext, topic: string, partition: number, err: unknown): ProducePartitionResponse {
  const code = kafkaErrorCode(err)
  if (code === ErrorCode.UNKNOWN_SERVER_ERROR) ctx.log(`produce to ${topic}-${partition} failed: ${errorLine(err)}`)
  return failed(partition, code)
}
