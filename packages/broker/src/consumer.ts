/**
 * The consumer: pull (`poll`), push (`run`, with retries and a dead-letter topic) and async
 * iteration, in a group (subscribe) or on its own (assign).
 *
 * Invariants (what is committed when):
 * - Per partition, `position` is the next offset to hand to the application and `processed` the
 *   next offset after what the application has finished with. Only `processed` is ever committed,
 *   so a commit never passes a record that was not processed.
 *   - poll(): a batch counts as processed when the application calls poll() again, commit() or
 *     close() (Kafka's model: the previous poll's records were handled).
 *   - run(): a record is processed when its eachMessage resolves (or it was dead-lettered); with
 *     eachBatch, at resolveOffset() or when the handler resolves.
 *   - for await: a record is processed when the loop asks for the next one.
 * - A rebalance takes partitions away only between batches: the revocation waits for the
 *   in-flight handler (run) or for the next poll() (pull), then runs onPartitionsRevoked (where
 *   the application may commit), then auto-commits, so the next owner starts exactly after the
 *   last processed record.
 * - Commits carry the generation they were made in; the coordinator refuses stale ones.
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { InvalidArgumentError, type Log, OffsetOutOfRangeError, type SamsaError } from '@samsa/log'
import type { AssignorName, TopicPartition } from './assignors.js'
import { ConsumerClosedError, NoOffsetError, PartitionNotAssignedError } from './errors.js'
import type { GroupCoordinator, GroupMember } from './group-coordinator.js'
import type { OffsetStore, PartitionOffset, StateTransaction } from './offset-store.js'

export type AutoOffsetReset = 'earliest' | 'latest' | 'none'

export interface ConsumerOptions {
  /** The group to join (subscribe) or to commit for (assign). Without it, commit() is refused. */
  groupId?: string
  clientId?: string
  /** Where to start without a usable committed offset. Default 'latest', as in Kafka. */
  autoOffsetReset?: AutoOffsetReset
  /** Commit processed offsets every autoCommitIntervalMs, on revocation and on close. Default true. */
  autoCommit?: boolean
  autoCommitIntervalMs?: number
  /** A member that does not poll for this long is removed from the group. Default 30 s. */
  sessionTimeoutMs?: number
  /** Assignors in order of preference. Default ['cooperative-sticky', 'range']. */
  assignors?: AssignorName[]
  /** Records poll() returns at most. Default 500. */
  maxPollRecords?: number
  /** Bytes read per partition per fetch. Default 1 MiB. */
  maxBytesPerPartition?: number
  onPartitionsAssigned?: (partitions: TopicPartition[]) => void | Promise<void>
  onPartitionsRevoked?: (partitions: TopicPartition[]) => void | Promise<void>
}

export interface ConsumedMessage {
  topic: string
  partition: number
  offset: number
  key: Buffer | null
  value: Buffer | null
  headers: { key: string; value: Buffer | null }[]
  timestamp: number
}

export interface EachMessagePayload {
  topic: string
  partition: number
  message: { offset: number; key: Buffer | null; value: Buffer | null; headers: { key: string; value: Buffer | null }[]; timestamp: number }
  /** Zero-based attempt number of this delivery. */
  attempt: number
}

export interface EachBatchPayload {
  batch: { topic: string; partition: number; messages: EachMessagePayload['message'][]; highWatermark: number }
  /** Mark everything up to and including `offset` as processed. */
  resolveOffset(offset: number): void
  commitOffsetsIfNecessary(): Promise<void>
  heartbeat(): void
  isRunning(): boolean
  attempt: number
}

export interface RunOptions {
  eachMessage?: (payload: EachMessagePayload) => void | Promise<void>
  eachBatch?: (payload: EachBatchPayload) => void | Promise<void>
  /** Partitions handled at once (records of one partition are always handled in order). Default 1. */
  partitionsConsumedConcurrently?: number
  /** Deliveries of a failing record before giving up on it. Default 3. */
  maxAttempts?: number
  /** Wait before the first retry; doubles each time, up to 30 s. Default 100 ms. */
  retryBackoffMs?: number
  /** Where records go after maxAttempts failures; without it the consumer stops with the error. */
  deadLetterTopic?: string
  /** Records fetched ahead of the handler at most. Default 500. */
  maxBufferedRecords?: number
}

