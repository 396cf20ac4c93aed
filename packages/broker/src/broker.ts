/**
 * The Broker: a data directory of topics, each of N partitions, each partition a Log in
 * `<dataDir>/<topic>-<partition>`, with the registry and configs in LMDB (`<dataDir>/meta`).
 *
 * Opening: the data directory is locked for one writer; interrupted topic deletions are finished;
 * partition directories with no registry entry (the metadata was lost) are adopted as topics with
 * the default config; then every partition is opened, and recovered if it was not closed cleanly,
 * several at a time, before `Broker.open` resolves. Nothing is served from a half-recovered state.
 *
 * Admin operations (create, delete, alter, createPartitions) run one at a time. Producers and the
 * code of later modules (consumer groups, the Kafka wire server) reach partitions through
 * `getTopic`, `getPartition` and `ensureTopic`, keep their own state in `metadata` (the same LMDB
 * environment), read the clock from `now`, and follow topic changes through the events
 * 'topicCreated' (name), 'topicDeleted' (name), 'partitionsCreated' (name, count) and
 * 'configChanged' (name); failures of background tasks are emitted as 'backgroundError' (err).
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import * as path from 'node:path'
import { acquireLock, defaultIO, SamsaError, type FileIO, type Log, type RecoveryReport } from '@samsa/log'
import { mapLimit, Mutex } from './concurrency.js'
import { ConsumerGroups, type GroupDescription, type GroupListing, type OffsetResetPlan, type ResetTarget } from './consumer-groups.js'
import type { Consumer, ConsumerOptions } from './consumer.js'
import { scanDataDir } from './data-dir.js'
import { KafkaServer, type KafkaServerOptions } from './kafka/server.js'
import { BrokerClosedError, BrokerReadOnlyError, InvalidConfigError, InvalidPartitionsError, TopicExistsError, UnknownTopicOrPartitionError } from './errors.js'
import { META_DIR, MetadataStore, type TopicRecord } from './metadata-store.js'
import { Partition, type PartitionContext } from './partition.js'
import { Producer, type ProducerOptions } from './producer.js'
import { ProducerIdAllocator } from './producer-ids.js'
import { PeriodicTask, enforceRetention, DEFAULT_RETENTION_CHECK_INTERVAL_MS, type RetentionRunOptions } from './retention.js'
import {
  DEFAULT_MAX_PARTITIONS,
  DEFAULT_PARTITIONS,
  checkPartitionCount,
  effectiveConfig,
  logOptionsFor,
  needsLogReopen,
  parseTopicConfig,
  type TopicConfig,
  type TopicConfigInput,
} from './topic-config.js'
import { finishDeletion, markDeleting, removeDeletingDirs } from './topic-deletion.js'
import { collisionKey, partitionDirName, validateTopicName } from './topic-name.js'
import { Topic, type RetentionDeletion, type TopicDescription } from './topic.js'

export interface BrokerOptions extends Partial<TopicConfig> {
  /** Partitions of a topic created without a count (and of auto-created topics). Default 1. */
  partitions?: number
  /** A producer sending to an unknown topic creates it with the defaults. Default false. */
  autoCreateTopics?: boolean
  /** Period of the retention task. Default 5 minutes; 0 turns the task off. */
  retentionCheckIntervalMs?: number
  /** Period of producer-state snapshots. Default 1 minute; 0 turns them off (they are still written on close). */
  producerStateSnapshotIntervalMs?: number
  /** Forget idempotent producers silent for this long. Default 1 day (Kafka's producer.id.expiration.ms). */
  producerIdExpirationMs?: number
  /** Most partitions one topic may have. Default 10,000. */
  maxPartitions?: number
  /** Partitions opened (and recovered) at once. Default 16. */
  openConcurrency?: number
  /** Open for inspection beside a live writer: no lock, no writes, no background tasks. */
  readOnly?: boolean
  /** The clock, for record timestamps, segment rolling and retention; tests inject one. */
  now?: () => number
  /** The file layer, passed to every partition's log; tests inject faults or count syncs here. */
  io?: FileIO
  /**
   * Logs with flush 'always' sync each small group on the event loop rather than libuv's thread
   * pool (the Log option of that name): faster acks 'all' on a quick disk, at the price of an event
   * loop that stands still for each sync. Default false.
   */
  blockingSync?: boolean
}

