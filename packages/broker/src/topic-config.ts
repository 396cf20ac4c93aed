/**
 * Topic configuration: the keys a topic may set, their types and ranges, and how a topic's
 * effective configuration is made from three layers: Samsa's defaults (Kafka's), the broker's
 * defaults (Broker.open options), and the topic's own overrides. Only overrides are stored, so a
 * topic that never set retentionMs follows the broker's default when that changes, as in Kafka.
 *
 * Keys are camelCase; Kafka's dotted names (retention.ms, ...) are accepted as aliases and may
 * carry numeric strings, as Kafka's admin protocol sends them. Unknown keys and wrong types are
 * SAMSA_INVALID_CONFIG errors: a misspelt retention setting must not silently keep data forever.
 *
 * cleanupPolicy: only 'delete' is accepted. 'compact' is refused with an error rather than stored
 * and ignored, because a user who asks for compaction relies on it (for example to keep the latest
 * value per key forever under retention), and Samsa does not compact.
 */
import type { FlushPolicy, LogOptions } from '@samsa/log'
import { InvalidConfigError, InvalidPartitionsError } from './errors.js'

export interface TopicConfig {
  /** Delete segments whose newest record is older than this. -1: keep forever. Default 7 days. */
  retentionMs: number
  /** Delete the oldest segments while a partition is bigger than this. -1: no limit (default). */
  retentionBytes: number
  /** Roll to a new segment before one would exceed this size. Default 1 GiB. */
  segmentBytes: number
  /** Roll a segment whose records span more than this. Default 7 days. */
  segmentMs: number
  /** When appends are fsynced; see @samsa/log. Default 'interval'. */
  flush: FlushPolicy
  /** The period of 'interval' syncs. Default 1000 ms. */
  flushIntervalMs: number
  /** Only 'delete'. */
  cleanupPolicy: 'delete'
  /** Largest message (one encoded record) accepted. Default 1048588, Kafka's. */
  maxMessageBytes: number
}

export type TopicConfigKey = keyof TopicConfig

export interface TopicConfigInput extends Partial<{ [K in TopicConfigKey]: TopicConfig[K] | null }> {
  partitions?: number
}

export const DEFAULT_TOPIC_CONFIG: Readonly<TopicConfig> = Object.freeze({
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  flush: 'interval',
  flushIntervalMs: 1000,
  cleanupPolicy: 'delete',
  maxMessageBytes: 1048588,
})

export const DEFAULT_PARTITIONS = 1
export const DEFAULT_MAX_PARTITIONS = 10_000

const INT32_MAX = 0x7fffffff

type Checker = (key: string, value: unknown, fromKafka: boolean) => unknown

function integer(min: number, max: number, meaning = ''): Checker {
  return (key, value, fromKafka) => {
    let v = value
    if (fromKafka && typeof v === 'string' && /^-?\d+$/.test(v.trim())) v = Number(v.trim())
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidConfigError(
        `config ${key} must be an integer from ${min} to ${max}${meaning}, got ${describe(value)}`,
      )
    }
    return v
  }
}

function oneOf(values: readonly string[], advice: Record<string, string> = {}): Checker {
  return (key, value) => {
    if (typeof value === 'string' && values.includes(value)) return value
    const hint = typeof value === 'string' ? advice[value] : undefined
    throw new InvalidConfigError(
      hint ?? `config ${key} must be one of ${values.map((v) => `'${v}'`).join(', ')}, got ${describe(value)}`,
    )
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value)
  return `a value of type ${Array.isArray(value) ? 'array' : typeof value}`
}

const CHECKS: Record<TopicConfigKey, Checker> = {
  retentionMs: integer(-1, Number.MAX_SAFE_INTEGER, ' (-1 keeps records forever)'),
  retentionBytes: integer(-1, Number.MAX_SAFE_INTEGER, ' (-1 means no size limit)'),
  segmentBytes: integer(14, INT32_MAX),
  segmentMs: integer(1, Number.MAX_SAFE_INTEGER),
  flush: oneOf(['always', 'interval', 'never']),
  flushIntervalMs: integer(1, INT32_MAX),
  cleanupPolicy: oneOf(['delete'], {
    compact:
      "cleanupPolicy 'compact' is not supported: Samsa does not compact logs, so keys would not be kept; use 'delete' (time and size retention)",
    'compact,delete':
      "cleanupPolicy 'compact,delete' is not supported: Samsa does not compact logs; use 'delete' (time and size retention)",
  }),
  maxMessageBytes: integer(1, INT32_MAX),
}

