import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeBatch } from '@samsa/log'
import { Broker, type BrokerOptions } from './broker.js'
import { PRODUCER_STATE_FILE } from './partition.js'
import { syncGateIO, tempDirs, tracked, turns } from './test-support/helpers.js'

const dirs = tempDirs('idempotence')
const opened: Broker[] = []
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close().catch(() => undefined)
  dirs.cleanup()
})

async function openBroker(dir: string, options: BrokerOptions = {}): Promise<Broker> {
  const b = await Broker.open(dir, { retentionCheckIntervalMs: 0, producerStateSnapshotIntervalMs: 0, ...options })
  opened.push(b)
  return b
}

const recs = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ value: `${tag}${i}` }))
const PID = 4242

describe('idempotent appends', () => {
  it('answers a retried batch with its original offsets and writes nothing', async () => {
    const broker = await openBroker(dirs.make())
    await broker.createTopic('t')
    const p = broker.getPartition('t', 0)
    const first = await p.append(recs(3, 'a'), { producerId: PID, producerEpoch: 0, baseSequence: 0 })
    const second = await p.append(recs(2, 'b'), { producerId: PID, producerEpoch: 0, baseSequence: 3 })
    expect(first).toEqual({ baseOffset: 0, lastOffset: 2, duplicate: false })
    expect(second).toEqual({ baseOffset: 3, lastOffset: 4, duplicate: false })
    expect(await p.append(recs(3, 'a'), { producerId: PID, producerEpoch: 0, baseSequence: 0 })).toEqual({ ...first, duplicate: true })
    expect(await p.append(recs(2, 'b'), { producerId: PID, producerEpoch: 0, baseSequence: 3 })).toEqual({ ...second, duplicate: true })
    expect(p.log.logEndOffset).toBe(5)
    // Another producer's sequences are its own.
    expect(await p.append(recs(1, 'c'), { producerId: PID + 1, producerEpoch: 0, baseSequence: 0 })).toMatchObject({ baseOffset: 5, duplicate: false })
  })

  it('answers a duplicate that arrives while the original is still being synced with the same offsets', async () => {
    const io = syncGateIO()
    const broker = await openBroker(dirs.make(), { io })
    await broker.createTopic('t', { flush: 'always' })
    const p = broker.getPartition('t', 0)
    io.hold = true
    const original = tracked(p.append(recs(2, 'a'), { producerId: PID, producerEpoch: 0, baseSequence: 0 }))
    await io.syncsStarted(1)
    const retry = tracked(p.append(recs(2, 'a'), { producerId: PID, producerEpoch: 0, baseSequence: 0 }))
    await turns(5)
    expect(original.settled() || retry.settled()).toBe(false)
    io.release()
    expect(await original.promise).toEqual({ baseOffset: 0, lastOffset: 1, duplicate: false })
    expect(await retry.promise).toEqual({ baseOffset: 0, lastOffset: 1, duplicate: true })
    expect(p.log.logEndOffset).toBe(2)
  })

  it('refuses an out-of-order sequence, writing nothing, and accepts the expected one after', async () => {
    const broker = await openBroker(dirs.make())
    await broker.createTopic('t')
    const p = broker.getPartition('t', 0)
    await p.append(recs(3, 'a'), { producerId: PID, producerEpoch: 0, baseSequence: 0 })
    await expect(p.append(recs(1, 'x'), { producerId: PID, producerEpoch: 0, baseSequence: 5 })).rejects.toMatchObject({
      code: 'SAMSA_OUT_OF_ORDER_SEQUENCE',
      expectedSequence: 3,
    })
    // Overlapping the last batch without equalling it is out of order too.
    await expect(p.append(recs(2, 'x'), { producerId: PID, producerEpoch: 0, baseSequence: 2 })).rejects.toMatchObject({
      code: 'SAMSA_DUPLICATE_SEQUENCE',
    })
    expect(p.log.logEndOffset).toBe(3)
    expect(await p.append(recs(1, 'b'), { producerId: PID, producerEpoch: 0, baseSequence: 3 })).toMatchObject({ baseOffset: 3 })
  })

  it('remembers the last 5 batches: an older resend is a typed duplicate, not a second copy', async () => {
    const broker = await openBroker(dirs.make())
    await broker.createTopic('t')
    const p = broker.getPartition('t', 0)
    for (let i = 0; i < 7; i++) await p.append(recs(1, `b${i}`), { producerId: PID, producerEpoch: 0, baseSequence: i })
    expect(await p.append(recs(1, 'b2'), { producerId: PID, producerEpoch: 0, baseSequence: 2 })).toEqual({ baseOffset: 2, lastOffset: 2, duplicate: true })
    await expect(p.append(recs(1, 'b1'), { producerId: PID, producerEpoch: 0, baseSequence: 1 })).rejects.toMatchObject({ code: 'SAMSA_DUPLICATE_SEQUENCE' })
    expect(p.log.logEndOffset).toBe(7)
  })

  it('fences a stale epoch and makes a new epoch start at sequence 0', async () => {
    const broker = await openBroker(dirs.make())
    await broker.createTopic('t')
    const p = broker.getPartition('t', 0)
    await p.append(recs(2, 'a'), { producerId: PID, producerEpoch: 0, baseSequence: 0 })
    await expect(p.append(recs(1, 'x'), { producerId: PID, producerEpoch: 1, baseSequence: 2 })).rejects.toMatchObject({
      code: 'SAMSA_OUT_OF_ORDER_SEQUENCE',
    })
    expect(await p.append(recs(1, 'b'), { producerId: PID, producerEpoch: 1, baseSequence: 0 })).toMatchObject({ baseOffset: 2 })
    await expect(p.append(recs(1, 'z'), { producerId: PID, producerEpoch: 0, baseSequence: 2 })).rejects.toMatchObject({
      code: 'SAMSA_PRODUCER_FENCED',
      currentEpoch: 1,
    })
    // The old epoch's duplicates are fenced too, not answered.
    await expect(p.append(recs(2, 'a'), { producerId: PID, producerEpoch: 0, baseSequence: 0 })).rejects.toMatchObject({ code: 'SAMSA_PRODUCER_FENCED' })
    expect(p.log.logEndOffset).toBe(3)
  })

  it('checks Kafka client batches (appendBatch) the same way', async () => {
    const broker = await openBroker(dirs.make())
    await broker.createTopic('t')
    const p = broker.getPartition('t', 0)
    const batch = () => encodeBatch(recs(4, 'k'), { producerId: 77, producerEpoch: 3, baseSequence: 10 })
    expect(await p.appendBatch(batch())).toEqual({ baseOffset: 0, lastOffset: 3, duplicate: false })
    expect(await p.appendBatch(batch())).toEqual({ baseOffset: 0, lastOffset: 3, duplicate: true })
    await expect(p.appendBatch(encodeBatch(recs(1, 'k'), { producerId: 77, producerEpoch: 3, baseSequence: 20 }))).rejects.toMatchObject({
      code: 'SAMSA_OUT_OF_ORDER_SEQUENCE',
    })
    await expect(p.appendBatch(encodeBatch(recs(1, 'k'), { producerId: 77, producerEpoch: 2, baseSequence: 14 }))).rejects.toMatchObject({
      code: 'SAMSA_PRODUCER_FENCED',
    })
    expect(p.log.logEndOffset).toBe(4)
  })

  it('wraps sequences past 2^31-1 to 0, as Kafka producers do', async () => {
    const broker = await openBroker(dirs.make())
    await broker.createTopic('t')
    const p = broker.getPartition('t', 0)
    const max = 2 ** 31 - 1
    await p.append(recs(2, 'a'), { producerId: PID, producerEpoch: 0, baseSequence: max - 1 })
    expect(await p.append(recs(1, 'b'), { producerId: PID, producerEpoch: 0, baseSequence: 0 })).toMatchObject({ baseOffset: 2, duplicate: false })
    expect(await p.append(recs(2, 'a'), { producerId: PID, producerEpoch: 0, baseSequence: max - 1 })).toMatchObject({ baseOffset: 0, duplicate: true })
  })
})