const BROKER_OPTION_KEYS = [
  'autoCreateTopics',
  'retentionCheckIntervalMs',
  'producerStateSnapshotIntervalMs',
  'producerIdExpirationMs',
  'maxPartitions',
  'openConcurrency',
  'readOnly',
  'now',
  'io',
  'blockingSync',
] as const

export interface PartitionRecovery {
  topic: string
  partition: number
  report: RecoveryReport
}

/** What Broker.open found and did. */
export interface BrokerRecovery {
  /** Topics whose interrupted deleteTopic was finished. */
  finishedDeletions: string[]
  /** Leftover `-delete` directories removed. */
  removedDeleteDirs: number
  /** Topics registered from partition directories that had no registry entry. */
  adoptedTopics: string[]
  /** Partition directories beyond their topic's partition count: left untouched (createPartitions replaces them with empty partitions). */
  strayPartitionDirs: string[]
  /** Partitions that were not closed cleanly, with what their recovery did. */
  recoveredPartitions: PartitionRecovery[]
}

export interface DeleteRecordsResult {
  topic: string
  partition: number
  logStartOffset: number
  deletedSegments: number
}

const brokerLocks = new Set<string>()

export class Broker extends EventEmitter {
  readonly dataDir: string
  readonly readOnly: boolean
  /** The LMDB store: topic registry, producer ids, and named DBs for other modules. */
  readonly metadata: MetadataStore
  readonly now: () => number
  readonly io: FileIO
  readonly recovery: BrokerRecovery = {
    finishedDeletions: [],
    removedDeleteDirs: 0,
    adoptedTopics: [],
    strayPartitionDirs: [],
    recoveredPartitions: [],
  }

  private readonly defaults: Partial<TopicConfig>
  private readonly defaultPartitions: number
  private readonly maxPartitions: number
  private readonly autoCreate: boolean
  private readonly openConcurrency: number
  private readonly partitionContext: PartitionContext
  private readonly topics = new Map<string, Topic>()
  private readonly admin = new Mutex()
  private readonly creating = new Map<string, Promise<Topic>>()
  private readonly producers = new Set<Producer>()
  private readonly servers = new Set<KafkaServer>()
  private readonly producerIds: ProducerIdAllocator
  private readonly retentionTask: PeriodicTask
  private readonly snapshotTask: PeriodicTask
  /** Consumer groups: the embedded coordinator, committed offsets in LMDB, and their admin. */
  readonly groups: ConsumerGroups
  private deadLetterProducer: Producer | null = null
  private releaseLock: (() => void) | null
  private closed = false
  private closing: Promise<void> | null = null

