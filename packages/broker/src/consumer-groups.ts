/**
 * Everything consumer groups need from, and give to, a Broker: the coordinator of embedded
 * members, the LMDB offset store, the live consumers, and the administration of groups
 * (describe with lag, list, reset offsets, delete). The Broker owns one and delegates to it.
 *
 * Lag is measured against the high watermark: what a consumer could read now.
 */
import type { Log } from '@samsa/log'
import { InvalidArgumentError } from '@samsa/log'
import type { TopicPartition } from './assignors.js'
import { Consumer, type ConsumedMessage, type ConsumerHost, type ConsumerOptions } from './consumer.js'
import { GroupNotEmptyError, UnknownGroupError } from './errors.js'
import { GroupCoordinator, type GroupState } from './group-coordinator.js'
import type { MetadataStore } from './metadata-store.js'
import { OffsetStore } from './offset-store.js'

/** What ConsumerGroups needs of the broker. */
export interface GroupsBrokerView {
  readonly closed: boolean
  readonly readOnly: boolean
  log(topic: string, partition: number): Log
  partitionCount(topic: string): number
  topicNames(): string[]
  requireTopic(topic: string): Promise<void>
  /** Write a record to a topic with acks 'all' (the dead-letter topic). */
  send(topic: string, message: { key: Buffer | null; value: Buffer | null; headers: { key: string; value: Buffer | string | null }[] }): Promise<void>
  now(): number
}

export interface GroupMemberDescription {
  memberId: string
  clientId: string
  assignment: TopicPartition[]
}

export interface GroupPartitionLag {
  topic: string
  partition: number
  /** The next offset the group will read, or null if it never committed one. */
  committedOffset: number | null
  logEndOffset: number
  /** logEndOffset - committedOffset, or null without a committed offset. */
  lag: number | null
  metadata: string | null
  commitTimestamp: number | null
}

export interface GroupDescription {
  groupId: string
  state: GroupState
  protocolType: 'embedded' | 'consumer'
  protocol: string | null
  generation: number
  members: GroupMemberDescription[]
  partitions: GroupPartitionLag[]
  totalLag: number
}

export interface GroupListing {
  groupId: string
  state: GroupState
  members: number
  protocolType: 'embedded' | 'consumer'
}

export type ResetTarget = 'earliest' | 'latest' | number | { timestamp: number } | { shiftBy: number }

export interface OffsetResetPlan {
  topic: string
  partition: number
  from: number | null
  to: number
}

/** Live members of groups served elsewhere (the Kafka wire protocol), so admin sees them too. */
export interface ForeignGroups {
  members(groupId: string): GroupMemberDescription[]
  state(groupId: string): GroupState | null
  groupIds(): string[]
}

export class ConsumerGroups {
  readonly coordinator: GroupCoordinator
  readonly offsets: OffsetStore
  private readonly consumers = new Set<Consumer>()
  private foreign: ForeignGroups | null = null
  /** What this process last published of each group's members (see publishMembers). */
  private readonly published = new Map<string, string>()
  private publisher: NodeJS.Timeout | null = null

  constructor(
    store: MetadataStore,
    private readonly broker: GroupsBrokerView,
  ) {
    this.offsets = new OffsetStore(store, () => broker.now())
    this.coordinator = new GroupCoordinator({
      partitionCount: (topic) => broker.partitionCount(topic),
      now: () => broker.now(),
      foreignMembers: (groupId) => this.foreign?.members(groupId).length ?? 0,
    })
  }

  /** Let the Kafka wire coordinator's groups show in describe and list, and keep them apart. */
  attachForeign(foreign: ForeignGroups): void {
    this.foreign = foreign
    this.startPublishing()
  }

  /**
   * Members live in this process's memory; other processes (a `samsa group describe` beside a
   * service) see them through a snapshot in LMDB, rewritten when it changes, at most once a second.
   */
  private startPublishing(): void {
    if (this.publisher !== null || this.broker.readOnly) return
    this.publisher = setInterval(() => void this.publishMembers().catch(() => undefined), 1000)
    this.publisher.unref()
  }

