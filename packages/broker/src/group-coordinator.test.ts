import { describe, expect, it } from 'vitest'
import type { AssignorName, TopicPartition } from './assignors.js'
import { type GroupMember, GroupCoordinator } from './group-coordinator.js'

/** Records what the coordinator asks of it, and checks no partition ever has two owners. */
class RecordingMember implements GroupMember {
  owned: TopicPartition[] = []
  generation = 0
  fencedWhy: string | null = null
  events: string[] = []
  revokeDelayMs = 0

  constructor(
    readonly memberId: string,
    private readonly owners: Map<string, string>,
    private readonly topics: string[] = ['t'],
    readonly assignors: AssignorName[] = ['range'],
    readonly sessionTimeoutMs = 10_000,
    readonly clientId = 'test',
  ) {}

  subscribedTopics(): string[] {
    return this.topics
  }

  async onRevoke(partitions: TopicPartition[]): Promise<void> {
    if (this.revokeDelayMs > 0) await new Promise((r) => setTimeout(r, this.revokeDelayMs))
    for (const tp of partitions) {
      const k = `${tp.topic}-${tp.partition}`
      expect(this.owners.get(k)).toBe(this.memberId)
      this.owners.delete(k)
    }
    this.owned = this.owned.filter((x) => !partitions.some((p) => p.topic === x.topic && p.partition === x.partition))
    this.events.push(`revoke ${partitions.map((p) => p.partition).join(',')}`)
  }

  async onAssign(generation: number, assignment: TopicPartition[], added: TopicPartition[]): Promise<void> {
    for (const tp of added) {
      const k = `${tp.topic}-${tp.partition}`
      expect(this.owners.get(k), `${k} still owned by another member`).toBeUndefined()
      this.owners.set(k, this.memberId)
    }
    this.owned = assignment
    this.generation = generation
    this.events.push(`assign g${generation} ${assignment.map((p) => p.partition).join(',')}`)
  }

  onFenced(reason: string): void {
    this.fencedWhy = reason
    for (const tp of this.owned) this.owners.delete(`${tp.topic}-${tp.partition}`)
    this.owned = []
  }
}

