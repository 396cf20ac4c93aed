import { describe, expect, it } from 'vitest'
import { DEFAULT_TOPIC_CONFIG, effectiveConfig, needsLogReopen, parseTopicConfig } from './topic-config.js'

const create = (input: unknown) => parseTopicConfig(input, { allowPartitions: true, maxPartitions: 100 })
const alter = (input: unknown) => parseTopicConfig(input, { allowPartitions: false })
const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return 'no error'
}

describe('topic config', () => {
  it('takes camelCase keys and Kafka dotted aliases (which may be numeric strings)', () => {
    expect(create({ partitions: 3, retentionMs: 1000, 'retention.bytes': '2048', 'segment.bytes': 4096, flush: 'always' })).toEqual({
      partitions: 3,
      set: { retentionMs: 1000, retentionBytes: 2048, segmentBytes: 4096, flush: 'always' },
      reset: [],
    })
    expect(create({ 'cleanup.policy': 'delete', 'max.message.bytes': '100', 'flush.ms': 50, 'segment.ms': '60000' }).set).toEqual({
      cleanupPolicy: 'delete',
      maxMessageBytes: 100,
      flushIntervalMs: 50,
      segmentMs: 60000,
    })
    expect(create({ retentionMs: -1, retentionBytes: -1 }).set).toEqual({ retentionMs: -1, retentionBytes: -1 })
  })

  it('refuses unknown keys, wrong types and out-of-range values', () => {
    expect(code(() => create({ retentionMS: 1 }))).toBe('SAMSA_INVALID_CONFIG')
    expect(code(() => create({ 'retention.hours': 1 }))).toBe('SAMSA_INVALID_CONFIG')
    expect(code(() => create({ retentionMs: '1000' }))).toBe('SAMSA_INVALID_CONFIG') // strings only under Kafka's names
    expect(code(() => create({ retentionMs: 1.5 }))).toBe('SAMSA_INVALID_CONFIG')
    expect(code(() => create({ retentionMs: -2 }))).toBe('SAMSA_INVALID_CONFIG')
    expect(code(() => create({ 'retention.ms': 'soon' }))).toBe('SAMSA_INVALID_CONFIG')
    expect(code(() => create({ segmentBytes: 0 }))).toBe('SAMSA_INVALID_CONFIG')
    expect(code(() => create({ segmentBytes: 2 ** 31 }))).toBe('SAMSA_INVALID_CONFIG')
    expect(code(() => create({ flush: true }))).toBe('SAMSA_INVALID_CONFIG')
    expect(code(() => create({ maxMessageBytes: {} }))).toBe('SAMSA_INVALID_CONFIG')
    expect(code(() => create('retentionMs=5'))).toBe('SAMSA_INVALID_CONFIG')
    expect(code(() => create([1]))).toBe('SAMSA_INVALID_CONFIG')
  })

  it("refuses cleanupPolicy 'compact' with an error that says why", () => {
    expect(() => create({ cleanupPolicy: 'compact' })).toThrow(/does not compact/)
    expect(() => create({ 'cleanup.policy': 'compact,delete' })).toThrow(/does not compact/)
  })

  it('checks partitions: 1 to maxPartitions, and only where a count may be given', () => {
    expect(code(() => create({ partitions: 0 }))).toBe('SAMSA_INVALID_PARTITIONS')
    expect(code(() => create({ partitions: -1 }))).toBe('SAMSA_INVALID_PARTITIONS')
    expect(code(() => create({ partitions: 101 }))).toBe('SAMSA_INVALID_PARTITIONS')
    expect(code(() => create({ partitions: '3' }))).toBe('SAMSA_INVALID_PARTITIONS')
    expect(code(() => alter({ partitions: 3 }))).toBe('SAMSA_INVALID_CONFIG')
  })

  it('null resets a key to the default; layers resolve topic over broker over Samsa', () => {
    expect(alter({ retentionMs: null, segmentBytes: 1000 })).toEqual({ partitions: undefined, set: { segmentBytes: 1000 }, reset: ['retentionMs'] })
    const config = effectiveConfig({ retentionMs: 5, segmentBytes: 999 }, { segmentBytes: 1000 })
    expect(config).toEqual({ ...DEFAULT_TOPIC_CONFIG, retentionMs: 5, segmentBytes: 1000 })
  })

  it('knows which changes need the logs reopened', () => {
    const base = effectiveConfig({}, {})
    expect(needsLogReopen(base, { ...base, retentionMs: 1 })).toBe(false)
    expect(needsLogReopen(base, { ...base, retentionBytes: 1 })).toBe(false)
    expect(needsLogReopen(base, { ...base, segmentBytes: 1000 })).toBe(true)
    expect(needsLogReopen(base, { ...base, flush: 'always' })).toBe(true)
    expect(needsLogReopen(base, { ...base, maxMessageBytes: 10 })).toBe(true)
  })
})