describe('producer state across restarts', () => {
  async function writeSome(dir: string): Promise<{ a: { baseOffset: number }; b: { baseOffset: number } }> {
    const broker = await openBroker(dir)
    await broker.createTopic('t', { segmentBytes: 300 })
    const p = broker.getPartition('t', 0)
    const a = await p.append(recs(2, 'a'), { producerId: PID, producerEpoch: 2, baseSequence: 0 })
    for (let i = 0; i < 5; i++) await p.append(recs(1, 'x'.repeat(80)), { producerId: PID + 1, producerEpoch: 0, baseSequence: i })
    const b = await p.append(recs(3, 'b'), { producerId: PID, producerEpoch: 2, baseSequence: 2 })
    await broker.close()
    opened.splice(opened.indexOf(broker), 1)
    return { a, b }
  }

  async function checkState(broker: Broker, a: { baseOffset: number }, b: { baseOffset: number }): Promise<void> {
    const p = broker.getPartition('t', 0)
    const end = p.log.logEndOffset
    expect(await p.append(recs(3, 'b'), { producerId: PID, producerEpoch: 2, baseSequence: 2 })).toMatchObject({ baseOffset: b.baseOffset, duplicate: true })
    expect(await p.append(recs(2, 'a'), { producerId: PID, producerEpoch: 2, baseSequence: 0 })).toMatchObject({ baseOffset: a.baseOffset, duplicate: true })
    await expect(p.append(recs(1, 'c'), { producerId: PID, producerEpoch: 2, baseSequence: 9 })).rejects.toMatchObject({ code: 'SAMSA_OUT_OF_ORDER_SEQUENCE' })
    await expect(p.append(recs(1, 'c'), { producerId: PID, producerEpoch: 1, baseSequence: 5 })).rejects.toMatchObject({ code: 'SAMSA_PRODUCER_FENCED' })
    expect(p.log.logEndOffset).toBe(end)
    expect(await p.append(recs(1, 'c'), { producerId: PID, producerEpoch: 2, baseSequence: 5 })).toMatchObject({ baseOffset: end, duplicate: false })
  }

  it('survives a clean restart through the snapshot', async () => {
    const dir = dirs.make()
    const { a, b } = await writeSome(dir)
    const snapshot = JSON.parse(fs.readFileSync(path.join(dir, 't-0', PRODUCER_STATE_FILE), 'utf8'))
    expect(snapshot.offset).toBe(10)
    expect(snapshot.producers.map((p: { producerId: number }) => p.producerId).sort()).toEqual([PID, PID + 1])
    await checkState(await openBroker(dir), a, b)
  })

  it('is rebuilt from the log when there is no snapshot (a crash before one was written)', async () => {
    const dir = dirs.make()
    const { a, b } = await writeSome(dir)
    fs.rmSync(path.join(dir, 't-0', PRODUCER_STATE_FILE))
    fs.rmSync(path.join(dir, 't-0', '.clean-shutdown'))
    await checkState(await openBroker(dir), a, b)
  })

  it('replays the log after an older snapshot, and ignores a torn one', async () => {
    const dir = dirs.make()
    const file = path.join(dir, 't-0', PRODUCER_STATE_FILE)
    const { a, b } = await writeSome(dir)
    // A snapshot from before the last batch: the batch after it comes from the log.
    const snap = JSON.parse(fs.readFileSync(file, 'utf8'))
    snap.offset = b.baseOffset
    snap.producers = snap.producers
      .map((p: { producerId: number; batches: { firstOffset: number }[] }) => ({ ...p, batches: p.batches.filter((x) => x.firstOffset < b.baseOffset) }))
      .filter((p: { batches: unknown[] }) => p.batches.length > 0)
    fs.writeFileSync(file, JSON.stringify(snap))
    let broker = await openBroker(dir)
    await checkState(broker, a, b)
    await broker.close()

    fs.writeFileSync(file, '{"version":1,"offset":3,"produc')
    broker = await openBroker(dir)
    const p = broker.getPartition('t', 0)
    expect(await p.append(recs(3, 'b'), { producerId: PID, producerEpoch: 2, baseSequence: 2 })).toMatchObject({ baseOffset: b.baseOffset, duplicate: true })
  })

  it('deletes a snapshot that claims more than the log holds and rebuilds from the log', async () => {
    const dir = dirs.make()
    const file = path.join(dir, 't-0', PRODUCER_STATE_FILE)
    const { a, b } = await writeSome(dir)
    const snap = JSON.parse(fs.readFileSync(file, 'utf8'))
    // As if recovery had cut the log back below the snapshot: it names offsets past the end.
    snap.offset = 1000
    snap.producers.push({ producerId: 999, epoch: 0, lastTimestamp: Date.now(), batches: [{ firstSeq: 0, lastSeq: 0, firstOffset: 500, lastOffset: 500, timestamp: 0 }] })
    fs.writeFileSync(file, JSON.stringify(snap))
    const broker = await openBroker(dir)
    const p = broker.getPartition('t', 0)
    // Producer 999 is not known: its sequence 0 is a new batch, not a "duplicate" at offset 500.
    expect(await p.append(recs(1, 'n'), { producerId: 999, producerEpoch: 0, baseSequence: 0 })).toMatchObject({ duplicate: false, baseOffset: 10 })
    await checkState(broker, a, b)
  })

  it('never hands out an id the partitions still remember, even after the metadata was lost', async () => {
    const dir = dirs.make()
    let broker = await openBroker(dir)
    await broker.createTopic('t')
    const old = broker.producer({ acks: 1 })
    for (let i = 0; i < 3; i++) await old.send('t', [{ value: `v${i}` }])
    await broker.close()
    opened.splice(opened.indexOf(broker), 1)
    fs.rmSync(path.join(dir, 'meta'), { recursive: true })
    broker = await openBroker(dir)
    expect(broker.recovery.adoptedTopics).toEqual(['t'])
    const fresh = broker.producer({ acks: 1 })
    expect(fresh.producerId).toBeGreaterThan(old.producerId)
    expect((await fresh.send('t', [{ value: 'new' }]))[0].offset).toBe(3)
  })

  it('hands out producer ids that are unique across restarts (test/broker-crash covers kill -9)', async () => {
    const dir = dirs.make()
    const ids = new Set<number>()
    for (let round = 0; round < 3; round++) {
      const broker = await openBroker(dir)
      for (let i = 0; i < 5; i++) ids.add(broker.producer().producerId)
      await broker.close()
      opened.splice(opened.indexOf(broker), 1)
    }
    expect(ids.size).toBe(15)
  })
})