describe('GroupCoordinator', () => {
  it('splits partitions on join and hands them back on leave, never with two owners', async () => {
    const owners = new Map<string, string>()
    const c = new GroupCoordinator({ partitionCount: () => 4 })
    const a = new RecordingMember('a', owners)
    const b = new RecordingMember('b', owners)
    await c.join('g', a)
    expect(a.owned.map((p) => p.partition)).toEqual([0, 1, 2, 3])
    expect(a.generation).toBe(1)
    await c.join('g', b)
    expect(a.owned.map((p) => p.partition)).toEqual([0, 1])
    expect(b.owned.map((p) => p.partition)).toEqual([2, 3])
    expect(a.generation).toBe(2)
    expect(a.events).toEqual(['assign g1 0,1,2,3', 'revoke 0,1,2,3', 'assign g2 0,1'])
    await c.leave('g', 'a')
    expect(b.owned.map((p) => p.partition)).toEqual([0, 1, 2, 3])
    expect(c.describe('g')?.members.map((m) => m.memberId)).toEqual(['b'])
    c.close()
  })

  it('cooperative-sticky revokes only the partitions that move', async () => {
    const owners = new Map<string, string>()
    const c = new GroupCoordinator({ partitionCount: () => 4 })
    const a = new RecordingMember('a', owners, ['t'], ['cooperative-sticky'])
    const b = new RecordingMember('b', owners, ['t'], ['cooperative-sticky'])
    await c.join('g', a)
    await c.join('g', b)
    expect(a.events[1]).toBe('revoke 2,3')
    expect(a.owned.map((p) => p.partition)).toEqual([0, 1])
    c.close()
  })

  it('refuses commits from a stale generation, from non-members and for partitions not owned', async () => {
    const owners = new Map<string, string>()
    const c = new GroupCoordinator({ partitionCount: () => 2 })
    const a = new RecordingMember('a', owners)
    await c.join('g', a)
    expect(() => c.checkCommit('g', 'a', 1, [{ topic: 't', partition: 1 }])).not.toThrow()
    await c.join('g', new RecordingMember('b', owners))
    expect(() => c.checkCommit('g', 'a', 1, [{ topic: 't', partition: 0 }])).toThrow(expect.objectContaining({ code: 'SAMSA_ILLEGAL_GENERATION' }))
    expect(() => c.checkCommit('g', 'a', 2, [{ topic: 't', partition: 1 }])).toThrow(
      expect.objectContaining({ code: 'SAMSA_PARTITION_NOT_ASSIGNED' }),
    )
    expect(() => c.checkCommit('g', 'zz', 2, [])).toThrow(expect.objectContaining({ code: 'SAMSA_UNKNOWN_MEMBER' }))
    c.close()
  })

  it('a commit made while revoking still counts', async () => {
    const owners = new Map<string, string>()
    const c = new GroupCoordinator({ partitionCount: () => 2 })
    const a = new RecordingMember('a', owners)
    let commitDuringRevoke: unknown = 'not called'
    const revoke = a.onRevoke.bind(a)
    a.onRevoke = async (parts) => {
      try {
        c.checkCommit('g', 'a', a.generation, parts)
        commitDuringRevoke = null
      } catch (err) {
        commitDuringRevoke = err
      }
      await revoke(parts)
    }
    await c.join('g', a)
    await c.join('g', new RecordingMember('b', owners))
    expect(commitDuringRevoke).toBeNull()
    c.close()
  })

  it('expires a silent member and rebalances its partitions to the others', async () => {
    const owners = new Map<string, string>()
    let now = 1_000
    const c = new GroupCoordinator({ partitionCount: () => 4, now: () => now })
    const a = new RecordingMember('a', owners, ['t'], ['range'], 5_000)
    const b = new RecordingMember('b', owners, ['t'], ['range'], 5_000)
    await c.join('g', a)
    await c.join('g', b)
    now += 3_000
    c.heartbeat('g', 'a')
    now += 3_000 // b silent for 6 s
    c.expireSessions()
    await new Promise((r) => setTimeout(r, 20))
    expect(b.fencedWhy).toMatch(/sessionTimeoutMs 5000/)
    expect(a.owned.map((p) => p.partition)).toEqual([0, 1, 2, 3])
    expect(c.heartbeat('g', 'b')).toBe(false)
    c.close()
  })

  it('rejects a member with no assignor in common', async () => {
    const owners = new Map<string, string>()
    const c = new GroupCoordinator({ partitionCount: () => 1 })
    await c.join('g', new RecordingMember('a', owners, ['t'], ['range']))
    await expect(c.join('g', new RecordingMember('b', owners, ['t'], ['roundrobin']))).rejects.toMatchObject({
      code: 'SAMSA_INCONSISTENT_GROUP_PROTOCOL',
    })
    c.close()
  })

  it('rejects embedded members in a group held by Kafka-protocol members', async () => {
    const c = new GroupCoordinator({ partitionCount: () => 1, foreignMembers: (g) => (g === 'wire' ? 2 : 0) })
    await expect(c.join('wire', new RecordingMember('a', new Map()))).rejects.toMatchObject({ code: 'SAMSA_INCONSISTENT_GROUP_PROTOCOL' })
    c.close()
  })

  it('folds joins that arrive during a rebalance into one more rebalance', async () => {
    const owners = new Map<string, string>()
    const c = new GroupCoordinator({ partitionCount: () => 6 })
    const a = new RecordingMember('a', owners)
    await c.join('g', a)
    a.revokeDelayMs = 30
    const b = new RecordingMember('b', owners)
    const d = new RecordingMember('d', owners)
    await Promise.all([c.join('g', b), c.join('g', d)])
    const all = [a, b, d].flatMap((m) => m.owned.map((p) => p.partition)).sort()
    expect(all).toEqual([0, 1, 2, 3, 4, 5])
    expect(a.owned.length).toBe(2)
    c.close()
  })
})
