import { describe, expect, it } from 'vitest'
import { type Assignment, type MemberSubscription, rangeAssign, roundRobinAssign, stickyAssign, type TopicPartition } from './assignors.js'

const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition })
const fmt = (a: Assignment) => Object.fromEntries([...a].map(([id, tps]) => [id, tps.map((x) => `${x.topic}-${x.partition}`)]))

function everyPartitionOnce(a: Assignment, counts: Map<string, number>, members: MemberSubscription[]): void {
  const seen = new Set<string>()
  for (const [id, tps] of a) {
    for (const x of tps) {
      const k = `${x.topic}-${x.partition}`
      expect(seen.has(k), `${k} assigned twice`).toBe(false)
      seen.add(k)
      expect(members.find((m) => m.memberId === id)?.topics).toContain(x.topic)
    }
  }
  const subscribed = new Set(members.flatMap((m) => m.topics))
  let expected = 0
  for (const t of subscribed) expected += counts.get(t) ?? 0
  expect(seen.size).toBe(expected)
}

describe('range assignor (Kafka RangeAssignor)', () => {
  it('gives each member a contiguous range per topic, the first members one extra', () => {
    const members = [
      { memberId: 'c1', topics: ['t0', 't1'] },
      { memberId: 'c0', topics: ['t0', 't1'] },
    ]
    const counts = new Map([
      ['t0', 3],
      ['t1', 3],
    ])
    expect(fmt(rangeAssign(members, counts))).toEqual({ c0: ['t0-0', 't0-1', 't1-0', 't1-1'], c1: ['t0-2', 't1-2'] })
  })

  it('only assigns a topic to its subscribers', () => {
    const members = [
      { memberId: 'a', topics: ['x'] },
      { memberId: 'b', topics: ['x', 'y'] },
    ]
    const counts = new Map([
      ['x', 2],
      ['y', 2],
    ])
    const a = rangeAssign(members, counts)
    expect(fmt(a)).toEqual({ a: ['x-0'], b: ['x-1', 'y-0', 'y-1'] })
    everyPartitionOnce(a, counts, members)
  })
})

describe('roundrobin assignor', () => {
  it('deals sorted partitions out in turn', () => {
    const members = [
      { memberId: 'c0', topics: ['t0', 't1'] },
      { memberId: 'c1', topics: ['t0', 't1'] },
    ]
    const counts = new Map([
      ['t0', 3],
      ['t1', 3],
    ])
    expect(fmt(roundRobinAssign(members, counts))).toEqual({ c0: ['t0-0', 't0-2', 't1-1'], c1: ['t0-1', 't1-0', 't1-2'] })
  })

  it('more members than partitions leaves some idle', () => {
    const members = ['a', 'b', 'c'].map((memberId) => ({ memberId, topics: ['t'] }))
    const counts = new Map([['t', 2]])
    const a = roundRobinAssign(members, counts)
    expect(fmt(a)).toEqual({ a: ['t-0'], b: ['t-1'], c: [] })
  })
})

describe('cooperative-sticky assignor', () => {
  const counts = new Map([['t', 6]])

  it('is balanced from scratch', () => {
    const members = ['a', 'b', 'c'].map((memberId) => ({ memberId, topics: ['t'] }))
    const a = stickyAssign(members, counts)
    for (const tps of a.values()) expect(tps.length).toBe(2)
    everyPartitionOnce(a, counts, members)
  })

  it('moves only what balance requires when a member joins', () => {
    const before = new Map<string, TopicPartition[]>([
      ['a', [tp('t', 0), tp('t', 1), tp('t', 2)]],
      ['b', [tp('t', 3), tp('t', 4), tp('t', 5)]],
    ])
    const members = ['a', 'b', 'c'].map((memberId) => ({ memberId, topics: ['t'] }))
    const after = stickyAssign(members, counts, before)
    everyPartitionOnce(after, counts, members)
    let moved = 0
    for (const [id, tps] of after) for (const x of tps) if (!before.get(id)?.some((y) => y.partition === x.partition)) moved++
    expect(moved).toBe(2) // c takes one from each; a and b keep two of their three
    for (const tps of after.values()) expect(tps.length).toBe(2)
  })

  it('keeps the survivors whole when a member leaves', () => {
    const before = new Map<string, TopicPartition[]>([
      ['a', [tp('t', 0), tp('t', 1)]],
      ['b', [tp('t', 2), tp('t', 3)]],
      ['c', [tp('t', 4), tp('t', 5)]],
    ])
    const members = ['a', 'b'].map((memberId) => ({ memberId, topics: ['t'] }))
    const after = stickyAssign(members, counts, before)
    expect(after.get('a')?.slice(0, 2)).toEqual(expect.arrayContaining([tp('t', 0), tp('t', 1)]))
    expect(after.get('b')).toEqual(expect.arrayContaining([tp('t', 2), tp('t', 3)]))
    expect(after.get('a')?.length).toBe(3)
    expect(after.get('b')?.length).toBe(3)
    everyPartitionOnce(after, counts, members)
  })

  it('drops partitions of topics a member no longer subscribes to', () => {
    const before = new Map<string, TopicPartition[]>([['a', [tp('t', 0), tp('u', 0)]]])
    const members = [{ memberId: 'a', topics: ['t'] }]
    expect(fmt(stickyAssign(members, new Map([['t', 1], ['u', 1]]), before))).toEqual({ a: ['t-0'] })
  })

  it('random churn: always complete, disjoint and balanced within one', () => {
    let seed = 42
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
    let previous = new Map<string, TopicPartition[]>()
    const counts2 = new Map([
      ['a', 7],
      ['b', 5],
    ])
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(rand() * 6)
      const members = Array.from({ length: n }, (_, i) => ({ memberId: `m${Math.floor(rand() * 8)}-${i}`, topics: ['a', 'b'] }))
      const uniq = [...new Map(members.map((m) => [m.memberId, m])).values()]
      const next = stickyAssign(uniq, counts2, previous)
      everyPartitionOnce(next, counts2, uniq)
      const sizes = [...next.values()].map((x) => x.length)
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      previous = next
    }
  })
})