  async publishMembers(clear = false): Promise<void> {
    const ids = new Set<string>([...this.coordinator.groupIds(), ...(this.foreign?.groupIds() ?? []), ...this.published.keys()])
    for (const groupId of ids) {
      const foreign = this.foreign?.members(groupId) ?? []
      const live = this.coordinator.describe(groupId)
      const members = clear ? [] : foreign.length > 0 ? foreign : (live?.members ?? [])
      const state = foreign.length > 0 ? (this.foreign?.state(groupId) ?? 'Stable') : (live?.state ?? 'Empty')
      const key = members.length === 0 ? '' : JSON.stringify([state, members])
      if ((this.published.get(groupId) ?? '') === key) continue
      this.published.set(groupId, key)
      await this.offsets.setLive(
        groupId,
        members.length === 0 ? null : { pid: process.pid, state, members, publishedAt: this.broker.now() },
        foreign.length > 0 ? 'consumer' : 'embedded',
      )
    }
  }

  /** Embedded members, to keep wire clients out of embedded groups. */
  embeddedMembers(groupId: string): number {
    return this.coordinator.activeMembers(groupId)
  }

  consumer(options: ConsumerOptions = {}): Consumer {
    const broker = this.broker
    const host: ConsumerHost = {
      coordinator: this.coordinator,
      offsets: this.offsets,
      log: (t, p) => this.broker.log(t, p),
      partitionCount: (t) => this.broker.partitionCount(t),
      topicNames: () => this.broker.topicNames(),
      requireTopic: (t) => this.broker.requireTopic(t),
      deadLetter: (topic, m: ConsumedMessage, headers) =>
        this.broker.send(topic, { key: m.key, value: m.value, headers: [...m.headers, ...headers] }),
      consumerClosed: (c) => this.consumers.delete(c),
      get closed() {
        return broker.closed
      },
    }
    const consumer = new Consumer(host, options)
    this.consumers.add(consumer)
    this.startPublishing()
    return consumer
  }

  /** A topic appeared, disappeared or grew: members may need new assignments. */
  topicsChanged(): void {
    this.coordinator.topicsChanged()
  }

  private lagOf(topic: string, partition: number, committed: { offset: number; metadata: string | null; timestamp: number } | undefined): GroupPartitionLag | null {
    let log: Log
    try {
      log = this.broker.log(topic, partition)
    } catch {
      return null // the topic was deleted or shrank away: no lag to show
    }
    const end = log.highWatermark
    return {
      topic,
      partition,
      committedOffset: committed?.offset ?? null,
      logEndOffset: end,
      lag: committed === undefined ? null : Math.max(0, end - committed.offset),
      metadata: committed?.metadata ?? null,
      commitTimestamp: committed?.timestamp ?? null,
    }
  }

