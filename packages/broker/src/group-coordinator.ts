/**
 * Membership of consumer groups whose members live in this process (broker.consumer()).
 *
 * Invariants:
 * - Rebalances of one group run one at a time. A join, a leave, an expired session or a changed
 *   subscription asks for one; requests that arrive during a rebalance fold into one more.
 * - No partition is ever owned by two members: a rebalance first revokes (and awaits: the member
 *   stops fetching, finishes in-flight work and runs onPartitionsRevoked, where it may commit),
 *   then bumps the generation, then assigns. With range and roundrobin every partition is revoked
 *   (Kafka's eager protocol); with cooperative-sticky only the ones that move.
 * - A commit is accepted only from a current member, at the current generation, for partitions it
 *   owns at that moment. Commits made while revoking are still in the old generation and owned,
 *   so they count; a member that was expired is fenced and its later commits are refused.
 */
import { type AssignorName, assign, ASSIGNORS, type TopicPartition } from './assignors.js'
import {
  IllegalGenerationError,
  InconsistentGroupProtocolError,
  PartitionNotAssignedError,
  UnknownMemberError,
} from './errors.js'

export type GroupState = 'Empty' | 'PreparingRebalance' | 'Stable' | 'Dead'

/** What the coordinator needs of a member; the consumer implements it. */
export interface GroupMember {
  readonly memberId: string
  readonly clientId: string
  readonly assignors: readonly AssignorName[]
  readonly sessionTimeoutMs: number
  /** The topic names the member subscribes to now (a RegExp subscription resolved). */
  subscribedTopics(): string[]
  /** Stop fetching these, finish in-flight work, run onPartitionsRevoked (which may commit). */
  onRevoke(partitions: TopicPartition[]): Promise<void>
  /** The new generation's whole assignment, and which of it is new to this member. */
  onAssign(generation: number, assignment: TopicPartition[], added: TopicPartition[]): Promise<void>
  /** Removed without a clean revoke (its session expired, or a revoke hung): drop everything now. */
  onFenced(reason: string): void
}

interface MemberState {
  member: GroupMember
  lastSeen: number
  assignment: TopicPartition[]
}

interface Group {
  groupId: string
  generation: number
  state: GroupState
  protocol: AssignorName | null
  members: Map<string, MemberState>
  dirty: boolean
  running: Promise<void> | null
}

export interface GroupDescription {
  groupId: string
  state: GroupState
  protocol: AssignorName | null
  generation: number
  members: { memberId: string; clientId: string; assignment: TopicPartition[] }[]
}

export interface CoordinatorOptions {
  /** Partitions of a topic now, or 0 if it does not exist. */
  partitionCount: (topic: string) => number
  now?: () => number
  /** How long a rebalance waits for a member's revoke before fencing it. Default 60 s. */
  rebalanceTimeoutMs?: number
  /** Whether another kind of group (Kafka wire clients) holds members under this id. */
  foreignMembers?: (groupId: string) => number
}

