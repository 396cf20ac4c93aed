/**
 * The group coordinator for Kafka clients (protocol type "consumer", or any other client-side
 * protocol): what Kafka's GroupCoordinator does, for one broker.
 *
 * A group moves Empty -> PreparingRebalance -> CompletingRebalance -> Stable, and back to
 * PreparingRebalance whenever a member joins, leaves, changes its protocols, or its session expires.
 * - JoinGroup is held while PreparingRebalance, until every known member (and every member id handed
 *   out with MEMBER_ID_REQUIRED) has rejoined, or the longest rebalance timeout of the members has
 *   passed; members that did not rejoin by then are removed. Then the generation is bumped, a
 *   protocol every member supports is chosen (by the members' votes, as Kafka does), the leader is
 *   kept or picked, and every held JoinGroup is answered; only the leader's answer lists the members
 *   and their metadata, from which it computes the assignment.
 * - SyncGroup is held in CompletingRebalance until the leader's SyncGroup brings the assignments;
 *   then every member gets its own and the group is Stable.
 * - Heartbeat answers REBALANCE_IN_PROGRESS while PreparingRebalance: that is how a member learns
 *   to rejoin. Requests from a past generation get ILLEGAL_GENERATION, from unknown members
 *   UNKNOWN_MEMBER_ID.
 * - A member silent for longer than its session timeout is removed, except while its JoinGroup or
 *   SyncGroup is held (it is waiting on the group, not gone).
 * - Offsets are committed (by the caller, see handlers/groups.ts) only by a current member at the
 *   current generation, and not in CompletingRebalance, when the new assignment is not known yet.
 *
 * Groups with live embedded members (broker.consumer()) cannot take wire members, and the other way
 * round: the embedded coordinator asks `memberCount` before it admits anyone.
 */
import { randomUUID } from 'node:crypto'
import type { TopicPartition } from '../assignors.js'
import type { JoinGroupRequest, JoinGroupResponse } from './apis/join-group.js'
import type { SyncGroupResponse } from './apis/sync-group.js'
import { assignedPartitions } from './consumer-protocol.js'
import { ErrorCode } from './error-codes.js'

export type WireGroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

export interface WireGroupCoordinatorOptions {
  /** Live embedded members of a group id; such a group refuses wire members. */
  embeddedMembers: (groupId: string) => number
  /** Called when a group gets a member (to record it in the offset store). */
  onGroupJoined?: (groupId: string, protocolType: string) => void
  /** One-line log of membership events. */
  log?: (line: string) => void
  now?: () => number
  /** Kafka's group.min.session.timeout.ms (default 6000 there; 1000 here, for tests of expiry). */
  minSessionTimeoutMs?: number
  /** Kafka's group.max.session.timeout.ms. Default 30 minutes. */
  maxSessionTimeoutMs?: number
  /** Kafka's group.initial.rebalance.delay.ms: how long a first rebalance waits for more members. Default 0. */
  initialRebalanceDelayMs?: number
  /** How often sessions are checked. Default 250 ms. */
  sweepIntervalMs?: number
}

export interface JoinContext {
  version: number
  clientId: string
  clientHost: string
}

interface Member {
  memberId: string
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: { name: string; metadata: Buffer }[]
  assignment: Buffer
  lastHeartbeat: number
  joinWaiter: ((r: JoinGroupResponse) => void) | null
  syncWaiter: ((r: SyncGroupResponse) => void) | null
}

interface Group {
  groupId: string
  state: WireGroupState
  generation: number
  protocolType: string | null
  protocol: string | null
  leader: string | null
  members: Map<string, Member>
  /** Member ids handed out with MEMBER_ID_REQUIRED, with when they expire if never used. */
  pending: Map<string, number>
  rebalanceTimer: NodeJS.Timeout | null
  /** A first rebalance completes no earlier than this (initialRebalanceDelayMs). */
  notBefore: number
  delayTimer: NodeJS.Timeout | null
}

export interface WireGroupDescription {
  groupId: string
  state: WireGroupState
  protocolType: string
  protocol: string
  generation: number
  members: { memberId: string; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer; partitions: TopicPartition[] }[]
}

const EMPTY = Buffer.alloc(0)

export class WireGroupCoordinator {
  private readonly groups = new Map<string, Group>()
  private readonly now: () => number
  private readonly log: (line: string) => void
  private readonly minSession: number
  private readonly maxSession: number
  private readonly initialDelay: number
  private sweeper: NodeJS.Timeout | null = null
  private closed = false