/** Kafka's topic config names, for clients and tools that speak them. */
const KAFKA_ALIASES: Record<string, TopicConfigKey> = {
  'retention.ms': 'retentionMs',
  'retention.bytes': 'retentionBytes',
  'segment.bytes': 'segmentBytes',
  'segment.ms': 'segmentMs',
  'flush.ms': 'flushIntervalMs',
  'cleanup.policy': 'cleanupPolicy',
  'max.message.bytes': 'maxMessageBytes',
}

export const TOPIC_CONFIG_KEYS = Object.keys(CHECKS) as TopicConfigKey[]

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

export interface ParsedTopicConfig {
  partitions: number | undefined
  /** Keys set to a value. */
  set: Partial<TopicConfig>
  /** Keys given as null: back to the broker's default (alterTopicConfig). */
  reset: TopicConfigKey[]
}

/**
 * Check a user's config object. `allowPartitions` admits the `partitions` key (createTopic and the
 * broker's defaults), where `alterTopicConfig` refuses it in favour of createPartitions.
 */
export function parseTopicConfig(
  input: unknown,
  options: { allowPartitions: boolean; maxPartitions?: number; extraKeys?: readonly string[] },
): ParsedTopicConfig {
  const result: ParsedTopicConfig = { partitions: undefined, set: {}, reset: [] }
  if (input === undefined || input === null) return result
  if (!isPlainObject(input)) throw new InvalidConfigError(`topic config must be an object, got ${describe(input)}`)
  for (const rawKey of Object.keys(input)) {
    const value = input[rawKey]
    if (options.extraKeys?.includes(rawKey)) continue
    if (rawKey === 'partitions') {
      if (!options.allowPartitions) {
        throw new InvalidConfigError('partitions cannot be changed as a config; use broker.createPartitions(topic, count)')
      }
      if (value === undefined || value === null) continue
      result.partitions = checkPartitionCount(value, options.maxPartitions ?? DEFAULT_MAX_PARTITIONS)
      continue
    }
    const fromKafka = rawKey in KAFKA_ALIASES
    const key = fromKafka ? KAFKA_ALIASES[rawKey] : (rawKey as TopicConfigKey)
    if (!Object.prototype.hasOwnProperty.call(CHECKS, key)) {
      throw new InvalidConfigError(
        `unknown topic config ${JSON.stringify(rawKey)}; the keys are partitions, ${TOPIC_CONFIG_KEYS.join(', ')} ` +
          `(or Kafka's ${Object.keys(KAFKA_ALIASES).join(', ')})`,
      )
    }
    if (value === undefined) continue
    if (value === null) {
      result.reset.push(key)
      continue
    }
    ;(result.set as Record<string, unknown>)[key] = CHECKS[key](rawKey, value, fromKafka)
  }
  return result
}

export function checkPartitionCount(value: unknown, maxPartitions: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > maxPartitions) {
    throw new InvalidPartitionsError(
      `partitions must be an integer from 1 to ${maxPartitions}, got ${describe(value)}` +
        (typeof value === 'number' && value > maxPartitions ? '; raise the broker option maxPartitions if you need more' : ''),
    )
  }
  return value
}

/** The effective configuration: defaults, then the broker's, then the topic's own. */
export function effectiveConfig(brokerDefaults: Partial<TopicConfig>, overrides: Partial<TopicConfig>): TopicConfig {
  return { ...DEFAULT_TOPIC_CONFIG, ...brokerDefaults, ...overrides }
}

/** What a partition's Log is opened with. */
export function logOptionsFor(config: TopicConfig): LogOptions {
  return {
    segmentBytes: config.segmentBytes,
    segmentMs: config.segmentMs,
    flush: config.flush,
    flushIntervalMs: config.flushIntervalMs,
    maxRecordBytes: config.maxMessageBytes,
  }
}

/** Whether changing `from` to `to` needs the partitions' logs reopened (their options are fixed at open). */
export function needsLogReopen(from: TopicConfig, to: TopicConfig): boolean {
  const a = logOptionsFor(from) as Record<string, unknown>
  const b = logOptionsFor(to) as Record<string, unknown>
  return Object.keys(a).some((k) => a[k] !== b[k])
}