  private constructor(
    dataDir: string,
    store: MetadataStore,
    options: BrokerOptions,
    parsedDefaults: { partitions: number | undefined; set: Partial<TopicConfig> },
    releaseLock: (() => void) | null,
  ) {
    super()
    this.dataDir = dataDir
    this.metadata = store
    this.readOnly = options.readOnly === true
    this.now = options.now ?? Date.now
    this.io = options.io ?? defaultIO
    this.releaseLock = releaseLock
    this.defaults = parsedDefaults.set
    this.maxPartitions = options.maxPartitions ?? DEFAULT_MAX_PARTITIONS
    this.defaultPartitions = parsedDefaults.partitions ?? DEFAULT_PARTITIONS
    this.autoCreate = options.autoCreateTopics === true
    this.openConcurrency = options.openConcurrency ?? 16
    this.partitionContext = {
      io: this.io,
      now: this.now,
      producerIdExpirationMs: options.producerIdExpirationMs ?? 24 * 60 * 60 * 1000,
      readOnly: this.readOnly,
      blockingSync: options.blockingSync === true,
    }
    this.producerIds = new ProducerIdAllocator(store)
    this.retentionTask = new PeriodicTask(
      options.retentionCheckIntervalMs ?? DEFAULT_RETENTION_CHECK_INTERVAL_MS,
      () => this.enforceRetention(),
      (err) => this.emit('backgroundError', err),
    )
    this.snapshotTask = new PeriodicTask(
      options.producerStateSnapshotIntervalMs ?? 60_000,
      async () => this.snapshotProducerState(),
      (err) => this.emit('backgroundError', err),
    )
    const broker = this
    this.groups = new ConsumerGroups(store, {
      get closed() {
        return broker.closed || broker.closing !== null
      },
      readOnly: this.readOnly,
      log: (topic, partition) => this.partitionLog(topic, partition),
      partitionCount: (topic) => this.topics.get(topic)?.partitionCount ?? 0,
      topicNames: () => [...this.topics.keys()],
      requireTopic: async (topic) => void (await this.ensureTopic(topic)),
      send: async (topic, message) => {
        this.deadLetterProducer ??= this.producer({ acks: 'all' })
        await this.deadLetterProducer.send(topic, [message])
      },
      now: () => this.now(),
    })
    const changed = () => this.groups.topicsChanged()
    this.on('topicCreated', changed)
    this.on('partitionsCreated', changed)
    this.on('topicDeleted', (name: string) => {
      changed()
      if (!this.readOnly) this.groups.offsets.forgetTopic(name).catch((err) => this.emit('backgroundError', err))
    })
  }

  /**
   * Open (creating if needed) the broker in `dataDir`. Options other than the broker's own are the
   * defaults of every topic's config (see TopicConfig), checked like a topic's.
   */
  static async open(dataDir: string, options: BrokerOptions = {}): Promise<Broker> {
    if (typeof dataDir !== 'string' || dataDir.length === 0) throw new InvalidConfigError('Broker.open needs a data directory path')
    if (options === null || typeof options !== 'object') throw new InvalidConfigError('Broker.open options must be an object')
    checkBrokerOptions(options)
    const maxPartitions = options.maxPartitions ?? DEFAULT_MAX_PARTITIONS
    const parsed = parseTopicConfig(options, { allowPartitions: true, maxPartitions, extraKeys: BROKER_OPTION_KEYS })
    const io = options.io ?? defaultIO
    const readOnly = options.readOnly === true
    let release: (() => void) | null = null
    if (readOnly) {
      if (!io.existsSync(path.join(dataDir, META_DIR))) {
        throw new SamsaError('SAMSA_BROKER_NOT_FOUND', `no Samsa data in ${dataDir}; check the path, or open it for writing to create it`)
      }
    } else {
      io.mkdirSync(dataDir)
      release = acquireLock(io, dataDir, brokerLocks)
    }
    let store: MetadataStore | null = null
    let broker: Broker | null = null
    try {
      store = MetadataStore.open(dataDir, { readOnly })
      broker = new Broker(dataDir, store, options, parsed, release)
      await broker.load()
    } catch (err) {
      if (broker !== null) await broker.closePartitions().catch(() => undefined)
      await store?.close().catch(() => undefined)
      release?.()
      throw err
    }
    if (!readOnly) {
      broker.retentionTask.start()
      broker.snapshotTask.start()
    }
    return broker
  }