export interface CommitOptions {
  /** Offsets to commit (the next offset to read); default: everything processed. */
  offsets?: PartitionOffset[]
  metadata?: string
  /** Writes the application's state in the same transaction as the offsets. */
  state?: (tx: StateTransaction) => void
}

/** What a consumer needs of the broker it belongs to. */
export interface ConsumerHost {
  readonly coordinator: GroupCoordinator
  readonly offsets: OffsetStore
  log(topic: string, partition: number): Log
  partitionCount(topic: string): number
  topicNames(): string[]
  /** Resolve once `topic` exists (created now if auto-creation is on), or throw SAMSA_UNKNOWN_TOPIC. */
  requireTopic(topic: string): Promise<void>
  deadLetter(topic: string, message: ConsumedMessage, headers: { key: string; value: string }[]): Promise<void>
  consumerClosed(consumer: Consumer): void
  readonly closed: boolean
}

interface PartitionState {
  topic: string
  partition: number
  log: Log
  position: number
  processed: number
  /** processed as last committed, to skip commits that change nothing. */
  committed: number
  paused: boolean
  /** Being taken away: no more fetches or handler calls, so `processed` is final. */
  revoking: boolean
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

export class Consumer extends EventEmitter implements GroupMember {
  readonly memberId: string
  readonly clientId: string
  readonly assignors: readonly AssignorName[]
  readonly sessionTimeoutMs: number
  readonly groupId: string | undefined
  private readonly autoOffsetReset: AutoOffsetReset
  private readonly autoCommit: boolean
  private readonly autoCommitIntervalMs: number
  private readonly maxPollRecords: number
  private readonly maxBytesPerPartition: number

  private subscription: string[] | RegExp | null = null
  private manual = false
  private joined: Promise<void> | null = null
  private generation = -1
  private readonly parts = new Map<string, PartitionState>()
  private rotate = 0
  private closed = false
  private closing: Promise<void> | null = null
  private autoCommitTimer: NodeJS.Timeout | null = null
  /** Aborts waits for data when the assignment changes or the consumer closes. */
  private wake = new AbortController()
  /** Pull mode: the last poll's records are with the application until it polls again. */
  private batchOutstanding = false
  private pollReturned: { promise: Promise<void>; resolve: () => void } | null = null
  /** Push mode: the partitions whose records are being handled right now. */
  private inFlight: Promise<void> | null = null
  private running = false
  /** How records count as processed: 'pull' (at the next poll), or per record ('push', 'iterate'). */
  private mode: 'pull' | 'push' | 'iterate' = 'pull'
  private runLoop: Promise<void> | null = null
  private stopError: unknown = null

  constructor(
    private readonly host: ConsumerHost,
    private readonly options: ConsumerOptions = {},
  ) {
    super()
    this.groupId = options.groupId
    this.memberId = `${options.clientId ?? 'samsa'}-${randomUUID()}`
    this.clientId = options.clientId ?? 'samsa'
    this.assignors = options.assignors ?? ['cooperative-sticky', 'range']
    this.sessionTimeoutMs = positive('sessionTimeoutMs', options.sessionTimeoutMs, 30_000)
    this.autoOffsetReset = options.autoOffsetReset ?? 'latest'
    if (!['earliest', 'latest', 'none'].includes(this.autoOffsetReset)) {
      throw new InvalidArgumentError(`autoOffsetReset must be 'earliest', 'latest' or 'none', got ${String(this.autoOffsetReset)}`)
    }
    this.autoCommit = options.autoCommit ?? true
    this.autoCommitIntervalMs = positive('autoCommitIntervalMs', options.autoCommitIntervalMs, 5_000)
    this.maxPollRecords = positive('maxPollRecords', options.maxPollRecords, 500)
    this.maxBytesPerPartition = positive('maxBytesPerPartition', options.maxBytesPerPartition, 1024 * 1024)
  }

  private checkOpen(): void {
    if (this.closed || this.host.closed) throw new ConsumerClosedError()
  }

  // -------------------------------------------------------------------------------------------
  // Subscription and assignment

