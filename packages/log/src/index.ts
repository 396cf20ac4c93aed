/**
 * @samsa/log: one partition's storage. Kafka RecordBatch v2 segments with offset and time
 * indexes, group-committed fsync, crash recovery, and a lock so one process writes a directory.
 */
export { Log } from './log.js'
export type {
  AppendResult,
  FlushPolicy,
  LogOptions,
  ReadOptions,
  RetentionOptions,
  RetentionResult,
  SegmentInfo,
  StreamOptions,
} from './log.js'
export type { RecoveryReport } from './recovery.js'
export {
  BATCH_HEADER_SIZE,
  Compression,
  LOG_OVERHEAD,
  MAGIC,
  batchSizeAt,
  checkBatch,
  compressionName,
  decodeBatch,
  decodeRecords,
  encodeBatch,
  readBatchHeader,
  setBaseOffset,
  validateBatch,
} from './record-batch.js'
export type { BatchHeader, BatchOptions, Bytes, Header, HeadersInput, LogRecord, RecordInput, RecordSource, SourcedRecord } from './record-batch.js'
export { crc32c, crc32cImplementation } from './crc32c.js'
export { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js'
export { FileCache } from './file-cache.js'
export { defaultIO, writeFileAtomicSync } from './file-io.js'
export { acquireLock } from './lock.js'
export type { FileIO } from './file-io.js'
export { parseSegmentName, segmentBaseName } from './segment.js'
export { inspectIndexFile, inspectSegmentFile, listSegmentFiles } from './inspect.js'
export type { IndexEntryCheck, InspectedBatch, PartitionDirEntry } from './inspect.js'
export {
  CorruptBatchError,
  CorruptLogError,
  InvalidArgumentError,
  LockedError,
  LogClosedError,
  OffsetOutOfRangeError,
  ReadOnlyError,
  RecordTooLargeError,
  SamsaError,
  StorageError,
  UnsupportedCompressionError,
} from './errors.js'
