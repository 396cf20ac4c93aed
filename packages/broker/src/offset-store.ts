/**
 * Consumer groups' committed offsets, in LMDB beside the topic registry.
 *
 * - Named DB `offsets`: key [groupId, topic, partition] -> { offset, metadata, timestamp }.
 *   Kafka's meaning: the committed offset is the next offset to read.
 * - Named DB `groups`: groupId -> { protocolType, createdAt, updatedAt }, so groups with committed
 *   offsets and no live members are still listed.
 * - Named DB `state` ([groupId, key] -> value): the application's own state, written in the same
 *   transaction as offsets (effectively-once processing).
 *
 * A commit of several partitions is one LMDB transaction, and `commit` resolves only after LMDB
 * has flushed it to disk. The `check` callback runs inside the transaction, on the main thread,
 * so a generation check and the write cannot be separated by a rebalance.
 */
import type { Database } from 'lmdb'
import type { MetadataStore } from './metadata-store.js'

export interface CommittedOffset {
  offset: number
  metadata: string | null
  /** When it was committed, ms since the epoch. */
  timestamp: number
}

export interface PartitionOffset {
  topic: string
  partition: number
  offset: number
  metadata?: string | null
}

export interface GroupRecord {
  groupId: string
  /** 'embedded' for broker.consumer() members, 'consumer' for Kafka-protocol clients. */
  protocolType: 'embedded' | 'consumer'
  createdAt: number
  updatedAt: number
  /**
   * The members as the process serving them last published them, so `samsa group describe` in
   * another process can show them. Only believed while that process is alive.
   */
  live?: LiveMembership
}

export interface LiveMembership {
  pid: number
  state: string
  members: { memberId: string; clientId: string; assignment: { topic: string; partition: number }[] }[]
  publishedAt: number
}

type OffsetKey = [string, string, number]
type StateKey = [string, string]

/** Reads and writes of the application's state inside a commit's transaction. */
export interface StateTransaction {
  get(key: string): unknown
  put(key: string, value: unknown): void
  remove(key: string): void
}

export class OffsetStore {
  private readonly offsets: Database<CommittedOffset, OffsetKey>
  private readonly groups: Database<GroupRecord, string>
  private readonly state: Database<unknown, StateKey>

  constructor(
    private readonly store: MetadataStore,
    private readonly now: () => number = Date.now,
  ) {
    this.offsets = store.openDB<CommittedOffset, OffsetKey>('offsets')
    this.groups = store.openDB<GroupRecord, string>('groups')
    this.state = store.openDB<unknown, StateKey>('state')
  }

  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get([groupId, topic, partition])
  }

  /** Every committed offset of a group, by topic and partition. */
  list(groupId: string): (CommittedOffset & { topic: string; partition: number })[] {
    const out: (CommittedOffset & { topic: string; partition: number })[] = []
    for (const { key, value } of this.offsets.getRange({ start: [groupId], end: [groupId, '\uffff'] })) {
      const [g, topic, partition] = key as OffsetKey
      if (g !== groupId) continue
      out.push({ topic, partition, ...value })
    }
    return out
  }

  group(groupId: string): GroupRecord | undefined {
    return this.groups.get(groupId)
  }

  listGroups(): GroupRecord[] {
    const out: GroupRecord[] = []
    for (const { value } of this.groups.getRange({})) out.push(value)
    return out
  }

  /** Record that a group exists (on its first join), without touching its offsets. */
  async touchGroup(groupId: string, protocolType: GroupRecord['protocolType']): Promise<void> {
    if (this.store.readOnly) return
    const existing = this.groups.get(groupId)
    if (existing !== undefined && existing.protocolType === protocolType) return
    const now = this.now()
    await this.store.transaction(() => {
      void this.groups.put(groupId, { groupId, protocolType, createdAt: existing?.createdAt ?? now, updatedAt: now })
    })
  }

  /**
   * Commit offsets (and the application's state) atomically and durably. `check` runs first,
   * inside the transaction: if it throws, nothing is written and the commit rejects with it.
   */
  async commit(
    groupId: string,
    entries: readonly PartitionOffset[],
    options: {
      check?: () => void
      state?: (tx: StateTransaction) => void
      protocolType?: GroupRecord['protocolType']
    } = {},
  ): Promise<void> {
    const timestamp = this.now()
    const tx: StateTransaction = {
      get: (key) => this.state.get([groupId, key]),
      put: (key, value) => void this.state.put([groupId, key], value),
      remove: (key) => void this.state.remove([groupId, key]),
    }
    await this.store.transaction(() => {
      options.check?.()
      for (const e of entries) {
        void this.offsets.put([groupId, e.topic, e.partition], { offset: e.offset, metadata: e.metadata ?? null, timestamp })
      }
      const existing = this.groups.get(groupId)
      void this.groups.put(groupId, {
        groupId,
        protocolType: existing?.protocolType ?? options.protocolType ?? 'embedded',
        createdAt: existing?.createdAt ?? timestamp,
        updatedAt: timestamp,
      })
      options.state?.(tx)
    })
  }

  /** Publish (or, with null, clear) the live members of a group for other processes to see. */
  async setLive(groupId: string, live: LiveMembership | null, protocolType: GroupRecord['protocolType']): Promise<void> {
    if (this.store.readOnly) return
    await this.store.transaction(() => {
      const existing = this.groups.get(groupId)
      if (existing === undefined && live === null) return
      const now = this.now()
      const record: GroupRecord = existing ?? { groupId, protocolType, createdAt: now, updatedAt: now }
      const next: GroupRecord = { ...record }
      if (live === null) delete next.live
      else next.live = live
      void this.groups.put(groupId, next)
    })
  }

  /** The application state a group committed under `key`. */
  getState(groupId: string, key: string): unknown {
    return this.state.get([groupId, key])
  }

  /** Remove a group's offsets, state and record, in one transaction. */
  async deleteGroup(groupId: string): Promise<boolean> {
    let found = false
    await this.store.transaction(() => {
      for (const key of this.offsets.getKeys({ start: [groupId], end: [groupId, '\uffff'] })) {
        if ((key as OffsetKey)[0] !== groupId) continue
        found = true
        void this.offsets.remove(key as OffsetKey)
      }
      for (const key of this.state.getKeys({ start: [groupId], end: [groupId, '\uffff'] })) {
        if ((key as StateKey)[0] !== groupId) continue
        void this.state.remove(key as StateKey)
      }
      if (this.groups.get(groupId) !== undefined) found = true
      void this.groups.remove(groupId)
    })
    return found
  }

  /** Remove every group's offsets for a deleted topic. */
  async forgetTopic(topic: string): Promise<void> {
    const doomed: OffsetKey[] = []
    for (const key of this.offsets.getKeys({})) if ((key as OffsetKey)[1] === topic) doomed.push(key as OffsetKey)
    if (doomed.length === 0) return
    await this.store.transaction(() => {
      for (const key of doomed) void this.offsets.remove(key)
    })
  }
}