  constructor(private readonly options: WireGroupCoordinatorOptions) {
    this.now = options.now ?? Date.now
    this.log = options.log ?? (() => undefined)
    this.minSession = options.minSessionTimeoutMs ?? 1000
    this.maxSession = options.maxSessionTimeoutMs ?? 30 * 60 * 1000
    this.initialDelay = options.initialRebalanceDelayMs ?? 0
    this.sweeper = setInterval(() => this.expireSessions(), options.sweepIntervalMs ?? 250)
    this.sweeper.unref()
  }

  // ------------------------------------------------------------------------------------------
  // Queries

  /** Live members of a group (those of a completed or running rebalance; not pending ids). */
  memberCount(groupId: string): number {
    return this.groups.get(groupId)?.members.size ?? 0
  }

  groupIds(): string[] {
    return [...this.groups.keys()].filter((id) => this.groups.get(id)!.members.size > 0)
  }

  describe(groupId: string): WireGroupDescription | null {
    const g = this.groups.get(groupId)
    if (g === undefined) return null
    const stable = g.state === 'Stable'
    return {
      groupId,
      state: g.state,
      protocolType: g.protocolType ?? '',
      protocol: g.protocol ?? '',
      generation: g.generation,
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? this.metadataFor(m, g.protocol) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
        partitions: stable ? assignedPartitions(m.assignment) : [],
      })),
    }
  }

  // ------------------------------------------------------------------------------------------
  // JoinGroup

  join(req: JoinGroupRequest, ctx: JoinContext): Promise<JoinGroupResponse> {
    const fail = (errorCode: number, memberId = req.memberId) => Promise.resolve(joinError(errorCode, memberId))
    if (this.closed) return fail(ErrorCode.NOT_COORDINATOR)
    if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID)
    if (req.sessionTimeoutMs < this.minSession || req.sessionTimeoutMs > this.maxSession) return fail(ErrorCode.INVALID_SESSION_TIMEOUT)
    if (req.protocolType === '' || req.protocols.length === 0) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    const embedded = this.options.embeddedMembers(req.groupId)
    if (embedded > 0) {
      this.log(`group ${req.groupId}: refused ${ctx.clientId}@${ctx.clientHost}: the group has ${embedded} embedded member(s)`)
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    }
    let g = this.groups.get(req.groupId)
    if (g !== undefined && g.members.size > 0) {
      if (g.protocolType !== req.protocolType || this.commonProtocols(g, req.protocols).length === 0) {
        this.log(`group ${req.groupId}: refused ${ctx.clientId}@${ctx.clientHost}: no protocol in common with the members`)
        return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
      }
    }
    if (g === undefined) {
      g = {
        groupId: req.groupId,
        state: 'Empty',
        generation: 0,
        protocolType: null,
        protocol: null,
        leader: null,
        members: new Map(),
        pending: new Map(),
        rebalanceTimer: null,
        notBefore: 0,
        delayTimer: null,
      }
      this.groups.set(req.groupId, g)
    }

    if (req.memberId === '') {
      const memberId = `${ctx.clientId || 'member'}-${randomUUID()}`
      if (ctx.version >= 4) {
        // KIP-394: the member retries with this id, so a client that never gets the answer
        // leaves no member behind, only a pending id that expires.
        g.pending.set(memberId, this.now() + req.sessionTimeoutMs)
        return fail(ErrorCode.MEMBER_ID_REQUIRED, memberId)
      }
      return this.addMemberAndRebalance(g, memberId, req, ctx)
    }
    if (g.pending.delete(req.memberId)) return this.addMemberAndRebalance(g, req.memberId, req, ctx)

    const m = g.members.get(req.memberId)
    if (m === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID)
    m.lastHeartbeat = this.now()
    switch (g.state) {
      case 'PreparingRebalance':
        this.updateMember(m, req)
        return this.awaitJoin(g, m)
      case 'CompletingRebalance':
        if (sameProtocols(m, req)) return Promise.resolve(this.joinAnswer(g, m))
        return this.updateMemberAndRebalance(g, m, req)
      case 'Stable':
        if (m.memberId === g.leader || !sameProtocols(m, req)) return this.updateMemberAndRebalance(g, m, req)
        return Promise.resolve(this.joinAnswer(g, m))
      default:
        return fail(ErrorCode.UNKNOWN_MEMBER_ID)
    }
  }

  private addMemberAndRebalance(g: Group, memberId: string, req: JoinGroupRequest, ctx: JoinContext): Promise<JoinGroupResponse> {
    const m: Member = {
      memberId,
      clientId: ctx.clientId,
      clientHost: ctx.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: EMPTY,
      lastHeartbeat: this.now(),
      joinWaiter: null,
      syncWaiter: null,
    }
    if (g.members.size === 0) g.protocolType = req.protocolType
    g.members.set(memberId, m)
    this.log(`group ${g.groupId}: member ${memberId} (${ctx.clientId}@${ctx.clientHost}) joins`)
    this.options.onGroupJoined?.(g.groupId, req.protocolType)
    const answer = this.awaitJoin(g, m, false)
    if (g.state !== 'PreparingRebalance') this.prepareRebalance(g)
    this.tryCompleteJoin(g)
    return answer
  }

  private updateMemberAndRebalance(g: Group, m: Member, req: JoinGroupRequest): Promise<JoinGroupResponse> {
    this.updateMember(m, req)
    const answer = this.awaitJoin(g, m, false)
    this.prepareRebalance(g)
    this.tryCompleteJoin(g)
    return answer
  }

  private updateMember(m: Member, req: JoinGroupRequest): void {
    m.sessionTimeoutMs = req.sessionTimeoutMs
    m.rebalanceTimeoutMs = req.rebalanceTimeoutMs
    m.protocols = req.protocols
  }

  private awaitJoin(g: Group, m: Member, tryComplete = true): Promise<JoinGroupResponse> {
    // The same member joining again on another connection: the older request gets an answer too.
    m.joinWaiter?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, m.memberId))
    const answer = new Promise<JoinGroupResponse>((resolve) => (m.joinWaiter = resolve))
    if (tryComplete) this.tryCompleteJoin(g)
    return answer
  }

  /** The current generation's answer, without a rebalance (a member that rejoined unchanged). */
  private joinAnswer(g: Group, m: Member): JoinGroupResponse {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      generationId: g.generation,
      protocolName: g.protocol ?? '',
      leader: g.leader ?? '',
      memberId: m.memberId,
      members: m.memberId === g.leader ? this.memberList(g) : [],
    }
  }

  private memberList(g: Group): JoinGroupResponse['members'] {
    return [...g.members.values()].map((x) => ({ memberId: x.memberId, groupInstanceId: null, metadata: this.metadataFor(x, g.protocol) }))
  }

  private metadataFor(m: Member, protocol: string | null): Buffer {
    return m.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY
  }

  // ------------------------------------------------------------------------------------------
  // Rebalancing

  private prepareRebalance(g: Group): void {
    if (g.state === 'CompletingRebalance') {
      // Assignments of the generation that was completing will never come: release the waiters.
      for (const m of g.members.values()) this.answerSync(m, ErrorCode.REBALANCE_IN_PROGRESS, EMPTY)
    }
    const wasEmpty = g.state === 'Empty' || g.state === 'Dead'
    g.state = 'PreparingRebalance'
    if (g.rebalanceTimer !== null) clearTimeout(g.rebalanceTimer)
    let timeout = 0
    for (const m of g.members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs)
    g.rebalanceTimer = setTimeout(() => this.completeJoin(g), timeout)
    g.rebalanceTimer.unref()
    if (wasEmpty && this.initialDelay > 0) {
      g.notBefore = this.now() + this.initialDelay
      if (g.delayTimer !== null) clearTimeout(g.delayTimer)
      g.delayTimer = setTimeout(() => {
        g.delayTimer = null
        this.tryCompleteJoin(g)
      }, this.initialDelay)
      g.delayTimer.unref()
    }
  }

  private tryCompleteJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance') return
    if (g.delayTimer !== null) return
    if (g.pending.size > 0) return
    for (const m of g.members.values()) if (m.joinWaiter === null) return
    this.completeJoin(g)
  }

  private completeJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance') return
    if (g.rebalanceTimer !== null) clearTimeout(g.rebalanceTimer)
    if (g.delayTimer !== null) clearTimeout(g.delayTimer)
    g.rebalanceTimer = null
    g.delayTimer = null
    // Members that did not rejoin within the rebalance timeout are out (Kafka does the same).
    for (const m of [...g.members.values()]) {
      if (m.joinWaiter === null) {
        this.log(`group ${g.groupId}: member ${m.memberId} removed: it did not rejoin within the rebalance timeout`)
        this.dropMember(g, m, ErrorCode.UNKNOWN_MEMBER_ID)
      }
    }
    g.pending.clear()
    g.generation++
    if (g.members.size === 0) {
      g.state = 'Empty'
      g.protocol = null
      g.protocolType = null
      g.leader = null
      return
    }
    g.protocol = this.selectProtocol(g)
    if (g.leader === null || !g.members.has(g.leader)) g.leader = g.members.keys().next().value as string
    g.state = 'CompletingRebalance'
    this.log(`group ${g.groupId}: generation ${g.generation}, ${g.members.size} member(s), protocol ${g.protocol}, leader ${g.leader}`)
    const now = this.now()
    for (const m of g.members.values()) {
      m.assignment = EMPTY
      m.lastHeartbeat = now
      const w = m.joinWaiter
      m.joinWaiter = null
      w?.(this.joinAnswer(g, m))
    }
  }

  private commonProtocols(g: Group, extra?: { name: string }[]): string[] {
    let names: string[] | null = extra === undefined ? null : extra.map((p) => p.name)
    for (const m of g.members.values()) {
      const theirs = new Set(m.protocols.map((p) => p.name))
      names = names === null ? [...theirs] : names.filter((n) => theirs.has(n))
    }
    return names ?? []
  }

  /** Kafka's choice: each member votes for the first of its protocols that all support; most votes wins. */
  private selectProtocol(g: Group): string {
    const candidates = new Set(this.commonProtocols(g))
    const votes = new Map<string, number>()
    for (const m of g.members.values()) {
      const pick = m.protocols.find((p) => candidates.has(p.name))
      if (pick !== undefined) votes.set(pick.name, (votes.get(pick.name) ?? 0) + 1)
    }
    let best = ''
    let most = -1
    for (const [name, n] of votes) {
      if (n > most) {
        best = name
        most = n
      }
    }
    return best
  }

  // ------------------------------------------------------------------------------------------
  // SyncGroup, Heartbeat, LeaveGroup

  sync(req: { groupId: string; generationId: number; memberId: string; assignments: { memberId: string; assignment: Buffer }[] }): Promise<SyncGroupResponse> {
    const fail = (errorCode: number) => Promise.resolve({ throttleTimeMs: 0, errorCode, assignment: EMPTY })
    if (this.closed) return fail(ErrorCode.NOT_COORDINATOR)
    const g = this.groups.get(req.groupId)
    const m = g?.members.get(req.memberId)
    if (g === undefined || m === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID)
    if (req.generationId !== g.generation) return fail(ErrorCode.ILLEGAL_GENERATION)
    m.lastHeartbeat = this.now()
    switch (g.state) {
      case 'PreparingRebalance':
        return fail(ErrorCode.REBALANCE_IN_PROGRESS)
      case 'Stable':
        return Promise.resolve({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, assignment: m.assignment })
      case 'CompletingRebalance': {
        this.answerSync(m, ErrorCode.REBALANCE_IN_PROGRESS, EMPTY)
        const answer = new Promise<SyncGroupResponse>((resolve) => (m.syncWaiter = resolve))
        if (m.memberId === g.leader) {
          const given = new Map(req.assignments.map((a) => [a.memberId, a.assignment]))
          for (const x of g.members.values()) x.assignment = given.get(x.memberId) ?? EMPTY
          g.state = 'Stable'
          for (const x of g.members.values()) this.answerSync(x, ErrorCode.NONE, x.assignment)
        }
        return answer
      }
      default:
        return fail(ErrorCode.UNKNOWN_MEMBER_ID)
    }
  }

  private answerSync(m: Member, errorCode: number, assignment: Buffer): void {
    const w = m.syncWaiter
    m.syncWaiter = null
    w?.({ throttleTimeMs: 0, errorCode, assignment })
  }

  heartbeat(req: { groupId: string; generationId: number; memberId: string }): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR
    const g = this.groups.get(req.groupId)
    const m = g?.members.get(req.memberId)
    if (g === undefined || m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
    if (req.generationId !== g.generation) return ErrorCode.ILLEGAL_GENERATION
    m.lastHeartbeat = this.now()
    return g.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE
  }

  leave(req: { groupId: string; memberId: string }): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR
    const g = this.groups.get(req.groupId)
    if (g === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
    if (g.pending.delete(req.memberId)) {
      this.tryCompleteJoin(g)
      return ErrorCode.NONE
    }
    const m = g.members.get(req.memberId)
    if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
    this.log(`group ${g.groupId}: member ${m.memberId} leaves`)
    this.dropMember(g, m, ErrorCode.UNKNOWN_MEMBER_ID)
    this.membershipChanged(g)
    return ErrorCode.NONE
  }

  /**
   * Whether this member may commit offsets now, as a Kafka error code (NONE if so). A commit with
   * generation -1 and no member id (a client outside any group, or v0) is allowed only while the
   * group has no members.
   */
  checkCommit(groupId: string, memberId: string, generationId: number): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR
    const g = this.groups.get(groupId)
    if (generationId < 0 && memberId === '') {
      if (this.options.embeddedMembers(groupId) > 0) return ErrorCode.UNKNOWN_MEMBER_ID
      return g === undefined || g.members.size === 0 ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID
    }
    if (g === undefined) return ErrorCode.ILLEGAL_GENERATION
    const m = g.members.get(memberId)
    if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
    if (generationId !== g.generation) return ErrorCode.ILLEGAL_GENERATION
    if (g.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS
    m.lastHeartbeat = this.now()
    return ErrorCode.NONE
  }

  private dropMember(g: Group, m: Member, errorCode: number): void {
    g.members.delete(m.memberId)
    const jw = m.joinWaiter
    m.joinWaiter = null
    jw?.(joinError(errorCode, m.memberId))
    this.answerSync(m, errorCode, EMPTY)
    if (g.leader === m.memberId) g.leader = null
  }

  private membershipChanged(g: Group): void {
    if (g.state === 'Stable' || g.state === 'CompletingRebalance') this.prepareRebalance(g)
    this.tryCompleteJoin(g)
  }

  // ------------------------------------------------------------------------------------------
  // Sessions and shutdown

  expireSessions(): void {
    const now = this.now()
    for (const g of this.groups.values()) {
      let changed = false
      for (const [id, expires] of g.pending) {
        if (now > expires) {
          g.pending.delete(id)
          changed = true
        }
      }
      for (const m of [...g.members.values()]) {
        // Held in JoinGroup or SyncGroup: waiting on the group, not silent.
        if (m.joinWaiter !== null || m.syncWaiter !== null) continue
        if (now - m.lastHeartbeat > m.sessionTimeoutMs) {
          this.log(`group ${g.groupId}: member ${m.memberId} expired: no heartbeat for ${now - m.lastHeartbeat} ms (session timeout ${m.sessionTimeoutMs} ms)`)
          this.dropMember(g, m, ErrorCode.UNKNOWN_MEMBER_ID)
          changed = true
        }
      }
      if (changed) this.membershipChanged(g)
      if (g.members.size === 0 && g.pending.size === 0 && g.state === 'Empty') this.groups.delete(g.groupId)
    }
  }

  /** Answer every held request (NOT_COORDINATOR: the client looks for the coordinator again) and stop. */
  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.sweeper !== null) clearInterval(this.sweeper)
    this.sweeper = null
    for (const g of this.groups.values()) {
      if (g.rebalanceTimer !== null) clearTimeout(g.rebalanceTimer)
      if (g.delayTimer !== null) clearTimeout(g.delayTimer)
      for (const m of g.members.values()) {
        const jw = m.joinWaiter
        m.joinWaiter = null
        jw?.(joinError(ErrorCode.NOT_COORDINATOR, m.memberId))
        this.answerSync(m, ErrorCode.NOT_COORDINATOR, EMPTY)
      }
      g.state = 'Dead'
    }
    // Their sessions end with the server: the groups no longer hold anyone (embedded consumers
    // may use the ids again, and describeGroup shows only committed offsets).
    this.groups.clear()
  }
}

function joinError(errorCode: number, memberId: string): JoinGroupResponse {
  return { throttleTimeMs: 0, errorCode, generationId: -1, protocolName: '', leader: '', memberId, members: [] }
}

function sameProtocols(m: Member, req: JoinGroupRequest): boolean {
  if (m.protocols.length !== req.protocols.length) return false
  return m.protocols.every((p, i) => p.name === req.protocols[i].name && p.metadata.equals(req.protocols[i].metadata))
}