  /** Join the group for these topics (or every topic matching a RegExp). */
  async subscribe(topics: string | string[] | RegExp): Promise<void> {
    this.checkOpen()
    if (this.groupId === undefined) throw new InvalidArgumentError('subscribe() needs a groupId; use assign() to read partitions without a group')
    if (this.manual) throw new InvalidArgumentError('this consumer uses assign(); a consumer either subscribes or assigns')
    if (topics instanceof RegExp) {
      this.subscription = topics
    } else {
      const list = Array.isArray(topics) ? topics : [topics]
      if (list.length === 0 || list.some((t) => typeof t !== 'string')) throw new InvalidArgumentError('subscribe() takes topic names or a RegExp')
      for (const t of list) await this.host.requireTopic(t)
      this.subscription = [...new Set(list)]
    }
    if (this.joined !== null) await this.host.coordinator.subscriptionChanged(this.groupId)
  }

  /** Read these partitions without group membership. */
  async assign(partitions: TopicPartition[]): Promise<void> {
    this.checkOpen()
    if (this.subscription !== null) throw new InvalidArgumentError('this consumer subscribes; a consumer either subscribes or assigns')
    this.manual = true
    for (const tp of partitions) await this.host.requireTopic(tp.topic)
    const keep = new Set(partitions.map((tp) => tpKey(tp.topic, tp.partition)))
    for (const [k] of this.parts) if (!keep.has(k)) this.parts.delete(k)
    for (const tp of partitions) if (!this.parts.has(tpKey(tp.topic, tp.partition))) this.addPartition(tp)
    this.startAutoCommit()
    this.interrupt()
  }

  subscribedTopics(): string[] {
    const sub = this.subscription
    if (sub === null) return []
    if (sub instanceof RegExp) return this.host.topicNames().filter((t) => sub.test(t))
    return sub.filter((t) => this.host.partitionCount(t) > 0)
  }

  assignment(): TopicPartition[] {
    return [...this.parts.values()].map((p) => ({ topic: p.topic, partition: p.partition }))
  }

  private ensureJoined(): Promise<void> {
    if (this.manual || this.groupId === undefined) return Promise.resolve()
    if (this.subscription === null) throw new InvalidArgumentError('call subscribe() or assign() before consuming')
    if (this.joined === null) {
      const groupId = this.groupId
      this.joined = this.host.offsets
        .touchGroup(groupId, 'embedded')
        .then(() => this.host.coordinator.join(groupId, this))
        .then(() => this.startAutoCommit())
      this.joined.catch(() => {
        this.joined = null
      })
    }
    return this.joined
  }

  private addPartition(tp: TopicPartition): PartitionState {
    const log = this.host.log(tp.topic, tp.partition)
    const position = this.startingOffset(tp.topic, tp.partition, log)
    const state: PartitionState = { ...tp, log, position, processed: position, committed: -1, paused: false, revoking: false }
    const committed = this.groupId === undefined ? undefined : this.host.offsets.get(this.groupId, tp.topic, tp.partition)
    if (committed !== undefined && committed.offset === position) state.committed = position
    this.parts.set(tpKey(tp.topic, tp.partition), state)
    return state
  }

  /** The committed offset if it is usable, else autoOffsetReset. */
  private startingOffset(topic: string, partition: number, log: Log): number {
    const committed = this.groupId === undefined ? undefined : this.host.offsets.get(this.groupId, topic, partition)
    if (committed !== undefined && committed.offset >= log.logStartOffset && committed.offset <= log.logEndOffset) {
      return committed.offset
    }
    const why = committed === undefined ? 'no committed offset' : `committed offset ${committed.offset} outside [${log.logStartOffset}, ${log.logEndOffset}]`
    return this.reset(topic, partition, log, why)
  }

  private reset(topic: string, partition: number, log: Log, why: string): number {
    if (this.autoOffsetReset === 'none') throw new NoOffsetError(this.groupId ?? '(no group)', topic, partition, why)
    return this.autoOffsetReset === 'earliest' ? log.logStartOffset : log.highWatermark
  }

  // GroupMember: called by the coordinator.

  async onRevoke(partitions: TopicPartition[]): Promise<void> {
    const states = partitions.map((tp) => this.parts.get(tpKey(tp.topic, tp.partition))).filter((s): s is PartitionState => s !== undefined)
    // From now on nothing new is fetched or handled for these, so what is processed stays put.
    for (const s of states) s.revoking = true
    // Between records only: wait for the handler (push) or for the application's next poll (pull).
    if (this.inFlight !== null) await this.inFlight.catch(() => undefined)
    if (this.batchOutstanding && !this.closed) {
      this.pollReturned ??= deferred()
      await this.pollReturned.promise
    }
    try {
      if (this.options.onPartitionsRevoked) await this.options.onPartitionsRevoked(partitions)
      if (this.autoCommit) await this.commitStates(states, undefined)
    } catch (err) {
      this.emit('rebalance.error', err)
    } finally {
      for (const s of states) this.parts.delete(tpKey(s.topic, s.partition))
      this.interrupt()
    }
  }

