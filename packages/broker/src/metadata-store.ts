/**
 * The broker's metadata in LMDB, in `<dataDir>/meta`: the topic registry (named DB `topics`) and
 * broker-wide values (named DB `broker`: the next producer id). LMDB gives atomic, durable
 * transactions over several named DBs in one environment, so other state of the broker (consumer
 * groups' committed offsets, an application's own state committed with them) lives in the same
 * environment through `openDB(name)` and changes together with it in `transaction()`.
 *
 * Durability: `transaction()` resolves only once LMDB has flushed the commit to disk (lmdb-js
 * commits with overlapping sync: visible first, durable a moment later, and `flushed` says when).
 * `transactionSync()` commits and syncs before it returns, blocking; it is for rare, small writes
 * that must be synchronous (reserving producer ids inside broker.producer()).
 */
import * as path from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import type { TopicConfig } from './topic-config.js'

export const META_DIR = 'meta'

export interface TopicRecord {
  name: string
  /** Random id of this incarnation of the topic (a topic deleted and created again gets a new one). */
  id: string
  partitions: number
  /** The topic's own config values; the rest follow the broker's defaults. */
  config: Partial<TopicConfig>
  createdAt: number
  /** 'deleting' from the first step of deleteTopic until its last; such a topic is invisible. */
  state: 'active' | 'deleting'
  /** Suffix of the renamed partition directories while deleting. */
  deletionId?: string
}

export interface MetadataStoreOptions {
  readOnly?: boolean
  /** Named DBs the environment can hold. Default 64. */
  maxDbs?: number
}

const NEXT_PRODUCER_ID = 'nextProducerId'

export class MetadataStore {
  /** The LMDB environment (its root DB). Other modules open their named DBs on it with openDB. */
  readonly root: RootDatabase
  readonly topics: Database<TopicRecord, string>
  /** Broker-wide single values. */
  readonly broker: Database<unknown, string>
  readonly readOnly: boolean
  private closed = false

  private constructor(root: RootDatabase, readOnly: boolean) {
    this.root = root
    this.readOnly = readOnly
    this.topics = root.openDB<TopicRecord, string>('topics', {})
    this.broker = root.openDB<unknown, string>('broker', {})
  }

  static open(dataDir: string, options: MetadataStoreOptions = {}): MetadataStore {
    const root = open({
      path: path.join(dataDir, META_DIR),
      maxDbs: options.maxDbs ?? 64,
      readOnly: options.readOnly === true,
    })
    return new MetadataStore(root, options.readOnly === true)
  }

  /** A named DB in the same environment, for state that must commit atomically with the rest. */
  openDB<V = unknown, K extends string | number | (string | number)[] = string>(
    name: string,
    options: { encoding?: 'msgpack' | 'json' | 'string' | 'binary' } = {},
  ): Database<V, K> {
    return this.root.openDB<V, K>(name, options)
  }

  /**
   * Run `fn` in one write transaction (reads inside see its own writes) and resolve with its
   * result once the commit is on disk. Everything `fn` writes, in any DB of this environment,
   * commits together or not at all; if `fn` throws, nothing is written.
   */
  async transaction<T>(fn: () => T): Promise<T> {
    const result = await this.root.transaction(fn)
    await this.root.flushed
    return result
  }

  /** `transaction`, synchronously: committed and synced when it returns. */
  transactionSync<T>(fn: () => T): T {
    return this.root.transactionSync(fn)
  }

  getTopic(name: string): TopicRecord | undefined {
    return this.topics.get(name)
  }

  /** Every topic record, active and deleting, by name. */
  listTopicRecords(): TopicRecord[] {
    const out: TopicRecord[] = []
    for (const { value } of this.topics.getRange({})) out.push(value)
    return out
  }

  async putTopic(record: TopicRecord): Promise<void> {
    await this.transaction(() => {
      void this.topics.put(record.name, record)
    })
  }

  async removeTopic(name: string): Promise<void> {
    await this.transaction(() => {
      void this.topics.remove(name)
    })
  }

  /**
   * Reserve `count` producer ids, durably, before any is used: a crash can waste some, never hand
   * one out twice. Returns the first of them.
   */
  reserveProducerIds(count: number): number {
    return this.transactionSync(() => {
      const stored = this.broker.get(NEXT_PRODUCER_ID)
      const next = typeof stored === 'number' && Number.isSafeInteger(stored) && stored >= 0 ? stored : 0
      this.broker.putSync(NEXT_PRODUCER_ID, next + count)
      return next
    })
  }

  /**
   * Make sure no id up to `id` is reserved again: after the metadata was lost, partitions may
   * still remember producers whose ids a new counter would hand out anew.
   */
  reserveProducerIdsThrough(id: number): void {
    const stored = this.broker.get(NEXT_PRODUCER_ID)
    if (typeof stored === 'number' && stored > id) return
    this.transactionSync(() => {
      const next = this.broker.get(NEXT_PRODUCER_ID)
      if (typeof next !== 'number' || next <= id) this.broker.putSync(NEXT_PRODUCER_ID, id + 1)
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.root.close()
  }
}