  private async load(): Promise<void> {
    const io = this.io
    const records = new Map<string, TopicRecord>()
    for (const r of this.metadata.listTopicRecords()) {
      if (r.state === 'deleting') {
        if (this.readOnly) continue
        await finishDeletion(this.metadata, io, this.dataDir, r)
        this.recovery.finishedDeletions.push(r.name)
      } else {
        records.set(r.name, r)
      }
    }
    if (!this.readOnly) this.recovery.removedDeleteDirs = removeDeletingDirs(io, this.dataDir)

    for (const [name, found] of scanDataDir(io, this.dataDir).partitions) {
      const record = records.get(name)
      if (record !== undefined) {
        for (const p of found) if (p >= record.partitions) this.recovery.strayPartitionDirs.push(partitionDirName(name, p))
        continue
      }
      if (this.readOnly) continue
      // The registry does not know this topic (its metadata was lost): keep the data, as a topic
      // with the default config, rather than let a later createTopic of the name find it.
      const adopted = this.newRecord(name, found[found.length - 1] + 1, {})
      await this.metadata.putTopic(adopted)
      records.set(name, adopted)
      this.recovery.adoptedTopics.push(name)
    }

    const jobs: { topic: Topic; partition: number }[] = []
    for (const record of records.values()) {
      const topic = new Topic(record, effectiveConfig(this.defaults, record.config), [])
      this.topics.set(record.name, topic)
      for (let p = 0; p < record.partitions; p++) jobs.push({ topic, partition: p })
    }
    await mapLimit(jobs, this.openConcurrency, async ({ topic, partition }) => {
      const opened = await this.openPartition(topic, partition)
      const report = opened.log.recovery
      if (report !== null && !report.clean) this.recovery.recoveredPartitions.push({ topic: topic.name, partition, report })
    })
    if (!this.readOnly) {
      // Ids this broker hands out are small; a Kafka client that invented a huge one must not
      // push the counter out of the safe integer range.
      let maxProducerId = -1
      for (const topic of this.topics.values()) {
        for (const p of topic.partitions) {
          const id = p.producers.maxProducerId()
          if (id < 2 ** 40) maxProducerId = Math.max(maxProducerId, id)
        }
      }
      if (maxProducerId >= 0) this.metadata.reserveProducerIdsThrough(maxProducerId)
    }
  }

  private newRecord(name: string, partitions: number, config: Partial<TopicConfig>): TopicRecord {
    return { name, id: randomBytes(16).toString('hex'), partitions, config, createdAt: this.now(), state: 'active' }
  }

  private async openPartition(topic: Topic, partition: number): Promise<Partition> {
    const dir = path.join(this.dataDir, partitionDirName(topic.name, partition))
    const opened = await Partition.open(dir, topic.name, partition, logOptionsFor(topic.config), this.partitionContext)
    topic.partitions[partition] = opened
    return opened
  }

  // -------------------------------------------------------------------------------------------
  // State checks and lookups (also for the modules built on the broker)

  get isClosed(): boolean {
    return this.closed
  }

  checkOpen(): void {
    if (this.closed || this.closing !== null) throw new BrokerClosedError(this.dataDir)
  }

  checkWritable(): void {
    this.checkOpen()
    if (this.readOnly) throw new BrokerReadOnlyError(this.dataDir)
  }

  /** The topic, or undefined if there is none of that name. */
  getTopic(name: string): Topic | undefined {
    return this.topics.get(name)
  }

  /** The topic; throws SAMSA_UNKNOWN_TOPIC (or SAMSA_INVALID_TOPIC_NAME) if there is none. */
  topic(name: string): Topic {
    this.checkOpen()
    const topic = this.topics.get(name)
    if (topic === undefined) {
      validateTopicName(name)
      throw new UnknownTopicOrPartitionError(name)
    }
    return topic
  }

  getPartition(topic: string, partition: number): Partition {
    return this.topic(topic).partition(partition)
  }

  /** The log of a partition, for reading (a read-only broker's logs follow their writer). */
  partitionLog(topic: string, partition: number): Log {
    return this.getPartition(topic, partition).log
  }

  /** The topic, creating it with the defaults if it is missing and autoCreateTopics is on. */
  async ensureTopic(name: string): Promise<Topic> {
    this.checkOpen()
    const existing = this.topics.get(name)
    if (existing !== undefined) return existing
    validateTopicName(name)
    if (!this.autoCreate) throw new UnknownTopicOrPartitionError(name)
    let pending = this.creating.get(name)
    if (pending === undefined) {
      pending = this.createTopic(name)
        .catch((err) => {
          if (err instanceof TopicExistsError && this.topics.has(name)) return undefined
          throw err
        })
        .then(() => this.topic(name))
        .finally(() => this.creating.delete(name))
      this.creating.set(name, pending)
    }
    return pending
  }

