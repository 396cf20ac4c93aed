/**
 * Every error @samsa/broker throws of its own is a SamsaError (from @samsa/log, so codes are
 * uniform across packages) with a stable, greppable `code` and a message that says what to do.
 * Errors from a partition's log (offset out of range, storage errors) pass through unchanged.
 */
import { SamsaError } from '@samsa/log'

export { SamsaError }

/** Kafka's UNKNOWN_TOPIC_OR_PARTITION: no such topic, or no such partition in it. */
export class UnknownTopicOrPartitionError extends SamsaError {
  constructor(
    readonly topic: string,
    readonly partition?: number,
    partitionCount?: number,
  ) {
    super(
      partition === undefined ? 'SAMSA_UNKNOWN_TOPIC' : 'SAMSA_UNKNOWN_PARTITION',
      partition === undefined
        ? `topic ${JSON.stringify(topic)} does not exist; create it with broker.createTopic() or open the broker with { autoCreateTopics: true }`
        : `topic ${JSON.stringify(topic)} has no partition ${String(partition)}` +
            (partitionCount === undefined ? '' : `; its partitions are 0 to ${partitionCount - 1}`) +
            `; add partitions with broker.createPartitions()`,
    )
  }
}

export class InvalidTopicNameError extends SamsaError {
  constructor(
    readonly topic: unknown,
    reason: string,
  ) {
    super(
      'SAMSA_INVALID_TOPIC_NAME',
      `invalid topic name ${typeof topic === 'string' ? JSON.stringify(topic) : String(topic)}: ${reason}; ` +
        `use 1 to 249 of the characters a-z A-Z 0-9 . _ -, and not "." or ".."`,
    )
  }
}

export class TopicExistsError extends SamsaError {
  constructor(
    readonly topic: string,
    detail?: string,
  ) {
    super(
      'SAMSA_TOPIC_EXISTS',
      detail ?? `topic ${JSON.stringify(topic)} already exists; pick another name or delete it first with broker.deleteTopic()`,
    )
  }
}

export class InvalidPartitionsError extends SamsaError {
  constructor(message: string) {
    super('SAMSA_INVALID_PARTITIONS', message)
  }
}

export class InvalidConfigError extends SamsaError {
  constructor(message: string) {
    super('SAMSA_INVALID_CONFIG', message)
  }
}

/** A message (or a producer call) that is not of the shape send() accepts. */
export class InvalidMessageError extends SamsaError {
  constructor(message: string) {
    super('SAMSA_INVALID_MESSAGE', message)
  }
}

export class MessageTooLargeError extends SamsaError {
  constructor(
    readonly size: number,
    readonly limit: number,
    readonly topic: string,
  ) {
    super(
      'SAMSA_MESSAGE_TOO_LARGE',
      `a message of up to ${size} encoded bytes exceeds maxMessageBytes ${limit} of topic ${JSON.stringify(topic)}; ` +
        `send a smaller message or raise the topic's maxMessageBytes with broker.alterTopicConfig()`,
    )
  }
}

export class ProducerClosedError extends SamsaError {
  constructor() {
    super('SAMSA_PRODUCER_CLOSED', 'this producer is closed; create a new one with broker.producer()')
  }
}

export class BrokerClosedError extends SamsaError {
  constructor(dataDir: string) {
    super('SAMSA_BROKER_CLOSED', `the broker of ${dataDir} is closed; open it again with Broker.open()`)
  }
}

/** The broker was opened read-only (for inspection beside a live writer). */
export class BrokerReadOnlyError extends SamsaError {
  constructor(dataDir: string) {
    super('SAMSA_READ_ONLY', `the broker of ${dataDir} was opened read-only; open it without { readOnly: true } to change it`)
  }
}

/**
 * An idempotent producer's batch does not follow the last one the partition accepted from it:
 * a batch was lost in between, or sequences were reused. Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER.
 */
export class OutOfOrderSequenceError extends SamsaError {
  constructor(
    readonly producerId: number,
    readonly producerEpoch: number,
    readonly baseSequence: number,
    readonly expectedSequence: number | null,
    where: string,
  ) {
    super(
      'SAMSA_OUT_OF_ORDER_SEQUENCE',
      `producer ${producerId} (epoch ${producerEpoch}) sent sequence ${baseSequence} to ${where} but ` +
        (expectedSequence === null ? 'a new epoch must start at sequence 0' : `the next expected sequence is ${expectedSequence}`) +
        `; nothing was written. Resend from the expected sequence, or start a new producer`,
    )
  }
}

/**
 * A sequence the partition already accepted, too old to be among the batches whose offsets it
 * remembers: the records are in the log once; their offsets cannot be given again.
 */