  async onAssign(generation: number, assignment: TopicPartition[], added: TopicPartition[]): Promise<void> {
    this.generation = generation
    for (const tp of added) {
      if (!this.parts.has(tpKey(tp.topic, tp.partition))) this.addPartition(tp)
    }
    // Partitions this member keeps across a cooperative rebalance stay as they are.
    const keep = new Set(assignment.map((tp) => tpKey(tp.topic, tp.partition)))
    for (const k of [...this.parts.keys()]) if (!keep.has(k)) this.parts.delete(k)
    this.interrupt()
    if (added.length > 0 && this.options.onPartitionsAssigned) {
      try {
        await this.options.onPartitionsAssigned(added)
      } catch (err) {
        this.emit('rebalance.error', err)
      }
    }
  }

  onFenced(reason: string): void {
    this.parts.clear()
    this.joined = null
    this.generation = -1
    this.emit('fenced', reason)
    this.interrupt()
  }

  private interrupt(): void {
    this.wake.abort()
    this.wake = new AbortController()
  }

  // -------------------------------------------------------------------------------------------
  // Pull

  /**
   * Up to maxRecords records from the assigned partitions, waiting up to timeoutMs (default 1 s)
   * for some to arrive. Calling poll() again marks the previous batch as processed.
   */
  async poll(options: { maxRecords?: number; timeoutMs?: number } = {}): Promise<ConsumedMessage[]> {
    this.checkOpen()
    if (this.running) throw new InvalidArgumentError('this consumer is running a run() loop; poll() is for pull consumers')
    this.markDelivered()
    await this.ensureJoined()
    const records = await this.fetch(options.maxRecords ?? this.maxPollRecords, options.timeoutMs ?? 1000)
    this.batchOutstanding = records.length > 0
    return records
  }

  /** Everything handed out so far is processed (the application came back for more). */
  private markDelivered(): void {
    for (const p of this.parts.values()) p.processed = p.position
    this.batchOutstanding = false
    if (this.pollReturned !== null) {
      this.pollReturned.resolve()
      this.pollReturned = null
    }
  }

  private heartbeat(): boolean {
    if (this.manual || this.groupId === undefined || this.joined === null) return true
    const alive = this.host.coordinator.heartbeat(this.groupId, this.memberId)
    if (!alive) {
      // Expired: rejoin. Records fetched meanwhile belong to whoever owns the partitions now.
      this.onFenced('session expired')
    }
    return alive
  }

  /** Read up to `max` records, waiting up to `timeoutMs` for the first. */
  private async fetch(max: number, timeoutMs: number): Promise<ConsumedMessage[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      this.checkOpen()
      if (!this.heartbeat()) await this.ensureJoined()
      const out = this.readAvailable(max)
      if (out.length > 0) return out
      const left = deadline - Date.now()
      if (left <= 0) return out
      await this.waitForAny(Math.min(left, Math.max(100, this.sessionTimeoutMs / 3)))
    }
  }

  /** Whatever is there now, across partitions, starting from a rotating one for fairness. */
  private readAvailable(max: number): ConsumedMessage[] {
    const out: ConsumedMessage[] = []
    const states = [...this.parts.values()]
    if (states.length === 0) return out
    this.rotate = (this.rotate + 1) % states.length
    for (let i = 0; i < states.length && out.length < max; i++) {
      const p = states[(this.rotate + i) % states.length]
      if (p.paused || p.revoking || p.position >= p.log.highWatermark) continue
      const before = out.length
      try {
        // Decoded straight into `out` as ConsumedMessages: one object per record, not two.
        p.log.readSync(p.position, { maxRecords: max - before, maxBytes: this.maxBytesPerPartition, into: out, source: p })
      } catch (err) {
        if (err instanceof OffsetOutOfRangeError) {
          // Retention moved the log start past us (or the log was truncated): Kafka's reset.
          p.position = this.reset(p.topic, p.partition, p.log, `position ${p.position} outside [${err.logStartOffset}, ${err.logEndOffset}]`)
          p.processed = p.position
          i--
          continue
        }
        throw err
      }
      if (out.length > before) p.position = out[out.length - 1].offset + 1
    }
    return out
  }

