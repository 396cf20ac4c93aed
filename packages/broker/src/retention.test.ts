import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Broker, type BrokerOptions } from './broker.js'
import { tempDirs } from './test-support/helpers.js'

const dirs = tempDirs('retention')
const opened: Broker[] = []
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close().catch(() => undefined)
  dirs.cleanup()
})

const T0 = 1_700_000_000_000
/** With 100-byte values, two single-record batches fill a segment of this size. */
const SEGMENT_BYTES = 500

async function setup(options: BrokerOptions = {}, topicConfig: Record<string, unknown> = {}) {
  const clock = { now: T0 }
  const dir = dirs.make()
  const broker = await Broker.open(dir, { retentionCheckIntervalMs: 0, now: () => clock.now, ...options })
  opened.push(broker)
  await broker.createTopic('t', { segmentBytes: SEGMENT_BYTES, ...topicConfig })
  const producer = broker.producer({ acks: 1 })
  /** One single-record batch per call, stamped with the clock. */
  const sendAt = async (ms: number, n = 1) => {
    const offsets: number[] = []
    for (let i = 0; i < n; i++) {
      clock.now = ms
      offsets.push((await producer.send('t', [{ value: 'x'.repeat(100) }]))[0].offset)
    }
    return offsets
  }
  const log = () => broker.getPartition('t', 0).log
  return { dir, clock, broker, producer, sendAt, log }
}

describe('retention by time', () => {
  it("deletes whole segments whose largest timestamp is past retentionMs, oldest first", async () => {
    const { broker, clock, sendAt, log } = await setup({}, { retentionMs: 1000 })
    for (let i = 0; i < 6; i++) await sendAt(T0 + 1000 * i)
    expect(log().listSegments().map((s) => [s.baseOffset, s.largestTimestamp])).toEqual([
      [0, T0 + 1000],
      [2, T0 + 3000],
      [4, T0 + 5000],
    ])
    clock.now = T0 + 4500
    const deleted = await broker.enforceRetention()
    expect(deleted).toHaveLength(1)
    expect(deleted[0]).toMatchObject({ topic: 't', partition: 0, logStartOffset: 4 })
    expect(deleted[0].segments.map((s) => s.baseOffset)).toEqual([0, 2])
    expect(deleted[0].bytes).toBe(deleted[0].segments[0].size * 2)
    for (const s of deleted[0].segments) expect(fs.existsSync(s.file)).toBe(false)
    expect((await broker.describeTopic('t')).partitions[0]).toMatchObject({ logStartOffset: 4, logEndOffset: 6, segments: 1 })
    await expect(log().read(3)).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
    expect((await log().read(4)).map((r) => r.offset)).toEqual([4, 5])
    expect(await broker.enforceRetention()).toEqual([])
  })

  it('rolls and deletes the active segment when it alone is past retention; offsets go on', async () => {
    const { broker, clock, sendAt, log } = await setup({}, { retentionMs: 1000, segmentBytes: 1024 * 1024 })
    await sendAt(T0, 3)
    expect(log().segmentCount).toBe(1)
    clock.now = T0 + 1001
    const [deleted] = await broker.enforceRetention()
    expect(deleted.segments.map((s) => s.baseOffset)).toEqual([0])
    expect(log().listSegments().map((s) => [s.baseOffset, s.size])).toEqual([[3, 0]])
    expect([log().logStartOffset, log().logEndOffset]).toEqual([3, 3])
    expect(await sendAt(T0 + 2000)).toEqual([3])
    expect((await log().read(3)).map((r) => r.offset)).toEqual([3])
  })

  it('leaves topics with retentionMs -1 and no size limit alone', async () => {
    const { broker, clock, sendAt } = await setup({}, { retentionMs: -1 })
    await sendAt(T0, 6)
    clock.now = T0 + 365 * 24 * 3600 * 1000
    expect(await broker.enforceRetention()).toEqual([])
  })

  it('follows the broker default unless the topic overrides it', async () => {
    const { broker, clock, sendAt, log } = await setup({ retentionMs: 1000 })
    await sendAt(T0, 4)
    clock.now = T0 + 5000
    expect(await broker.enforceRetention()).toHaveLength(1)
    expect(log().logStartOffset).toBe(4)
  })
})

