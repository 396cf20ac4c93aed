/**
 * Topic names as Kafka checks them (Topic.validate): 1 to 249 characters of [a-zA-Z0-9._-], and
 * neither "." nor "..". With no "/" and no "\" possible, and the two all-dot names refused, a
 * partition directory `<topic>-<partition>` is always one plain entry inside the data directory.
 *
 * Directory names read back from disk go through the same check, so a stray or hostile directory
 * can never be taken for a topic whose path would mean something else.
 */
import { InvalidTopicNameError } from './errors.js'

export const MAX_TOPIC_NAME_LENGTH = 249
const LEGAL = /^[a-zA-Z0-9._-]+$/

/** Why `name` is not a valid topic name, or null if it is. */
export function topicNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `a topic name must be a string, got ${name === null ? 'null' : typeof name}`
  if (name.length === 0) return 'it is empty'
  if (name === '.' || name === '..') return `"${name}" is reserved`
  if (name.length > MAX_TOPIC_NAME_LENGTH) return `it is ${name.length} characters long, more than ${MAX_TOPIC_NAME_LENGTH}`
  if (!LEGAL.test(name)) return 'it contains a character other than a-z A-Z 0-9 . _ -'
  return null
}

export function validateTopicName(name: unknown): asserts name is string {
  const problem = topicNameProblem(name)
  if (problem !== null) throw new InvalidTopicNameError(name, problem)
}

export function isValidTopicName(name: unknown): name is string {
  return topicNameProblem(name) === null
}

/**
 * Kafka refuses two topics whose names differ only by '.' versus '_', because its metric names
 * cannot tell them apart; clients that move between Samsa and Kafka should not meet a topic that
 * Kafka would refuse.
 */
export function collisionKey(name: string): string {
  return name.replace(/\./g, '_')
}

/** `<topic>-<partition>`: the directory of one partition's log. */
export function partitionDirName(topic: string, partition: number): string {
  validateTopicName(topic)
  if (!Number.isSafeInteger(partition) || partition < 0) throw new RangeError(`bad partition ${partition}`)
  return `${topic}-${partition}`
}

/** The topic and partition a directory name stands for, or null if it is not a valid one. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const m = /^(.+)-(0|[1-9][0-9]{0,8})$/.exec(name)
  if (m === null || !isValidTopicName(m[1])) return null
  return { topic: m[1], partition: Number(m[2]) }
}

/** Kafka's name for a partition directory being deleted: `<topic>-<partition>.<id>-delete`. */
export function deletingDirName(topic: string, partition: number, deletionId: string): string {
  return `${partitionDirName(topic, partition)}.${deletionId}-delete`
}

export function isDeletingDirName(name: string): boolean {
  const m = /^(.+)\.([0-9a-f]{32})-delete$/.exec(name)
  return m !== null && parsePartitionDirName(m[1]) !== null
}