  /** A fresh producer id for an idempotent producer (embedded, or a Kafka client's InitProducerId). */
  allocateProducerId(): number {
    this.checkWritable()
    return this.producerIds.allocate()
  }

  // -------------------------------------------------------------------------------------------
  // Topics

  async listTopics(): Promise<string[]> {
    this.checkOpen()
    return [...this.topics.keys()].sort()
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    return this.topic(name).describe()
  }

  /**
   * Create a topic of `partitions` partitions (default: the broker's), with config overrides.
   * The registry entry is durable before any partition exists, so a crash part-way leaves a
   * topic whose partitions the next open creates.
   */
  async createTopic(name: string, config: TopicConfigInput = {}): Promise<TopicDescription> {
    this.checkWritable()
    validateTopicName(name)
    const parsed = parseTopicConfig(config, { allowPartitions: true, maxPartitions: this.maxPartitions })
    if (parsed.reset.length > 0) throw new InvalidConfigError(`createTopic got null for ${parsed.reset.join(', ')}; leave a key out to use the broker's default`)
    return this.admin.run(async () => {
      this.checkWritable()
      if (this.topics.has(name)) throw new TopicExistsError(name)
      const stored = this.metadata.getTopic(name)
      if (stored !== undefined && stored.state === 'deleting') {
        throw new TopicExistsError(name, `topic ${JSON.stringify(name)} is still being deleted; retry in a moment`)
      }
      const key = collisionKey(name)
      for (const other of this.topics.keys()) {
        if (collisionKey(other) === key) {
          throw new TopicExistsError(
            name,
            `topic ${JSON.stringify(name)} collides with existing topic ${JSON.stringify(other)}: names that differ only in '.' and '_' are refused, as Kafka refuses them`,
          )
        }
      }
      const partitions = parsed.partitions ?? this.defaultPartitions
      const record = this.newRecord(name, partitions, parsed.set)
      this.removeForeignDirs(name, 0, partitions)
      await this.metadata.putTopic(record)
      const topic = new Topic(record, effectiveConfig(this.defaults, record.config), [])
      try {
        await mapLimit(
          Array.from({ length: partitions }, (_, p) => p),
          this.openConcurrency,
          (p) => this.openPartition(topic, p),
        )
      } catch (err) {
        // Leave nothing half made: take the topic down again.
        await mapLimit(topic.partitions.filter(Boolean), this.openConcurrency, (p) => p.close({ snapshot: false })).catch(() => undefined)
        await finishDeletion(this.metadata, this.io, this.dataDir, await markDeleting(this.metadata, record)).catch(() => undefined)
        throw err
      }
      this.topics.set(name, topic)
      this.emit('topicCreated', name)
      return topic.describe()
    })
  }

  /**
   * Directories `<name>-<p>` for p in [from, to) that no registered partition owns (left from
   * outside, or strays found at open): a new partition must start empty, so they are removed.
   */
  private removeForeignDirs(name: string, from: number, to: number): void {
    for (let p = from; p < to; p++) {
      const dir = path.join(this.dataDir, partitionDirName(name, p))
      if (this.io.existsSync(dir)) this.io.rmSync(dir)
    }
  }

  /** Delete a topic and its data; crash-safe (see topic-deletion.ts). */
  async deleteTopic(name: string): Promise<void> {
    this.checkWritable()
    return this.admin.run(async () => {
      const topic = this.topic(name)
      if (this.readOnly) throw new BrokerReadOnlyError(this.dataDir)
      const marked = await markDeleting(this.metadata, topic.record)
      this.topics.delete(name)
      await mapLimit(topic.partitions, this.openConcurrency, (p) => p.close({ snapshot: false }))
      await finishDeletion(this.metadata, this.io, this.dataDir, marked)
      this.emit('topicDeleted', name)
    })
  }

