import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Broker } from './broker.js'
import { tempDirs } from './test-support/helpers.js'
import { isDeletingDirName, parsePartitionDirName, topicNameProblem, validateTopicName } from './topic-name.js'

const dirs = tempDirs('topic-name')
afterEach(() => dirs.cleanup())

describe('topic names, as Kafka checks them', () => {
  it('accepts 1 to 249 of a-z A-Z 0-9 . _ -', () => {
    for (const name of ['a', 'orders', 'Orders.v2_final-1', '_', '-', '...', '.a', 'a..', 'x'.repeat(249), '0-0']) {
      expect(topicNameProblem(name), name).toBeNull()
    }
  })

  it('refuses path traversal, separators, reserved and over-long names', () => {
    const bad: unknown[] = ['', '.', '..', '../x', '../../etc', 'a/b', 'a\\b', '/abs', 'x'.repeat(250), 'a b', 'ä', 'a\0b', 'a:b', '~', null, 5, undefined]
    for (const name of bad) {
      expect(() => validateTopicName(name), String(name)).toThrow(expect.objectContaining({ code: 'SAMSA_INVALID_TOPIC_NAME' }))
    }
  })

  it('never lets createTopic touch anything outside the data directory', async () => {
    const parent = dirs.make()
    const dataDir = path.join(parent, 'data')
    const broker = await Broker.open(dataDir, { retentionCheckIntervalMs: 0 })
    try {
      for (const name of ['../x', 'a/b', '..', '.', '', 'x'.repeat(250), '../data2', '/tmp/x']) {
        await expect(broker.createTopic(name)).rejects.toMatchObject({ code: 'SAMSA_INVALID_TOPIC_NAME' })
        await expect(broker.deleteTopic(name)).rejects.toMatchObject({ code: 'SAMSA_INVALID_TOPIC_NAME' })
      }
      expect(fs.readdirSync(parent)).toEqual(['data'])
      expect(fs.readdirSync(dataDir).sort()).toEqual(['.lock', 'meta'])
    } finally {
      await broker.close()
    }
  })

  it('reads partition and delete directory names back only when the topic name is valid', () => {
    expect(parsePartitionDirName('orders-0')).toEqual({ topic: 'orders', partition: 0 })
    expect(parsePartitionDirName('a-b-12')).toEqual({ topic: 'a-b', partition: 12 })
    expect(parsePartitionDirName('..-0')).toBeNull()
    expect(parsePartitionDirName('.-3')).toBeNull()
    expect(parsePartitionDirName('orders-01')).toBeNull()
    expect(parsePartitionDirName('orders')).toBeNull()
    expect(parsePartitionDirName('meta')).toBeNull()
    expect(parsePartitionDirName(`${'x'.repeat(250)}-0`)).toBeNull()
    expect(isDeletingDirName(`orders-3.${'0a'.repeat(16)}-delete`)).toBe(true)
    expect(isDeletingDirName(`..-3.${'0a'.repeat(16)}-delete`)).toBe(false)
    expect(isDeletingDirName('orders-3.xyz-delete')).toBe(false)
  })
})
