import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Broker } from './broker.js'
import type { ConsumedMessage, Consumer } from './consumer.js'

let dir: string
let broker: Broker

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-consumer-'))
  broker = await Broker.open(dir)
})

afterEach(async () => {
  await broker.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function produceN(topic: string, n: number, from = 0): Promise<void> {
  const producer = broker.producer({ acks: 1 })
  const messages = Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` }))
  for (let i = 0; i < messages.length; i += 500) await producer.send(topic, messages.slice(i, i + 500))
  await producer.close()
}

const id = (m: { topic: string; partition: number; offset: number }) => `${m.topic}/${m.partition}/${m.offset}`

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('consumer groups', () => {
  it('point-to-point: two consumers in one group process every record exactly once', async () => {
    await broker.createTopic('orders', { partitions: 4 })
    await produceN('orders', 2000)
    const seen: string[] = []
    const members: Consumer[] = []
    const perMember = [0, 0]
    for (let i = 0; i < 2; i++) {
      const c = broker.consumer({ groupId: 'g', autoOffsetReset: 'earliest' })
      await c.subscribe(['orders'])
      members.push(c)
    }
    await Promise.all(
      members.map((c, i) =>
        c.run({
          eachMessage: async ({ topic, partition, message }) => {
            seen.push(id({ topic, partition, offset: message.offset }))
            perMember[i]++
          },
        }),
      ),
    )
    await until(() => seen.length >= 2000)
    await new Promise((r) => setTimeout(r, 100))
    expect(seen.length).toBe(2000)
    expect(new Set(seen).size).toBe(2000)
    expect(perMember[0]).toBeGreaterThan(0)
    expect(perMember[1]).toBeGreaterThan(0)
    const assigned = members.flatMap((c) => c.assignment().map((tp) => `${tp.topic}/${tp.partition}`)).sort()
    expect(assigned).toEqual(['orders/0', 'orders/1', 'orders/2', 'orders/3'])
    for (const c of members) await c.close()
    const d = await broker.describeGroup('g')
    expect(d.partitions.every((p) => p.lag === 0)).toBe(true)
  })

  it('publish-subscribe: two groups each see every record', async () => {
    await broker.createTopic('events', { partitions: 3 })
    await produceN('events', 300)
    for (const groupId of ['a', 'b']) {
      const c = broker.consumer({ groupId, autoOffsetReset: 'earliest' })
      await c.subscribe(['events'])
      const got: ConsumedMessage[] = []
      while (got.length < 300) got.push(...(await c.poll({ timeoutMs: 2000 })))
      expect(new Set(got.map(id)).size).toBe(300)
      await c.close()
    }
  })

  it('rebalances on join and leave with commits on revocation: nothing lost, nothing twice', async () => {
    await broker.createTopic('t', { partitions: 6 })
    const processed = new Map<string, number>()
    const note = (m: ConsumedMessage) => processed.set(id(m), (processed.get(id(m)) ?? 0) + 1)
    const start = async () => {
      const c = broker.consumer({ groupId: 'rb', autoOffsetReset: 'earliest' })
      await c.subscribe(['t'])
      await c.run({ eachMessage: async ({ topic, partition, message }) => note({ topic, partition, ...message }) })
      return c
    }
    const a = await start()
    let produced = 0
    const producing = (async () => {
      while (produced < 3000) {
        await produceN('t', 100, produced)
        produced += 100
        await new Promise((r) => setTimeout(r, 5))
      }
    })()
    await until(() => processed.size > 300)
    const b = await start() // join
    await until(() => processed.size > 1200)
    const c = await start() // another join
    await until(() => processed.size > 2000)
    await b.close() // leave
    await producing
    await until(() => processed.size >= 3000)
    await new Promise((r) => setTimeout(r, 200))
    await a.close()
    await c.close()
    expect(processed.size).toBe(3000)
    const twice = [...processed].filter(([, n]) => n > 1)
    expect(twice).toEqual([])
  })

  it('expires a silent member; its partitions continue from its commits; its late commit is refused', async () => {
    await broker.createTopic('s', { partitions: 2 })
    await produceN('s', 200)
    const silent = broker.consumer({ groupId: 'st', autoOffsetReset: 'earliest', sessionTimeoutMs: 300, autoCommit: false })
    await silent.subscribe(['s'])
    const first = await silent.poll({ maxRecords: 50, timeoutMs: 2000 })
    expect(first.length).toBe(50)
    await silent.commit()
    const active = broker.consumer({ groupId: 'st', autoOffsetReset: 'earliest', sessionTimeoutMs: 10_000 })
    await active.subscribe(['s'])
    const got: ConsumedMessage[] = []
    const joined = (async () => {
      while (got.length < 150) got.push(...(await active.poll({ timeoutMs: 500 })))
    })()
    // The silent one never polls again: after 300 ms it is out, and active takes everything.
    await joined
    expect(active.assignment().length).toBe(2)
    const all = new Set([...first.map(id), ...got.map(id)])
    expect(all.size).toBe(200)
    expect(first.filter((m) => got.some((g) => id(g) === id(m)))).toEqual([])
    await expect(silent.commit({ offsets: [{ topic: 's', partition: 0, offset: 1 }] })).rejects.toMatchObject({
      code: expect.stringMatching(/SAMSA_(PARTITION_NOT_ASSIGNED|UNKNOWN_MEMBER|ILLEGAL_GENERATION)/),
    })
    await active.close()
    await silent.close()
  })

  it('retries a failing record, then dead-letters it with its origin in headers', async () => {
    await broker.createTopic('in', { partitions: 1 })
    await broker.createTopic('in.dlt', { partitions: 1 })
    await produceN('in', 5)
    const attempts = new Map<number, number>()
    const done: number[] = []
    const c = broker.consumer({ groupId: 'dl', autoOffsetReset: 'earliest' })
    await c.subscribe(['in'])
    await c.run({
      maxAttempts: 3,
      retryBackoffMs: 1,
      deadLetterTopic: 'in.dlt',
      eachMessage: async ({ message }) => {
        attempts.set(message.offset, (attempts.get(message.offset) ?? 0) + 1)
        if (message.offset === 1 && (attempts.get(1) ?? 0) < 3) throw new Error('flaky')
        if (message.offset === 3) throw new Error('poison record')
        done.push(message.offset)
      },
    })
    await until(() => done.length === 4)
    expect(done).toEqual([0, 1, 2, 4])
    expect(attempts.get(1)).toBe(3)
    expect(attempts.get(3)).toBe(3)
    const dlt = broker.consumer({ groupId: 'dl-reader', autoOffsetReset: 'earliest' })
    await dlt.subscribe(['in.dlt'])
    const dead = await dlt.poll({ timeoutMs: 2000 })
    expect(dead.length).toBe(1)
    expect(dead[0].value?.toString()).toBe('v3')
    const h = Object.fromEntries(dead[0].headers.map((x) => [x.key, x.value?.toString()]))
    expect(h['samsa.dlt.topic']).toBe('in')
    expect(h['samsa.dlt.partition']).toBe('0')
    expect(h['samsa.dlt.offset']).toBe('3')
    expect(h['samsa.dlt.error']).toMatch(/poison record/)
    await c.close()
    await dlt.close()
    expect((await broker.describeGroup('dl')).partitions[0].committedOffset).toBe(5)
  })

  it('without a dead-letter topic, stops with the error and never commits past the failed record', async () => {
    await broker.createTopic('p', { partitions: 1 })
    await produceN('p', 10)
    const c = broker.consumer({ groupId: 'stop', autoOffsetReset: 'earliest' })
    await c.subscribe(['p'])
    await c.run({
      maxAttempts: 2,
      retryBackoffMs: 1,
      eachMessage: async ({ message }) => {
        if (message.offset === 6) throw new Error('cannot handle 6')
      },
    })
    await expect(c.stopped()).rejects.toThrow(/cannot handle 6/)
    expect((await broker.describeGroup('stop')).partitions[0].committedOffset).toBe(6)
  })

  it('resets to earliest (or fails with none) when retention deleted the committed position', async () => {
    await broker.createTopic('r', { partitions: 1, segmentBytes: 1024 })
    await produceN('r', 200)
    const c = broker.consumer({ groupId: 'ret', autoOffsetReset: 'earliest' })
    await c.subscribe(['r'])
    await c.poll({ maxRecords: 10, timeoutMs: 2000 })
    await c.commit()
    await c.close()
    expect((await broker.describeGroup('ret')).partitions[0].committedOffset).toBe(10)
    const { logStartOffset } = await broker.deleteRecords('r', 0, 120)
    expect(logStartOffset).toBe(120)
    const again = broker.consumer({ groupId: 'ret', autoOffsetReset: 'earliest' })
    await again.subscribe(['r'])
    const got = await again.poll({ maxRecords: 5, timeoutMs: 2000 })
    expect(got[0].offset).toBe(120)
    await again.close()
    const strict = broker.consumer({ groupId: 'ret2', autoOffsetReset: 'none' })
    await strict.subscribe(['r'])
    await expect(strict.poll({ timeoutMs: 200 })).rejects.toMatchObject({ code: 'SAMSA_NO_OFFSET' })
    await strict.close()
  })

  it('reports lag per partition and refuses admin changes while members are active', async () => {
    await broker.createTopic('l', { partitions: 2 })
    await produceN('l', 100)
    const c = broker.consumer({ groupId: 'lag', autoOffsetReset: 'earliest', autoCommit: false })
    await c.assign([{ topic: 'l', partition: 0 }])
    c.seek('l', 0, 0)
    const ends = [0, 1].map((p) => broker.partitionLog('l', p).highWatermark)
    await c.commit({ offsets: [{ topic: 'l', partition: 0, offset: 7 }] })
    const d = await broker.describeGroup('lag')
    const p0 = d.partitions.find((p) => p.partition === 0)
    expect(p0).toMatchObject({ committedOffset: 7, logEndOffset: ends[0], lag: ends[0] - 7 })
    expect(d.totalLag).toBe(ends[0] - 7)
    await c.close()
    const plan = await broker.resetOffsets('lag', 'l', 'earliest', { dryRun: true })
    expect(plan.find((p) => p.partition === 0)).toMatchObject({ from: 7, to: 0 })
    expect((await broker.describeGroup('lag')).partitions.find((p) => p.partition === 0)?.committedOffset).toBe(7)
    await broker.resetOffsets('lag', 'l', { shiftBy: -2 })
    expect((await broker.describeGroup('lag')).partitions.find((p) => p.partition === 0)?.committedOffset).toBe(5)
    const member = broker.consumer({ groupId: 'lag' })
    await member.subscribe(['l'])
    await member.poll({ timeoutMs: 50 })
    await expect(broker.resetOffsets('lag', 'l', 'latest')).rejects.toMatchObject({ code: 'SAMSA_GROUP_NOT_EMPTY' })
    await expect(broker.deleteGroup('lag')).rejects.toMatchObject({ code: 'SAMSA_GROUP_NOT_EMPTY' })
    await member.close()
    await broker.deleteGroup('lag')
    expect((await broker.listGroups()).some((g) => g.groupId === 'lag')).toBe(false)
  })

  it('commits application state with the offsets', async () => {
    await broker.createTopic('acct', { partitions: 1 })
    await produceN('acct', 10)
    const c = broker.consumer({ groupId: 'bank', autoOffsetReset: 'earliest', autoCommit: false })
    await c.subscribe(['acct'])
    const batch = await c.poll({ timeoutMs: 2000 })
    await c.commit({ state: (tx) => tx.put('count', ((tx.get('count') as number) ?? 0) + batch.length) })
    expect(broker.groupState('bank', 'count')).toBe(10)
    expect((await broker.describeGroup('bank')).partitions[0].committedOffset).toBe(10)
    await c.close()
  })

  it('pull, push and iteration honour pause, seek, backpressure and the closed state', async () => {
    await broker.createTopic('x', { partitions: 2 })
    await produceN('x', 400)
    const c = broker.consumer({ groupId: 'ctl', autoOffsetReset: 'earliest' })
    await c.assign([
      { topic: 'x', partition: 0 },
      { topic: 'x', partition: 1 },
    ])
    c.pause([{ topic: 'x', partition: 1 }])
    const got = await c.poll({ maxRecords: 1000, timeoutMs: 500 })
    expect(got.length).toBeGreaterThan(0)
    expect(got.every((m) => m.partition === 0)).toBe(true)
    c.resume([{ topic: 'x', partition: 1 }])
    c.seek('x', 0, 3)
    expect(c.position('x', 0)).toBe(3)
    expect(() => c.seek('x', 0, 10_000)).toThrow(expect.objectContaining({ code: 'SAMSA_OFFSET_OUT_OF_RANGE' }))
    expect(() => c.seek('x', 9, 0)).toThrow(expect.objectContaining({ code: 'SAMSA_PARTITION_NOT_ASSIGNED' }))
    await expect(c.commit({ offsets: [{ topic: 'x', partition: 7, offset: 0 }] })).rejects.toMatchObject({ code: 'SAMSA_PARTITION_NOT_ASSIGNED' })
    await c.close()
    await expect(c.poll()).rejects.toMatchObject({ code: 'SAMSA_CONSUMER_CLOSED' })

    // Backpressure: the handler never sees the consumer more than maxBufferedRecords ahead.
    const push = broker.consumer({ groupId: 'bp', autoOffsetReset: 'earliest' })
    await push.subscribe(['x'])
    let maxAhead = 0
    let handled = 0
    await push.run({
      maxBufferedRecords: 50,
      eachMessage: async ({ partition, message }) => {
        maxAhead = Math.max(maxAhead, push.position('x', partition) - message.offset)
        handled++
      },
    })
    await until(() => handled === 400)
    expect(maxAhead).toBeLessThanOrEqual(50)
    await push.close()

    const it = broker.consumer({ groupId: 'iter', autoOffsetReset: 'earliest' })
    await it.subscribe(['x'])
    let n = 0
    for await (const m of it) {
      expect(m.topic).toBe('x')
      if (++n === 10) break
    }
    await it.close()
    // The 10th record was not marked processed (the loop broke out before asking for the 11th).
    const committed = (await broker.describeGroup('iter')).partitions.reduce((s, p) => s + (p.committedOffset ?? 0), 0)
    expect(committed).toBe(9)
  })

  it('refuses to subscribe to unknown topics when auto-creation is off', async () => {
    const c = broker.consumer({ groupId: 'u' })
    await expect(c.subscribe(['nope'])).rejects.toMatchObject({ code: 'SAMSA_UNKNOWN_TOPIC' })
    await c.close()
  })

  it('poll waits for data instead of spinning, and wakes on a produce', async () => {
    await broker.createTopic('w', { partitions: 1 })
    const c = broker.consumer({ groupId: 'wait', autoOffsetReset: 'latest' })
    await c.subscribe(['w'])
    await c.poll({ timeoutMs: 10 })
    const started = Date.now()
    const pending = c.poll({ timeoutMs: 5000 })
    setTimeout(() => void produceN('w', 1), 100)
    const got = await pending
    expect(got.length).toBe(1)
    expect(Date.now() - started).toBeLessThan(4000)
    await c.close()
  })
})