  /**
   * Change config values of a topic; a key given as null goes back to the broker's default.
   * Changes to how logs are written (segmentBytes, segmentMs, flush, flushIntervalMs,
   * maxMessageBytes) reopen the topic's partitions. Returns the new effective config.
   */
  async alterTopicConfig(name: string, changes: TopicConfigInput): Promise<TopicConfig> {
    this.checkWritable()
    const parsed = parseTopicConfig(changes, { allowPartitions: false })
    return this.admin.run(async () => {
      const topic = this.topic(name)
      const overrides: Partial<TopicConfig> = { ...topic.record.config, ...parsed.set }
      for (const key of parsed.reset) delete overrides[key]
      const record: TopicRecord = { ...topic.record, config: overrides }
      const config = effectiveConfig(this.defaults, overrides)
      await this.metadata.putTopic(record)
      const reopen = needsLogReopen(topic.config, config)
      topic.record = record
      topic.config = config
      if (reopen) {
        const options = logOptionsFor(config)
        await mapLimit(topic.partitions, this.openConcurrency, (p) => p.reopen(options))
      }
      this.emit('configChanged', name)
      return { ...config }
    })
  }

  /** Grow a topic to `count` partitions. Partitions can only be added, as in Kafka. */
  async createPartitions(name: string, count: number): Promise<TopicDescription> {
    this.checkWritable()
    return this.admin.run(async () => {
      const topic = this.topic(name)
      const current = topic.partitionCount
      checkPartitionCount(count, this.maxPartitions)
      if (count <= current) {
        throw new InvalidPartitionsError(
          `topic ${JSON.stringify(name)} has ${current} partitions; createPartitions can only increase the count, so give more than ${current}`,
        )
      }
      this.removeForeignDirs(name, current, count)
      const record: TopicRecord = { ...topic.record, partitions: count }
      await this.metadata.putTopic(record)
      topic.record = record
      const grown = new Topic(record, topic.config, topic.partitions.slice())
      try {
        await mapLimit(
          Array.from({ length: count - current }, (_, i) => current + i),
          this.openConcurrency,
          (p) => this.openPartition(grown, p),
        )
      } catch (err) {
        await mapLimit(grown.partitions.slice(current).filter(Boolean), this.openConcurrency, (p) => p.close()).catch(() => undefined)
        const previous: TopicRecord = { ...record, partitions: current }
        await this.metadata.putTopic(previous)
        topic.record = previous
        throw err
      }
      // Swap the array in whole, so senders never see a count with a partition missing.
      topic.partitions = grown.partitions
      this.emit('partitionsCreated', name, count)
      return topic.describe()
    })
  }

  // -------------------------------------------------------------------------------------------
  // Retention

  /**
   * Delete the records of a partition below `beforeOffset` (-1: the high watermark). Whole
   * segments below it are removed; records below it in a remaining segment are never returned.
   */
  async deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<DeleteRecordsResult> {
    this.checkWritable()
    const p = this.getPartition(topic, partition)
    const offset = beforeOffset === -1 ? p.log.highWatermark : beforeOffset
    const result = await p.deleteRecordsBefore(offset)
    return { topic, partition, ...result }
  }

  /** Run retention on every partition now; returns what was deleted (or would be, with dryRun). */
  async enforceRetention(options: RetentionRunOptions = {}): Promise<RetentionDeletion[]> {
    if (options.dryRun === true) this.checkOpen()
    else this.checkWritable()
    return enforceRetention(this.topics.values(), this.now(), options)
  }

  /** Write every partition's changed producer state (also done periodically and on close). */
  snapshotProducerState(): void {
    if (this.readOnly || this.closed) return
    for (const topic of this.topics.values()) {
      for (const p of topic.partitions) if (!p.isClosed) p.writeSnapshot()
    }
  }

  // -------------------------------------------------------------------------------------------
  // Producers

  producer(options: ProducerOptions = {}): Producer {
    this.checkWritable()
    const producer = new Producer(this, options)
    this.producers.add(producer)
    return producer
  }

  /** @internal Called by Producer.close. */
  producerClosed(producer: Producer): void {
    this.producers.delete(producer)
  }

  // -------------------------------------------------------------------------------------------
  // The Kafka protocol (kafka/server.ts)

