import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { murmur2, partitionForKey, StickyPartitioner, toPositive } from './partitioner.js'
import { prng } from './test-support/helpers.js'

// kafkajs is CommonJS; its DefaultPartitioner is the Java client's (murmur2) partitioner.
const require = createRequire(import.meta.url)
const { Partitioners } = require('kafkajs') as {
  Partitioners: { DefaultPartitioner: () => (args: { topic: string; partitionMetadata: { partitionId: number; leader: number }[]; message: { key?: Buffer | string | null; partition?: number } }) => number }
}

function randomKey(rand: () => number): Buffer | string {
  const len = Math.floor(rand() * 40)
  if (rand() < 0.5) {
    const b = Buffer.alloc(len)
    for (let i = 0; i < len; i++) b[i] = Math.floor(rand() * 256)
    return b
  }
  let s = ''
  for (let i = 0; i < len; i++) s += String.fromCodePoint(rand() < 0.9 ? 32 + Math.floor(rand() * 95) : 0xa0 + Math.floor(rand() * 0x3000))
  return s
}

describe('partitioner', () => {
  it('matches KafkaJS DefaultPartitioner on 10,000 random keys for several partition counts', () => {
    const rand = prng(20240611)
    const keys = Array.from({ length: 10_000 }, () => randomKey(rand))
    for (const n of [1, 2, 3, 7, 12, 64, 100, 1000]) {
      const kafkajs = Partitioners.DefaultPartitioner()
      const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0 }))
      const spread = new Set<number>()
      for (const key of keys) {
        const theirs = kafkajs({ topic: 't', partitionMetadata, message: { key } })
        const ours = partitionForKey(key, n)
        if (ours !== theirs) expect({ key, n, ours }).toEqual({ key, n, ours: theirs })
        spread.add(ours)
      }
      expect(spread.size).toBe(n)
    }
  })

  it("matches Kafka's murmur2 on known vectors", () => {
    // From Kafka's UtilsTest.testMurmur2 (the Java client's reference values).
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ]
    for (const [key, expected] of cases) expect(murmur2(Buffer.from(key))).toBe(expected)
    expect(toPositive(-1)).toBe(0x7fffffff)
    expect(toPositive(-2147483648)).toBe(0)
  })

  it('keeps keyless messages on one partition until its batch is sent, then moves round-robin', () => {
    const sticky = new StickyPartitioner()
    const first = sticky.current('t', 4)
    expect(sticky.current('t', 4)).toBe(first)
    const seen = [first]
    for (let i = 0; i < 7; i++) {
      sticky.batchSent('t', sticky.current('t', 4), 4)
      seen.push(sticky.current('t', 4))
    }
    expect(seen).toEqual(Array.from({ length: 8 }, (_, i) => (first + i) % 4))
    // A batch sent on another partition does not move it.
    const now = sticky.current('t', 4)
    sticky.batchSent('t', (now + 1) % 4, 4)
    expect(sticky.current('t', 4)).toBe(now)
  })
})