describe('retention by size', () => {
  it('deletes the oldest segments while the partition stays above retentionBytes without them', async () => {
    const { broker, sendAt, log } = await setup()
    await sendAt(T0, 10)
    const sizes = log().listSegments().map((s) => s.size)
    expect(sizes).toHaveLength(5)
    expect(new Set(sizes).size).toBe(1)
    const S = sizes[0]
    await broker.alterTopicConfig('t', { retentionBytes: 2 * S + 1 })
    const [deleted] = await broker.enforceRetention()
    // 5S - S - S >= 2S + 1 does not hold for a third: two go, and 3S stay (at least retentionBytes).
    expect(deleted.segments.map((s) => s.baseOffset)).toEqual([0, 2])
    expect(log().size).toBe(3 * S)
    expect(log().logStartOffset).toBe(4)
  })

  it('with retentionBytes 0, everything goes, the active segment included', async () => {
    const { broker, sendAt, log } = await setup({}, { retentionBytes: 0 })
    await sendAt(T0, 5)
    const [deleted] = await broker.enforceRetention()
    expect(deleted.segments.map((s) => s.baseOffset)).toEqual([0, 2, 4])
    expect([log().logStartOffset, log().logEndOffset, log().size]).toEqual([5, 5, 0])
  })

  it('a dry run reports what would go and deletes nothing', async () => {
    const { broker, sendAt, log } = await setup({}, { retentionBytes: 0 })
    await sendAt(T0, 5)
    const [planned] = await broker.enforceRetention({ dryRun: true })
    expect(planned.segments.map((s) => s.baseOffset)).toEqual([0, 2, 4])
    expect(planned.logStartOffset).toBe(5)
    expect(log().segmentCount).toBe(3)
    expect(log().logStartOffset).toBe(0)
  })
})

describe('deleteRecords', () => {
  it('moves the log start into a segment and deletes the whole segments below it', async () => {
    const { broker, sendAt, log } = await setup()
    await sendAt(T0, 7)
    expect(await broker.deleteRecords('t', 0, 5)).toEqual({ topic: 't', partition: 0, logStartOffset: 5, deletedSegments: 2 })
    expect(log().listSegments().map((s) => s.baseOffset)).toEqual([4, 6])
    await expect(log().read(4)).rejects.toMatchObject({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' })
    expect((await log().read(5)).map((r) => r.offset)).toEqual([5, 6])
    // -1 is the high watermark, as in Kafka.
    expect(await broker.deleteRecords('t', 0, -1)).toMatchObject({ logStartOffset: 7 })
    expect(await log().read(7)).toEqual([])
  })

  it('survives a restart', async () => {
    const { dir, broker, sendAt } = await setup()
    await sendAt(T0, 7)
    await broker.deleteRecords('t', 0, 5)
    await broker.close()
    const reopened = await Broker.open(dir, { retentionCheckIntervalMs: 0 })
    opened.push(reopened)
    expect((await reopened.describeTopic('t')).partitions[0]).toMatchObject({ logStartOffset: 5, logEndOffset: 7 })
  })
})

describe('the periodic task and what retention leaves behind', () => {
  it('runs every retentionCheckIntervalMs on its own', async () => {
    const clock = { now: T0 }
    const dir = dirs.make()
    const broker = await Broker.open(dir, { retentionCheckIntervalMs: 20, now: () => clock.now, retentionMs: 1000 })
    opened.push(broker)
    await broker.createTopic('t', { segmentBytes: SEGMENT_BYTES })
    const producer = broker.producer({ acks: 1 })
    for (let i = 0; i < 4; i++) await producer.send('t', [{ value: 'x'.repeat(100) }])
    clock.now = T0 + 60_000
    const deadline = Date.now() + 10_000
    while (broker.getPartition('t', 0).log.logStartOffset < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(broker.getPartition('t', 0).log.logStartOffset).toBe(4)
  })

  it('forgets idempotent producers whose batches retention removed', async () => {
    const { broker, clock, log } = await setup({}, { retentionMs: 1000, segmentBytes: 1024 * 1024 })
    const p = broker.getPartition('t', 0)
    await p.append([{ value: 'a' }], { producerId: 5, producerEpoch: 0, baseSequence: 0 })
    clock.now = T0 + 10_000
    await broker.enforceRetention()
    expect(log().logStartOffset).toBe(1)
    expect(p.producers.entry(5)).toBeUndefined()
    // As in Kafka, a producer the partition no longer knows may go on at any sequence.
    expect(await p.append([{ value: 'b' }], { producerId: 5, producerEpoch: 0, baseSequence: 9 })).toMatchObject({ baseOffset: 1, duplicate: false })
  })

  it('removes stray .deleted files when the broker opens', async () => {
    const { dir, broker, sendAt } = await setup()
    await sendAt(T0, 3)
    await broker.close()
    const stray = path.join(dir, 't-0', '00000000000000000002.log.deleted')
    fs.writeFileSync(stray, 'half-deleted segment')
    const reopened = await Broker.open(dir, { retentionCheckIntervalMs: 0 })
    opened.push(reopened)
    expect(fs.existsSync(stray)).toBe(false)
    expect(reopened.getPartition('t', 0).log.logEndOffset).toBe(3)
  })
})
