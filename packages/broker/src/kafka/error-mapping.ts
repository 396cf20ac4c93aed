/**
 * From Samsa's typed errors to the Kafka error codes clients act on. Anything unexpected is
 * UNKNOWN_SERVER_ERROR, which the caller logs: a client must never see a crash, only a code.
 */
import { SamsaError } from '../errors.js'
import { ErrorCode } from './error-codes.js'

const BY_CODE: Record<string, number> = {
  SAMSA_UNKNOWN_TOPIC: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  SAMSA_UNKNOWN_PARTITION: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  SAMSA_INVALID_TOPIC_NAME: ErrorCode.INVALID_TOPIC_EXCEPTION,
  SAMSA_TOPIC_EXISTS: ErrorCode.TOPIC_ALREADY_EXISTS,
  SAMSA_INVALID_PARTITIONS: ErrorCode.INVALID_PARTITIONS,
  SAMSA_INVALID_CONFIG: ErrorCode.INVALID_CONFIG,
  SAMSA_CORRUPT_BATCH: ErrorCode.CORRUPT_MESSAGE,
  SAMSA_RECORD_TOO_LARGE: ErrorCode.MESSAGE_TOO_LARGE,
  SAMSA_MESSAGE_TOO_LARGE: ErrorCode.MESSAGE_TOO_LARGE,
  SAMSA_UNSUPPORTED_COMPRESSION: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  SAMSA_OFFSET_OUT_OF_RANGE: ErrorCode.OFFSET_OUT_OF_RANGE,
  SAMSA_OUT_OF_ORDER_SEQUENCE: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  SAMSA_DUPLICATE_SEQUENCE: ErrorCode.DUPLICATE_SEQUENCE_NUMBER,
  SAMSA_PRODUCER_FENCED: ErrorCode.INVALID_PRODUCER_EPOCH,
  SAMSA_ILLEGAL_GENERATION: ErrorCode.ILLEGAL_GENERATION,
  SAMSA_UNKNOWN_MEMBER: ErrorCode.UNKNOWN_MEMBER_ID,
  SAMSA_REBALANCE_IN_PROGRESS: ErrorCode.REBALANCE_IN_PROGRESS,
  SAMSA_INCONSISTENT_GROUP_PROTOCOL: ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  SAMSA_GROUP_NOT_EMPTY: ErrorCode.NON_EMPTY_GROUP,
  SAMSA_UNKNOWN_GROUP: ErrorCode.GROUP_ID_NOT_FOUND,
  SAMSA_BROKER_CLOSED: ErrorCode.COORDINATOR_NOT_AVAILABLE,
  SAMSA_LOG_CLOSED: ErrorCode.NOT_LEADER_OR_FOLLOWER,
  SAMSA_READ_ONLY: ErrorCode.POLICY_VIOLATION,
  SAMSA_STORAGE_ERROR: ErrorCode.UNKNOWN_SERVER_ERROR,
}

/** The Kafka error code for an error thrown while serving a request. */
export function kafkaErrorCode(err: unknown): number {
  if (err instanceof SamsaError) return BY_CODE[err.code] ?? ErrorCode.UNKNOWN_SERVER_ERROR
  return ErrorCode.UNKNOWN_SERVER_ERROR
}

/** A one-line description of an error for logs and error_message fields. */
export function errorLine(err: unknown): string {
  if (err instanceof SamsaError) return `${err.code}: ${err.message}`.replace(/\s*\n\s*/g, ' ')
  if (err instanceof Error) return `${err.name}: ${err.message}`.replace(/\s*\n\s*/g, ' ')
  return String(err)
}
