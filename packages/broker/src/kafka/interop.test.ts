/**
 * Both directions between the embedded API and Kafka clients, byte for byte: binary keys, values
 * and headers produced over the wire read back through the embedded API, and the records an
 * embedded producer writes read over the wire (KafkaJS, and kcat for text).
 */
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { prng } from '../test-support/helpers.js'
import { hasKcat, kcat, startServer, type Running } from './test-support/fixture.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const running: Running[] = []
const cleanups: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  for (const r of running.splice(0)) await r.stop()
})

async function start(): Promise<Running> {
  const s = await startServer()
  running.push(s)
  return s
}

interface Sample {
  key: Buffer | null
  value: Buffer | null
  headers: { key: string; value: Buffer }[]
  timestamp: number
}

function samples(n: number, seed: number): Sample[] {
  const rand = prng(seed)
  return Array.from({ length: n }, (_, i) => ({
    key: i % 5 === 0 ? null : randomBytes(1 + Math.floor(rand() * 40)),
    value: i % 7 === 3 ? null : randomBytes(Math.floor(rand() * 2000)),
    headers: i % 3 === 0 ? [] : [{ key: `h-${i}`, value: randomBytes(1 + Math.floor(rand() * 20)) }],
    timestamp: 1_700_000_000_000 + i,
  }))
}

const client = (s: Running) => new Kafka({ clientId: 'interop', brokers: [s.bootstrap], logLevel: logLevel.NOTHING })

describe('wire <-> embedded', () => {
  it('records KafkaJS produces read back through the embedded API with equal bytes', async () => {
    const s = await start()
    await s.broker.createTopic('in', { partitions: 2 })
    const sent = samples(120, 1)
    const producer = client(s).producer({ idempotent: true })
    await producer.connect()
    cleanups.push(() => producer.disconnect())
    for (let i = 0; i < sent.length; i += 30) {
      await producer.send({
        topic: 'in',
        acks: -1,
        messages: sent.slice(i, i + 30).map((m, j) => ({
          key: m.key,
          value: m.value,
          headers: Object.fromEntries(m.headers.map((h) => [h.key, h.value])),
          timestamp: String(m.timestamp),
          partition: (i + j) % 2,
        })),
      })
    }
    const embedded = s.groups.consumer({ groupId: 'reader', autoOffsetReset: 'earliest' })
    cleanups.push(() => embedded.close())
    await embedded.subscribe(['in'])
    const got: Sample[] = []
    while (got.length < sent.length) {
      for (const r of await embedded.poll({ timeoutMs: 1000 })) got.push({ key: r.key, value: r.value, headers: r.headers as Sample['headers'], timestamp: r.timestamp })
    }
    const order = (x: Sample) => x.timestamp
    expect(got.sort((a, b) => order(a) - order(b))).toEqual(sent)
  })

  it('records an embedded producer writes read over the wire by KafkaJS with equal bytes', async () => {
    const s = await start()
    await s.broker.createTopic('out', { partitions: 3 })
    const sent = samples(150, 2)
    const producer = s.broker.producer({ acks: 'all', lingerMs: 2 })
    await producer.send(
      'out',
      sent.map((m, i) => ({ key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp, partition: i % 3 })),
    )
    const consumer = client(s).consumer({ groupId: 'wire-reader', maxWaitTimeInMs: 100 })
    await consumer.connect()
    cleanups.push(() => consumer.disconnect())
    await consumer.subscribe({ topic: 'out', fromBeginning: true })
    const got: Sample[] = []
    await consumer.run({
      eachMessage: async ({ message }: { message: KafkaMessage }) => {
        got.push({
          key: message.key,
          value: message.value,
          headers: Object.entries(message.headers ?? {}).map(([key, value]) => ({ key, value: value as Buffer })),
          timestamp: Number(message.timestamp),
        })
      },
    })
    const t0 = Date.now()
    while (got.length < sent.length && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20))
    expect(got.sort((a, b) => a.timestamp - b.timestamp)).toEqual(sent)
  })

  it('records an embedded producer writes read over the wire by kcat', async () => {
    if (!hasKcat()) throw new Error('kcat is not installed: apt-get install -y kcat (CI installs it in .ci/run)')
    const s = await start()
    await s.broker.createTopic('text')
    await s.broker.producer({ acks: 1 }).send('text', [
      { key: 'a', value: 'héllo wörld' },
      { key: null, value: 'no key' },
      { key: 'c', value: '' },
    ])
    const r = await kcat(['-b', s.bootstrap, '-C', '-t', 'text', '-o', 'beginning', '-e', '-f', '%o|%k|%s|%S\n'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe(`0|a|héllo wörld|${Buffer.byteLength('héllo wörld')}\n1||no key|6\n2|c||0\n`)
  })
})