  /**
   * Serve the Kafka wire protocol on this broker, so kcat, KafkaJS and other Kafka clients use its
   * topics and groups: `{ host (default 127.0.0.1), port (default 9092), advertisedHost,
   * advertisedPort, ... }`. Resolves once listening; `close()` of the result, or of the broker,
   * stops it after the requests in flight.
   */
  async listen(options: KafkaServerOptions = {}): Promise<KafkaServer> {
    this.checkWritable()
    const server = await KafkaServer.start(this, this.groups, options)
    this.servers.add(server)
    return server
  }

  // -------------------------------------------------------------------------------------------
  // Consumers and groups (consumer-groups.ts)

  /** A consumer: in a group with `groupId` and subscribe(), or on its own with assign(). */
  consumer(options: ConsumerOptions = {}): Consumer {
    this.checkWritable()
    return this.groups.consumer(options)
  }

  /** Members, assignment and, per partition, committed offset, log end offset and lag. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    this.checkOpen()
    return this.groups.describeGroup(groupId)
  }

  async listGroups(): Promise<GroupListing[]> {
    this.checkOpen()
    return this.groups.listGroups()
  }

  /** Move a group's committed offsets for a topic (refused while it has members). */
  async resetOffsets(
    groupId: string,
    topic: string,
    to: ResetTarget,
    options: { partitions?: number[]; dryRun?: boolean } = {},
  ): Promise<OffsetResetPlan[]> {
    if (options.dryRun === true) this.checkOpen()
    else this.checkWritable()
    return this.groups.resetOffsets(groupId, topic, to, options)
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.checkWritable()
    return this.groups.deleteGroup(groupId)
  }

  /** Application state a group committed together with its offsets. */
  groupState(groupId: string, key: string): unknown {
    this.checkOpen()
    return this.groups.groupState(groupId, key)
  }

  // -------------------------------------------------------------------------------------------
  // Closing

  /** Flush producers and every partition, write producer state, and release the directory. */
  async close(): Promise<void> {
    if (this.closed) return
    if (this.closing !== null) return this.closing
    this.closing = (async () => {
      // Kafka clients first: their requests in flight finish while everything is still open.
      await Promise.allSettled([...this.servers].map((s) => s.close()))
      await this.retentionTask.stop()
      await this.snapshotTask.stop()
      // Consumers first: each commits what it processed and may still dead-letter on the way out.
      await this.groups.close()
      const producerResults = await Promise.allSettled([...this.producers].map((p) => p.close()))
      // Wait for admin operations in flight, then close everything.
      await this.admin.run(async () => undefined)
      await this.closePartitions()
      await this.metadata.close()
      this.releaseLock?.()
      this.releaseLock = null
      this.closed = true
      const failed = producerResults.find((r) => r.status === 'rejected')
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
    })()
    return this.closing
  }

  private async closePartitions(): Promise<void> {
    const all: Partition[] = []
    for (const topic of this.topics.values()) for (const p of topic.partitions) if (p !== undefined) all.push(p)
    const results = await Promise.allSettled(all.map((p) => p.close()))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
  }
}

function checkBrokerOptions(options: BrokerOptions): void {
  const positive = (key: keyof BrokerOptions, allowZero: boolean): void => {
    const v = options[key]
    if (v === undefined) return
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || (!allowZero && v === 0)) {
      throw new InvalidConfigError(`broker option ${key} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(v)}`)
    }
  }
  positive('retentionCheckIntervalMs', true)
  positive('producerStateSnapshotIntervalMs', true)
  positive('producerIdExpirationMs', false)
  positive('maxPartitions', false)
  positive('openConcurrency', false)
  for (const key of ['autoCreateTopics', 'readOnly', 'blockingSync'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      throw new InvalidConfigError(`broker option ${key} must be a boolean, got ${JSON.stringify(options[key])}`)
    }
  }
  if (options.now !== undefined && typeof options.now !== 'function') throw new InvalidConfigError('broker option now must be a function returning milliseconds')
}