  private async waitForAny(timeoutMs: number): Promise<void> {
    const ac = new AbortController()
    const wake = this.wake.signal
    const onWake = () => ac.abort()
    wake.addEventListener('abort', onWake, { once: true })
    try {
      const waits = [...this.parts.values()].filter((p) => !p.paused && !p.revoking).map((p) => p.log.waitForData(p.position, timeoutMs, ac.signal))
      if (waits.length === 0) waits.push(new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref()))
      await Promise.race(waits)
    } finally {
      ac.abort()
      wake.removeEventListener('abort', onWake)
    }
  }

  // -------------------------------------------------------------------------------------------
  // Push

  /**
   * Hand records to eachMessage (or eachBatch) as they arrive, never more than maxBufferedRecords
   * ahead of the handler. Resolves once the consumer has joined its group and started; the loop
   * runs until close(). If it stops on an error, `stopped()` rejects with it and 'crash' is emitted.
   */
  async run(options: RunOptions): Promise<void> {
    this.checkOpen()
    if (this.running) throw new InvalidArgumentError('run() is already running')
    if (!options || (typeof options.eachMessage !== 'function' && typeof options.eachBatch !== 'function')) {
      throw new InvalidArgumentError('run() needs an eachMessage or eachBatch handler')
    }
    const config = {
      concurrency: positive('partitionsConsumedConcurrently', options.partitionsConsumedConcurrently, 1),
      maxAttempts: positive('maxAttempts', options.maxAttempts, 3),
      backoff: options.retryBackoffMs ?? 100,
      buffer: positive('maxBufferedRecords', options.maxBufferedRecords, 500),
    }
    if (options.deadLetterTopic !== undefined) await this.host.requireTopic(options.deadLetterTopic)
    this.running = true
    this.mode = 'push'
    await this.ensureJoined()
    this.runLoop = this.loop(options, config)
    this.runLoop.catch(() => undefined)
  }

  /** Settles when a run() loop ends: resolves on close(), rejects with the error that stopped it. */
  async stopped(): Promise<void> {
    if (this.runLoop !== null) await this.runLoop
    if (this.stopError !== null) throw this.stopError
  }

  private async loop(
    options: RunOptions,
    config: { concurrency: number; maxAttempts: number; backoff: number; buffer: number },
  ): Promise<void> {
    try {
      while (!this.closed && !this.host.closed) {
        const records = await this.fetch(config.buffer, 1000)
        if (records.length === 0) continue
        const byPartition = new Map<string, ConsumedMessage[]>()
        for (const r of records) {
          const k = tpKey(r.topic, r.partition)
          let list = byPartition.get(k)
          if (list === undefined) byPartition.set(k, (list = []))
          list.push(r)
        }
        const work = this.handleAll([...byPartition.values()], options, config)
        this.inFlight = work
        try {
          await work
        } finally {
          this.inFlight = null
        }
      }
    } catch (err) {
      if (!this.closed) {
        this.stopError = err
        this.running = false
        this.emit('crash', err)
        // Hand the partitions to the rest of the group; what was processed is committed on the way.
        await this.close().catch(() => undefined)
        throw err
      }
    } finally {
      this.running = false
    }
  }

  private async handleAll(
    lists: ConsumedMessage[][],
    options: RunOptions,
    config: { concurrency: number; maxAttempts: number; backoff: number },
  ): Promise<void> {
    let next = 0
    let failure: unknown = null
    const worker = async () => {
      while (next < lists.length && failure === null) {
        const list = lists[next++]
        try {
          if (options.eachBatch) await this.handleBatch(list, options, config)
          else await this.handleMessages(list, options, config)
        } catch (err) {
          failure ??= err
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(config.concurrency, lists.length) }, worker))
    if (failure !== null) throw failure
  }

  private stateOf(m: ConsumedMessage): PartitionState | undefined {
    return this.parts.get(tpKey(m.topic, m.partition))
  }

  private async handleMessages(list: ConsumedMessage[], options: RunOptions, config: { maxAttempts: number; backoff: number }): Promise<void> {
    for (const m of list) {
      const state = this.stateOf(m)
      if (state === undefined || state.revoking || this.closed) return // revoked or closing: the next owner starts here
      const message = { offset: m.offset, key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp }
      await this.withRetries(
        (attempt) => (options.eachMessage as NonNullable<RunOptions['eachMessage']>)({ topic: m.topic, partition: m.partition, message, attempt }),
        [m],
        options,
        config,
      )
      state.processed = m.offset + 1
      this.heartbeat()
    }
  }

  private async handleBatch(list: ConsumedMessage[], options: RunOptions, config: { maxAttempts: number; backoff: number }): Promise<void> {
    const state = this.stateOf(list[0])
    if (state === undefined || state.revoking) return
    const first = list[0]
    await this.withRetries(
      async (attempt) => {
        const pending = list.filter((m) => m.offset >= state.processed)
        if (pending.length === 0) return
        await (options.eachBatch as NonNullable<RunOptions['eachBatch']>)({
          batch: {
            topic: first.topic,
            partition: first.partition,
            messages: pending.map((m) => ({ offset: m.offset, key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp })),
            highWatermark: state.log.highWatermark,
          },
          resolveOffset: (offset) => {
            if (offset + 1 > state.processed && offset <= pending[pending.length - 1].offset) state.processed = offset + 1
          },
          commitOffsetsIfNecessary: () => this.commitStates([state], undefined),
          heartbeat: () => void this.heartbeat(),
          isRunning: () => this.running && !this.closed,
          attempt,
        })
        state.processed = Math.max(state.processed, pending[pending.length - 1].offset + 1)
      },
      () => list.filter((m) => m.offset >= state.processed),
      options,
      config,
    )
    state.processed = Math.max(state.processed, list[list.length - 1].offset + 1)
  }

  /** Run `attempt` up to maxAttempts times with backoff; then dead-letter `failed()` or throw. */
  private async withRetries(
    attempt: (n: number) => void | Promise<void>,
    failed: ConsumedMessage[] | (() => ConsumedMessage[]),
    options: RunOptions,
    config: { maxAttempts: number; backoff: number },
  ): Promise<void> {
    let lastError: unknown = null
    for (let n = 0; n < config.maxAttempts; n++) {
      if (n > 0) await sleep(Math.min(config.backoff * 2 ** (n - 1), 30_000))
      if (this.closed) throw new ConsumerClosedError()
      try {
        await attempt(n)
        return
      } catch (err) {
        lastError = err
        this.emit('handler.error', err)
      }
    }
    if (options.deadLetterTopic === undefined) throw lastError
    const messages = typeof failed === 'function' ? failed() : failed
    const error = lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError)
    for (const m of messages) {
      await this.host.deadLetter(options.deadLetterTopic, m, [
        { key: 'samsa.dlt.topic', value: m.topic },
        { key: 'samsa.dlt.partition', value: String(m.partition) },
        { key: 'samsa.dlt.offset', value: String(m.offset) },
        { key: 'samsa.dlt.error', value: error.slice(0, 4096) },
        { key: 'samsa.dlt.attempts', value: String(config.maxAttempts) },
        { key: 'samsa.dlt.group', value: this.groupId ?? '' },
      ])
    }
  }

  /** Records one at a time; a record counts as processed when the loop asks for the next. */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumedMessage, void, undefined> {
    this.checkOpen()
    this.mode = 'iterate'
    await this.ensureJoined()
    let last: ConsumedMessage | null = null
    while (!this.closed) {
      const records = await this.fetch(this.maxPollRecords, 1000)
      for (const r of records) {
        if (last !== null) {
          const s = this.stateOf(last)
          if (s !== undefined) s.processed = last.offset + 1
        }
        if (this.stateOf(r) === undefined) continue
        last = r
        yield r
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Control

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.requireAssigned(tp).paused = true
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.requireAssigned(tp).paused = false
    this.interrupt()
  }

  paused(): TopicPartition[] {
    return [...this.parts.values()].filter((p) => p.paused).map((p) => ({ topic: p.topic, partition: p.partition }))
  }

  /** Read `topic`-`partition` from `offset` next. */
  seek(topic: string, partition: number, offset: number): void {
    this.checkOpen()
    const p = this.requireAssigned({ topic, partition })
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidArgumentError(`seek offset must be a non-negative integer, got ${String(offset)}`, 'SAMSA_INVALID_OFFSET')
    }
    if (offset < p.log.logStartOffset || offset > p.log.logEndOffset) {
      throw new OffsetOutOfRangeError(offset, p.log.logStartOffset, p.log.logEndOffset)
    }
    p.position = offset
    p.processed = offset
    this.interrupt()
  }

  position(topic: string, partition: number): number {
    return this.requireAssigned({ topic, partition }).position
  }

  /** The group's committed offset for a partition, or null. */
  committed(topic: string, partition: number): number | null {
    if (this.groupId === undefined) return null
    return this.host.offsets.get(this.groupId, topic, partition)?.offset ?? null
  }

  private requireAssigned(tp: TopicPartition): PartitionState {
    const p = this.parts.get(tpKey(tp.topic, tp.partition))
    if (p === undefined) throw new PartitionNotAssignedError(tp.topic, tp.partition)
    return p
  }

  /**
   * Commit durably: by default every processed offset (in pull mode, everything poll() returned);
   * or `offsets`; with `state`, the application's state in the same transaction.
   */
  async commit(options: CommitOptions | PartitionOffset[] | ((tx: StateTransaction) => void) = {}): Promise<void> {
    this.checkOpen()
    const opts: CommitOptions = Array.isArray(options) ? { offsets: options } : typeof options === 'function' ? { state: options } : options
    if (this.groupId === undefined) throw new InvalidArgumentError('commit() needs a consumer with a groupId')
    if (opts.offsets !== undefined) {
      for (const o of opts.offsets) this.requireAssigned(o)
      await this.commitOffsets(opts.offsets.map((o) => ({ ...o, metadata: o.metadata ?? opts.metadata })), opts.state)
      for (const o of opts.offsets) {
        const s = this.parts.get(tpKey(o.topic, o.partition))
        if (s !== undefined) s.committed = o.offset
      }
      return
    }
    if (this.mode === 'pull') this.markDelivered()
    await this.commitStates([...this.parts.values()], opts.state, opts.metadata, true)
  }

  private async commitStates(states: PartitionState[], state: CommitOptions['state'], metadata?: string, always = false): Promise<void> {
    const changed = states.filter((s) => always || s.processed !== s.committed)
    if (changed.length === 0 && state === undefined) return
    const entries = changed.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.processed, metadata }))
    await this.commitOffsets(entries, state)
    for (let i = 0; i < changed.length; i++) changed[i].committed = entries[i].offset
  }

  private async commitOffsets(entries: PartitionOffset[], state: CommitOptions['state']): Promise<void> {
    const groupId = this.groupId as string
    const generation = this.generation
    const grouped = !this.manual
    await this.host.offsets.commit(groupId, entries, {
      check: grouped ? () => this.host.coordinator.checkCommit(groupId, this.memberId, generation, entries) : undefined,
      state,
    })
  }

  private startAutoCommit(): void {
    if (!this.autoCommit || this.groupId === undefined || this.autoCommitTimer !== null) return
    this.autoCommitTimer = setInterval(() => {
      this.commitStates([...this.parts.values()], undefined).catch((err: SamsaError) => this.emit('commit.error', err))
    }, this.autoCommitIntervalMs)
    this.autoCommitTimer.unref()
  }

  /** Leave the group (after committing what was processed, with autoCommit) and stop. */
  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    if (this.autoCommitTimer !== null) clearInterval(this.autoCommitTimer)
    this.autoCommitTimer = null
    const wasRunning = this.running
    this.running = false
    this.interrupt()
    if (wasRunning && this.inFlight !== null) await this.inFlight.catch(() => undefined)
    if (this.mode === 'pull') this.markDelivered()
    if (this.groupId !== undefined && this.joined !== null && !this.manual) {
      await this.joined.catch(() => undefined)
      // leave() revokes through onRevoke(), which commits with autoCommit.
      await this.host.coordinator.leave(this.groupId, this.memberId).catch(() => undefined)
    } else if (this.autoCommit && this.groupId !== undefined && !this.host.closed) {
      await this.commitStates([...this.parts.values()], undefined).catch(() => undefined)
    }
    this.closed = true
    this.parts.clear()
    this.interrupt()
    this.host.consumerClosed(this)
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive number, got ${String(value)}`)
  }
  return value
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
