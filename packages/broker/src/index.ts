/**
 * @samsa/broker: topics of partitions on @samsa/log, an idempotent producer with Kafka's
 * partitioner and acks, retention by time and size, and the topic registry in LMDB.
 */
export { Broker } from './broker.js'
export type { BrokerOptions, BrokerRecovery, DeleteRecordsResult, PartitionRecovery } from './broker.js'
export { Producer } from './producer.js'
export type { Acks, ProducerHost, ProducerOptions, SendResult } from './producer.js'
export type { Message, MessageBytes } from './message.js'
export { Partition, PRODUCER_STATE_FILE } from './partition.js'
export type { PartitionAppendResult, PartitionDescription } from './partition.js'
export { Topic } from './topic.js'
export type { RetentionDeletion, TopicDescription } from './topic.js'
export { MetadataStore, META_DIR } from './metadata-store.js'
export type { TopicRecord } from './metadata-store.js'
export { DEFAULT_TOPIC_CONFIG, TOPIC_CONFIG_KEYS } from './topic-config.js'
export type { TopicConfig, TopicConfigInput, TopicConfigKey } from './topic-config.js'
export { isValidTopicName, validateTopicName, MAX_TOPIC_NAME_LENGTH } from './topic-name.js'
export { murmur2, partitionForKey, toPositive, StickyPartitioner } from './partitioner.js'
export { ProducerState, BATCHES_TO_RETAIN } from './producer-state.js'
export type { RetentionRunOptions } from './retention.js'
export {
  BrokerClosedError,
  BrokerReadOnlyError,
  DuplicateSequenceError,
  InvalidConfigError,
  InvalidMessageError,
  InvalidPartitionsError,
  InvalidTopicNameError,
  MessageTooLargeError,
  OutOfOrderSequenceError,
  ProducerClosedError,
  ProducerFencedError,
  SamsaError,
  TopicExistsError,
  UnknownTopicOrPartitionError,
} from './errors.js'
export { KafkaServer } from './kafka/server.js'
export type { KafkaServerOptions, ServerAddress } from './kafka/server.js'
export { KafkaProtocolError, RequestTooLargeError, UnsupportedApiVersionError } from './errors.js'
export { Consumer } from './consumer.js'
export type { AutoOffsetReset, CommitOptions, ConsumedMessage, ConsumerOptions, EachBatchPayload, EachMessagePayload, RunOptions } from './consumer.js'
export { ConsumerGroups } from './consumer-groups.js'
export type { GroupDescription, GroupListing, GroupPartitionLag, OffsetResetPlan, ResetTarget } from './consumer-groups.js'
export type { StateTransaction, CommittedOffset } from './offset-store.js'
export type { AssignorName, TopicPartition } from './assignors.js'
export {
  ConsumerClosedError,
  GroupNotEmptyError,
  IllegalGenerationError,
  InconsistentGroupProtocolError,
  NoOffsetError,
  PartitionNotAssignedError,
  RebalanceInProgressError,
  UnknownGroupError,
  UnknownMemberError,
} from './errors.js'
