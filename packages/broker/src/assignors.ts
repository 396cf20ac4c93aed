/**
 * Partition assignors for consumer groups, as Kafka's clients define them. Each is a pure
 * function of the members' subscriptions and the topics' partition counts, so every member of a
 * group would compute the same answer; the sticky one also takes the previous assignment.
 *
 * - range: per topic, members sorted by id each take a contiguous range (the first ones one extra).
 * - roundrobin: all subscribed partitions, sorted, dealt out in turn to the members that subscribe.
 * - cooperative-sticky: balanced like roundrobin, but a partition stays with its previous owner
 *   whenever that keeps the counts within one of each other, so a rebalance moves as few
 *   partitions as it can.
 */

export interface TopicPartition {
  topic: string
  partition: number
}

export interface MemberSubscription {
  memberId: string
  topics: readonly string[]
}

export type Assignment = Map<string, TopicPartition[]>

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky'

export const ASSIGNORS: readonly AssignorName[] = ['range', 'roundrobin', 'cooperative-sticky']

function byTopicPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1
}

function emptyAssignment(members: readonly MemberSubscription[]): Assignment {
  const out: Assignment = new Map()
  for (const m of [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))) out.set(m.memberId, [])
  return out
}

export function rangeAssign(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Assignment {
  const out = emptyAssignment(members)
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort()
  for (const topic of topics) {
    const count = partitionCounts.get(topic) ?? 0
    const subscribers = [...out.keys()].filter((id) => members.find((m) => m.memberId === id)?.topics.includes(topic))
    if (subscribers.length === 0) continue
    const per = Math.floor(count / subscribers.length)
    const extra = count % subscribers.length
    let next = 0
    subscribers.forEach((id, i) => {
      const n = per + (i < extra ? 1 : 0)
      for (let p = next; p < next + n; p++) out.get(id)?.push({ topic, partition: p })
      next += n
    })
  }
  return out
}

function allPartitions(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): TopicPartition[] {
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort()
  const all: TopicPartition[] = []
  for (const topic of topics) for (let p = 0; p < (partitionCounts.get(topic) ?? 0); p++) all.push({ topic, partition: p })
  return all
}

export function roundRobinAssign(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Assignment {
  const out = emptyAssignment(members)
  const ids = [...out.keys()]
  const subs = new Map(members.map((m) => [m.memberId, new Set(m.topics)]))
  let turn = 0
  for (const tp of allPartitions(members, partitionCounts)) {
    // The next member in turn that subscribes to this topic.
    for (let tries = 0; tries < ids.length; tries++) {
      const id = ids[(turn + tries) % ids.length]
      if (subs.get(id)?.has(tp.topic)) {
        out.get(id)?.push(tp)
        turn = (turn + tries + 1) % ids.length
        break
      }
    }
  }
  return out
}

/**
 * Sticky and balanced: keep each member's previous partitions while it stays under its fair share,
 * then hand what is left to the least-loaded subscribers.
 */
export function stickyAssign(
  members: readonly MemberSubscription[],
  partitionCounts: ReadonlyMap<string, number>,
  previous: ReadonlyMap<string, readonly TopicPartition[]> = new Map(),
): Assignment {
  const out = emptyAssignment(members)
  const subs = new Map(members.map((m) => [m.memberId, new Set(m.topics)]))
  const all = allPartitions(members, partitionCounts)
  const key = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`
  const exists = new Set(all.map(key))
  const ids = [...out.keys()]
  if (ids.length === 0) return out
  // Fair shares: everyone gets floor(n/m); the first (n mod m) members by current load get one more.
  const floor = Math.floor(all.length / ids.length)
  let withExtra = all.length % ids.length
  const taken = new Set<string>()
  const kept = new Map<string, TopicPartition[]>()
  for (const id of ids) {
    const mine = (previous.get(id) ?? [])
      .filter((tp) => exists.has(key(tp)) && subs.get(id)?.has(tp.topic) && !taken.has(key(tp)))
      .sort(byTopicPartition)
    let limit = floor
    if (mine.length > floor && withExtra > 0) {
      limit = floor + 1
      withExtra--
    }
    const keep = mine.slice(0, limit)
    for (const tp of keep) taken.add(key(tp))
    kept.set(id, keep)
  }
  for (const id of ids) out.set(id, [...(kept.get(id) ?? [])])
  for (const tp of all) {
    if (taken.has(key(tp))) continue
    let best: string | null = null
    for (const id of ids) {
      if (!subs.get(id)?.has(tp.topic)) continue
      if (best === null || (out.get(id)?.length ?? 0) < (out.get(best)?.length ?? 0)) best = id
    }
    if (best !== null) {
      out.get(best)?.push(tp)
      taken.add(key(tp))
    }
  }
  for (const list of out.values()) list.sort(byTopicPartition)
  return out
}

export function assign(
  name: AssignorName,
  members: readonly MemberSubscription[],
  partitionCounts: ReadonlyMap<string, number>,
  previous?: ReadonlyMap<string, readonly TopicPartition[]>,
): Assignment {
  switch (name) {
    case 'range':
      return rangeAssign(members, partitionCounts)
    case 'roundrobin':
      return roundRobinAssign(members, partitionCounts)
    case 'cooperative-sticky':
      return stickyAssign(members, partitionCounts, previous)
  }
}