  describeGroup(groupId: string): GroupDescription {
    const record = this.offsets.group(groupId)
    const live = this.coordinator.describe(groupId)
    const foreignMembers = this.foreign?.members(groupId) ?? []
    // A group that left nothing behind (no commits) and has no members is gone, as in Kafka.
    if (record === undefined && (live === null || live.members.length === 0) && foreignMembers.length === 0) throw new UnknownGroupError(groupId)
    // Members served by another process (this one is a reader beside it), while it is alive.
    const elsewhere = record?.live !== undefined && record.live.pid !== process.pid && isAlive(record.live.pid) ? record.live : null
    const members = foreignMembers.length > 0 ? foreignMembers : (live?.members.length ? live.members : (elsewhere?.members ?? []))
    const partitions = new Map<string, GroupPartitionLag>()
    for (const c of this.offsets.list(groupId)) {
      const lag = this.lagOf(c.topic, c.partition, c)
      if (lag !== null) partitions.set(`${c.topic}\u0000${c.partition}`, lag)
    }
    // Assigned partitions without a commit yet still show, with their log end.
    for (const m of members) {
      for (const tp of m.assignment) {
        const k = `${tp.topic}\u0000${tp.partition}`
        if (partitions.has(k)) continue
        const lag = this.lagOf(tp.topic, tp.partition, undefined)
        if (lag !== null) partitions.set(k, lag)
      }
    }
    const list = [...partitions.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
    const state: GroupState =
      foreignMembers.length > 0
        ? (this.foreign?.state(groupId) ?? 'Stable')
        : live?.members.length
          ? live.state
          : elsewhere !== null
            ? (elsewhere.state as GroupState)
            : 'Empty'
    return {
      groupId,
      state,
      protocolType: record?.protocolType ?? (foreignMembers.length > 0 ? 'consumer' : 'embedded'),
      protocol: live?.protocol ?? null,
      generation: live?.generation ?? 0,
      members,
      partitions: list,
      totalLag: list.reduce((n, p) => n + (p.lag ?? 0), 0),
    }
  }

  listGroups(): GroupListing[] {
    const ids = new Set<string>([...this.offsets.listGroups().map((g) => g.groupId), ...this.coordinator.groupIds(), ...(this.foreign?.groupIds() ?? [])])
    const out: GroupListing[] = []
    for (const groupId of [...ids].sort()) {
      const d = this.describeGroupSafe(groupId)
      if (d !== null) out.push({ groupId, state: d.state, members: d.members.length, protocolType: d.protocolType })
    }
    return out
  }

  private describeGroupSafe(groupId: string): GroupDescription | null {
    try {
      return this.describeGroup(groupId)
    } catch {
      return null
    }
  }

  private activeMembers(groupId: string): number {
    return this.coordinator.activeMembers(groupId) + (this.foreign?.members(groupId).length ?? 0)
  }

  /** Move a group's committed offsets for a topic; refused while the group has members. */
  async resetOffsets(
    groupId: string,
    topic: string,
    to: ResetTarget,
    options: { partitions?: number[]; dryRun?: boolean } = {},
  ): Promise<OffsetResetPlan[]> {
    await this.broker.requireTopic(topic)
    const members = this.activeMembers(groupId)
    if (members > 0) throw new GroupNotEmptyError(groupId, members)
    const count = this.broker.partitionCount(topic)
    const partitions = options.partitions ?? Array.from({ length: count }, (_, i) => i)
    const plan: OffsetResetPlan[] = []
    for (const partition of partitions) {
      const log = this.broker.log(topic, partition)
      const current = this.offsets.get(groupId, topic, partition)?.offset ?? null
      const clamp = (n: number) => Math.min(Math.max(n, log.logStartOffset), log.highWatermark)
      let target: number
      if (to === 'earliest') target = log.logStartOffset
      else if (to === 'latest') target = log.highWatermark
      else if (typeof to === 'number') {
        if (!Number.isSafeInteger(to)) throw new InvalidArgumentError(`reset offset must be an integer, got ${to}`, 'SAMSA_INVALID_OFFSET')
        target = clamp(to)
      } else if ('timestamp' in to) target = (await log.offsetForTimestamp(to.timestamp)) ?? log.highWatermark
      else if ('shiftBy' in to) target = clamp((current ?? log.logStartOffset) + to.shiftBy)
      else throw new InvalidArgumentError("reset target must be 'earliest', 'latest', an offset, { timestamp } or { shiftBy }")
      plan.push({ topic, partition, from: current, to: target })
    }
    if (!options.dryRun) {
      await this.offsets.commit(
        groupId,
        plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.to, metadata: 'reset' })),
        {
          // Checked again inside the transaction: no member may have joined since.
          check: () => {
            const now = this.activeMembers(groupId)
            if (now > 0) throw new GroupNotEmptyError(groupId, now)
          },
        },
      )
    }
    return plan
  }

  /** Delete a group's offsets and state; refused while it has members. */
  async deleteGroup(groupId: string): Promise<void> {
    const members = this.activeMembers(groupId)
    if (members > 0) throw new GroupNotEmptyError(groupId, members)
    const found = await this.offsets.deleteGroup(groupId)
    if (!found) throw new UnknownGroupError(groupId)
  }

  /** The application state a group committed with its offsets (effectively-once processing). */
  groupState(groupId: string, key: string): unknown {
    return this.offsets.getState(groupId, key)
  }

  /** Close every consumer (each commits what it processed and leaves), then the coordinator. */
  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.close().catch(() => undefined)))
    if (this.publisher !== null) {
      clearInterval(this.publisher)
      this.publisher = null
      await this.publishMembers(true).catch(() => undefined)
    }
    this.coordinator.close()
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