const key = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`

function minus(a: readonly TopicPartition[], b: readonly TopicPartition[]): TopicPartition[] {
  const drop = new Set(b.map(key))
  return a.filter((tp) => !drop.has(key(tp)))
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>()
  private readonly now: () => number
  private readonly rebalanceTimeoutMs: number
  private sweeper: NodeJS.Timeout | null = null

  constructor(private readonly options: CoordinatorOptions) {
    this.now = options.now ?? Date.now
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 60_000
  }

  private group(groupId: string): Group {
    let g = this.groups.get(groupId)
    if (g === undefined) {
      g = { groupId, generation: 0, state: 'Empty', protocol: null, members: new Map(), dirty: false, running: null }
      this.groups.set(groupId, g)
    }
    return g
  }

  /** Add a member; resolves once a rebalance that includes it has assigned its partitions. */
  async join(groupId: string, member: GroupMember): Promise<void> {
    const foreign = this.options.foreignMembers?.(groupId) ?? 0
    if (foreign > 0) {
      throw new InconsistentGroupProtocolError(
        groupId,
        `it has ${foreign} member(s) connected over the Kafka protocol, which assign partitions client-side; use another group id`,
      )
    }
    const g = this.group(groupId)
    const common = this.commonProtocol([...[...g.members.values()].map((m) => m.member), member])
    if (common === null) {
      throw new InconsistentGroupProtocolError(
        groupId,
        `its members use assignors [${g.protocol ?? ''}] and this one offers [${member.assignors.join(', ')}], with none in common`,
      )
    }
    g.members.set(member.memberId, { member, lastSeen: this.now(), assignment: [] })
    this.startSweeper()
    await this.requestRebalance(g)
  }

  /** Remove a member cleanly: it revokes its partitions (and may commit) before the others get them. */
  async leave(groupId: string, memberId: string): Promise<void> {
    const g = this.groups.get(groupId)
    const state = g?.members.get(memberId)
    if (g === undefined || state === undefined) return
    // Revoke first, while the member still owns its partitions, so its final commit counts.
    await this.revokeWithTimeout(g, state, state.assignment)
    g.members.delete(memberId)
    await this.requestRebalance(g)
  }

  /** The member is alive; returns whether it still belongs to the group. */
  heartbeat(groupId: string, memberId: string): boolean {
    const state = this.groups.get(groupId)?.members.get(memberId)
    if (state === undefined) return false
    state.lastSeen = this.now()
    return true
  }

  /** The member's subscription changed (subscribe() again, or a RegExp matched a new topic). */
  async subscriptionChanged(groupId: string): Promise<void> {
    const g = this.groups.get(groupId)
    if (g !== undefined && g.members.size > 0) await this.requestRebalance(g)
  }

  /** A topic was created, deleted or grew partitions: rebalance every group that may care. */
  topicsChanged(): void {
    for (const g of this.groups.values()) if (g.members.size > 0) void this.requestRebalance(g)
  }

  /** Throws unless this member may commit these partitions at this generation. */
  checkCommit(groupId: string, memberId: string, generation: number, partitions: readonly TopicPartition[]): void {
    const g = this.groups.get(groupId)
    const state = g?.members.get(memberId)
    if (g === undefined || state === undefined) throw new UnknownMemberError(groupId, memberId)
    if (generation !== g.generation) throw new IllegalGenerationError(groupId, generation, g.generation)
    const owned = new Set(state.assignment.map(key))
    for (const tp of partitions) if (!owned.has(key(tp))) throw new PartitionNotAssignedError(tp.topic, tp.partition)
  }

  activeMembers(groupId: string): number {
    return this.groups.get(groupId)?.members.size ?? 0
  }

  describe(groupId: string): GroupDescription | null {
    const g = this.groups.get(groupId)
    if (g === undefined) return null
    return {
      groupId,
      state: g.members.size === 0 && g.state !== 'Dead' ? 'Empty' : g.state,
      protocol: g.protocol,
      generation: g.generation,
      members: [...g.members.values()].map((m) => ({
        memberId: m.member.memberId,
        clientId: m.member.clientId,
        assignment: [...m.assignment],
      })),
    }
  }

  groupIds(): string[] {
    return [...this.groups.keys()]
  }

  /** Stop the session sweeper; members are expected to have left. */
  close(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper)
    this.sweeper = null
    for (const g of this.groups.values()) g.state = 'Dead'
  }

  // -------------------------------------------------------------------------------------------

  private commonProtocol(members: GroupMember[]): AssignorName | null {
    if (members.length === 0) return null
    for (const name of members[0].assignors) {
      if (ASSIGNORS.includes(name) && members.every((m) => m.assignors.includes(name))) return name
    }
    return null
  }

  private requestRebalance(g: Group): Promise<void> {
    g.dirty = true
    if (g.running === null) {
      g.running = (async () => {
        try {
          while (g.dirty) {
            g.dirty = false
            await this.rebalanceOnce(g)
          }
        } finally {
          g.running = null
        }
      })()
    }
    return g.running
  }

  private async rebalanceOnce(g: Group): Promise<void> {
    const states = [...g.members.values()]
    if (states.length === 0) {
      if (g.state !== 'Empty') g.generation++
      g.state = 'Empty'
      g.protocol = null
      return
    }
    g.state = 'PreparingRebalance'
    const protocol = this.commonProtocol(states.map((s) => s.member)) ?? 'range'
    const counts = new Map<string, number>()
    const subs = states.map((s) => {
      const topics = s.member.subscribedTopics()
      for (const t of topics) if (!counts.has(t)) counts.set(t, this.options.partitionCount(t))
      return { memberId: s.member.memberId, topics }
    })
    const previous = new Map(states.map((s) => [s.member.memberId, s.assignment]))
    const next = assign(protocol, subs, counts, previous)
    const eager = protocol !== 'cooperative-sticky'

    await Promise.all(
      states.map((s) => this.revokeWithTimeout(g, s, eager ? s.assignment : minus(s.assignment, next.get(s.member.memberId) ?? []))),
    )
    g.generation++
    g.protocol = protocol
    const generation = g.generation
    await Promise.all(
      states.map(async (s) => {
        if (g.members.get(s.member.memberId) !== s) return // left or fenced meanwhile
        const mine = next.get(s.member.memberId) ?? []
        const added = minus(mine, s.assignment)
        s.assignment = mine
        s.lastSeen = this.now()
        await s.member.onAssign(generation, mine, added)
      }),
    )
    g.state = 'Stable'
  }

  private async revokeWithTimeout(g: Group, s: MemberState, partitions: TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return
    let timer: NodeJS.Timeout | null = null
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.rebalanceTimeoutMs)
      timer.unref()
    })
    try {
      const outcome = await Promise.race([s.member.onRevoke(partitions).then(() => 'done' as const), timedOut])
      if (outcome === 'timeout') this.fence(g, s, `did not finish revoking within ${this.rebalanceTimeoutMs} ms`)
    } catch (err) {
      // A throwing onPartitionsRevoked must not wedge the group: the partitions are released anyway.
      void err
    } finally {
      if (timer !== null) clearTimeout(timer)
      s.assignment = minus(s.assignment, partitions)
      s.lastSeen = this.now()
    }
  }

  private fence(g: Group, s: MemberState, reason: string): void {
    if (g.members.get(s.member.memberId) !== s) return
    g.members.delete(s.member.memberId)
    s.assignment = []
    try {
      s.member.onFenced(reason)
    } catch {
      // The member's own cleanup failing does not change that it is out.
    }
  }

  private startSweeper(): void {
    if (this.sweeper !== null) return
    this.sweeper = setInterval(() => this.expireSessions(), 100)
    this.sweeper.unref()
  }

  /** Remove members that have been silent for longer than their session timeout. */
  expireSessions(): void {
    const now = this.now()
    for (const g of this.groups.values()) {
      if (g.running !== null) continue // members are busy revoking or being assigned, not silent
      let changed = false
      for (const s of [...g.members.values()]) {
        if (now - s.lastSeen > s.member.sessionTimeoutMs) {
          this.fence(g, s, `no poll for ${now - s.lastSeen} ms, longer than sessionTimeoutMs ${s.member.sessionTimeoutMs}`)
          changed = true
        }
      }
      if (changed) void this.requestRebalance(g)
    }
  }
}