export class DuplicateSequenceError extends SamsaError {
  constructor(
    readonly producerId: number,
    readonly baseSequence: number,
    where: string,
  ) {
    super(
      'SAMSA_DUPLICATE_SEQUENCE',
      `producer ${producerId} resent sequence ${baseSequence} to ${where}, which was already written (older than the ` +
        `last 5 batches, whose offsets are remembered); nothing was written again and the send can be treated as done`,
    )
  }
}

/** A producer epoch older than the newest the partition has seen: a zombie producer. Kafka's INVALID_PRODUCER_EPOCH. */
export class ProducerFencedError extends SamsaError {
  constructor(
    readonly producerId: number,
    readonly producerEpoch: number,
    readonly currentEpoch: number,
    where: string,
  ) {
    super(
      'SAMSA_PRODUCER_FENCED',
      `producer ${producerId} used epoch ${producerEpoch} on ${where}, but epoch ${currentEpoch} has already written there; ` +
        `this producer was replaced, so close it and use the new one`,
    )
  }
}

// ---------------------------------------------------------------------------------------------
// Consumer groups

/** A commit or fetch from a generation the group has moved past: the member must rejoin. */
export class IllegalGenerationError extends SamsaError {
  constructor(groupId: string, generation: number, current: number) {
    super(
      'SAMSA_ILLEGAL_GENERATION',
      `group ${JSON.stringify(groupId)} is at generation ${current}, not ${generation}: a rebalance moved ` +
        `the partitions on; poll again to rejoin, and commit only what the new assignment covers`,
    )
  }
}

export class RebalanceInProgressError extends SamsaError {
  constructor(groupId: string) {
    super('SAMSA_REBALANCE_IN_PROGRESS', `group ${JSON.stringify(groupId)} is rebalancing; retry after it settles`, { retriable: true })
  }
}

export class UnknownMemberError extends SamsaError {
  constructor(groupId: string, memberId: string) {
    super(
      'SAMSA_UNKNOWN_MEMBER',
      `member ${memberId} is not in group ${JSON.stringify(groupId)} (it left, or its session timed out); poll again to rejoin`,
    )
  }
}

export class PartitionNotAssignedError extends SamsaError {
  constructor(topic: string, partition: number) {
    super(
      'SAMSA_PARTITION_NOT_ASSIGNED',
      `${topic}-${partition} is not assigned to this consumer; commit only partitions in consumer.assignment()`,
    )
  }
}

export class ConsumerClosedError extends SamsaError {
  constructor() {
    super('SAMSA_CONSUMER_CLOSED', 'this consumer is closed; create a new one with broker.consumer()')
  }
}

/** autoOffsetReset 'none' and no usable committed offset. */
export class NoOffsetError extends SamsaError {
  constructor(groupId: string, topic: string, partition: number, why: string) {
    super(
      'SAMSA_NO_OFFSET',
      `group ${JSON.stringify(groupId)} has ${why} for ${topic}-${partition} and autoOffsetReset is 'none'; ` +
        `seek() to an offset, reset the group's offsets, or use autoOffsetReset 'earliest' or 'latest'`,
    )
  }
}

export class UnknownGroupError extends SamsaError {
  constructor(groupId: string) {
    super('SAMSA_UNKNOWN_GROUP', `no consumer group ${JSON.stringify(groupId)}; list groups with broker.listGroups()`)
  }
}

export class GroupNotEmptyError extends SamsaError {
  constructor(groupId: string, members: number) {
    super(
      'SAMSA_GROUP_NOT_EMPTY',
      `group ${JSON.stringify(groupId)} has ${members} active member(s); stop its consumers first`,
      { retriable: true },
    )
  }
}

/** Members that cannot share a group: no common assignor, or wire members beside embedded ones. */
export class InconsistentGroupProtocolError extends SamsaError {
  constructor(groupId: string, why: string) {
    super('SAMSA_INCONSISTENT_GROUP_PROTOCOL', `cannot join group ${JSON.stringify(groupId)}: ${why}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Kafka wire protocol (kafka/)

/** Bytes from a Kafka client that do not parse: truncated, garbled, or with lengths out of bounds. */
export class KafkaProtocolError extends SamsaError {
  constructor(message: string) {
    super('SAMSA_PROTOCOL_ERROR', message)
  }
}

/** A request frame whose size prefix exceeds the server's maxRequestBytes; its body is never buffered. */
export class RequestTooLargeError extends SamsaError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      'SAMSA_REQUEST_TOO_LARGE',
      `a request frame of ${size} bytes exceeds maxRequestBytes ${limit}; send smaller requests or raise maxRequestBytes`,
    )
  }
}

/** A request for an API key or version this server does not implement. */
export class UnsupportedApiVersionError extends SamsaError {
  constructor(
    readonly apiKey: number,
    readonly apiVersion: number,
    supported: string,
  ) {
    super('SAMSA_UNSUPPORTED_VERSION', `API key ${apiKey} version ${apiVersion} is not supported (${supported})`)
  }
}
