/**
 * The server's behaviour as a network service: hostile input, clients vanishing mid-request,
 * responses in order, acks 0, idle connections, hundreds of connections, and a clean close that
 * finishes what is in flight. A real KafkaJS client on its own connection checks throughout that
 * the server keeps serving everyone else.
 */
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import * as net from 'node:net'
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type Running } from './test-support/fixture.js'
import { KafkaJSWire } from './test-support/kafkajs-wire.js'

const require = createRequire(import.meta.url)

const running: Running[] = []
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  for (const r of running.splice(0)) await r.stop()
})

async function start(...args: Parameters<typeof startServer>): Promise<Running> {
  const r = await startServer(...args)
  running.push(r)
  return r
}

/** A KafkaJS admin on its own connection: the "other client" that must keep working. */
async function bystander(s: Running) {
  const kafka = new Kafka({ clientId: 'bystander', brokers: [s.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } })
  const admin = kafka.admin()
  await admin.connect()
  cleanups.push(() => admin.disconnect())
  return admin
}

function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })
}

/** Resolves when the server has closed (or reset) the socket. */
function closedByServer(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    s.on('error', () => undefined)
    if (s.destroyed) resolve()
    s.on('close', () => resolve())
    s.resume()
  })
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n, 0)
  return b
}

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('hostile input', () => {
  it('random bytes, garbled and oversized frames, negative sizes, unknown APIs: that connection ends, one log line each, others keep going', async () => {
    const s = await start({ server: { maxRequestBytes: 64 * 1024 } })
    await s.broker.createTopic('t')
    const admin = await bystander(s)
    expect(await admin.listTopics()).toEqual(['t'])

    const attacks: Buffer[] = [
      int32(-5), // negative size
      int32(64 * 1024 + 1), // over maxRequestBytes: refused before any body arrives
      Buffer.concat([int32(30), randomBytes(30)]), // garbage body
      Buffer.concat([int32(12), Buffer.from([0x00, 0x63, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])]), // API key 99
      Buffer.concat([int32(10), Buffer.from([0, 0, 0, 99, 0, 0, 0, 2, 0xff, 0xff])]), // Produce v99
      Buffer.concat([int32(3), Buffer.from([1, 2, 3])]), // too short for a header
    ]
    for (let i = 0; i < 8; i++) attacks.push(randomBytes(64 + i * 100))
    for (const bytes of attacks) {
      const sock = await rawSocket(s.port)
      const logsBefore = s.logs.length
      sock.write(bytes)
      // Random bytes may happen to announce a big frame and wait for it: hang up then.
      const closed = closedByServer(sock)
      const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 300))])
      if (outcome === 'open') {
        sock.destroy()
        await closed
      } else {
        expect(s.logs.length - logsBefore).toBe(1)
        expect(s.logs[s.logs.length - 1]).toMatch(/^kafka: closing connection from 127\.0\.0\.1:\d+: SAMSA_[A-Z_]+: .*$/)
      }
      expect(await admin.listTopics()).toEqual(['t'])
    }
    expect(s.logs.some((l) => l.includes('SAMSA_REQUEST_TOO_LARGE'))).toBe(true)
    expect(s.logs.some((l) => l.includes('SAMSA_UNSUPPORTED_VERSION') && l.includes('API key 99'))).toBe(true)
    expect(s.logs.every((l) => !l.includes('\n'))).toBe(true)
    await until(() => s.server.connectionCount === 1) // only the bystander
  })

  it('an oversized size prefix is refused without waiting for, or buffering, the body', async () => {
    const s = await start({ server: { maxRequestBytes: 1024 } })
    const sock = await rawSocket(s.port)
    const closed = closedByServer(sock)
    sock.write(int32(50 * 1024 * 1024)) // the body never comes
    await closed
    expect(s.logs).toEqual([expect.stringMatching(/SAMSA_REQUEST_TOO_LARGE: a request frame of 52428800 bytes exceeds maxRequestBytes 1024/)])
  })

  it('truncated frames and clients that vanish mid-request or during a long poll do not disturb the server', async () => {
    const s = await start()
    await s.broker.createTopic('t')
    const admin = await bystander(s)

    // Half a Metadata request, then gone.
    const wire = await KafkaJSWire.connect(s.port)
    const { wire: bytes } = await wire.encode('metadata', 4, { topics: ['t'], allowAutoTopicCreation: false })
    wire.write(bytes.subarray(0, bytes.length - 3))
    await new Promise((r) => setTimeout(r, 50))
    wire.destroy()

    // A Fetch held at the high watermark, then gone while it waits.
    const poller = await KafkaJSWire.connect(s.port)
    void poller.send('fetch', 11, { replicaId: -1, maxWaitTime: 5000, minBytes: 1, maxBytes: 1024, topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 1024 }] }] })
    await until(() => (s.server.requestCounts.get(1) ?? 0) === 1)
    poller.destroy()

    await until(() => s.server.connectionCount === 1)
    expect(await admin.listTopics()).toEqual(['t'])
    // The abandoned long poll ended with its connection: appends still work and wake no one dead.
    await s.broker.producer({ acks: 1 }).send('t', [{ value: 'after' }])
    expect(await admin.fetchTopicOffsets('t')).toEqual([{ partition: 0, offset: '1', high: '1', low: '0' }])
    expect(s.logs).toEqual([])
  })

  it('an unsupported ApiVersions version is answered in the v0 shape with error 35, so the client can retry lower', async () => {
    const s = await start()
    const wire = await KafkaJSWire.connect(s.port)
    cleanups.push(() => wire.destroy())
    // ApiVersions v9, header v2 (it is flexible), empty body.
    const frame = Buffer.from([0, 18, 0, 9, 0, 0, 0, 77, 0, 1, 0x78, 0])
    const answer = wire.expect(77, async (b) => b)
    wire.write(Buffer.concat([int32(frame.length), frame]))
    const { body } = await answer
    const Decoder = require('kafkajs/src/protocol/decoder')
    const d = new Decoder(body)
    expect(d.readInt16()).toBe(35)
    const versions = d.readArray((x: { readInt16(): number }) => [x.readInt16(), x.readInt16(), x.readInt16()])
    expect(versions).toContainEqual([18, 0, 3])
    expect(versions).toContainEqual([1, 4, 11])
    // The connection stays usable: the retry at v2 works.
    const retry = await wire.send('apiVersions', 2)
    expect(retry.body.errorCode).toBe(0)
  })
})

describe('logging', () => {
  it('keeps every log line one line, whatever ids a client sends', async () => {
    const s = await start()
    const wire = await KafkaJSWire.connect(s.port, 'evil\nclient\r\u0007')
    cleanups.push(() => wire.destroy())
    const joined = await wire.send('joinGroup', 3, {
      groupId: 'group\nwith\nlines',
      sessionTimeout: 30_000,
      rebalanceTimeout: 30_000,
      memberId: '',
      protocolType: 'consumer',
      groupProtocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    })
    expect(joined.body.errorCode).toBe(0)
    expect(s.logs.length).toBeGreaterThanOrEqual(2)
    for (const line of s.logs) expect(line).not.toMatch(/[\u0000-\u001f]/)
    expect(s.logs[0]).toContain('group group with lines: member evil client')
  })
})

describe('connections', () => {
  it('answers the requests of a connection in order, even behind a Fetch that long-polls', async () => {
    const s = await start()
    await s.broker.createTopic('t')
    const wire = await KafkaJSWire.connect(s.port)
    cleanups.push(() => wire.destroy())
    const fetch = wire.send('fetch', 11, { replicaId: -1, maxWaitTime: 400, minBytes: 1, maxBytes: 1024, topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 1024 }] }] })
    const versions = wire.send('apiVersions', 2)
    const metadata = wire.send('metadata', 4, { topics: ['t'], allowAutoTopicCreation: false })
    const [f, v, m] = await Promise.all([fetch, versions, metadata])
    expect(wire.arrivals).toEqual([f.correlationId, v.correlationId, m.correlationId])
    expect(f.body.responses[0].partitions[0]).toMatchObject({ errorCode: 0, highWatermark: '0', messages: [] })
  })

  it('starts Produce requests in a row without waiting for the fsync of the one before (acks -1), keeps their batches and responses in order, and starts nothing behind another API until it is answered', async () => {
    const s = await start()
    await s.broker.createTopic('t')
    const log = s.broker.getPartition('t', 0).log
    const wire = await KafkaJSWire.connect(s.port)
    cleanups.push(() => wire.destroy())
    const produce = (i: number) =>
      wire.encode('produce', 7, { acks: -1, timeout: 1000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ value: `m${i}` }, { value: `m${i}b` }] }] }] })
    const requests = [await produce(0), await produce(1), await produce(2), await wire.encode('apiVersions', 2, {}), await produce(3), await produce(4)]
    const answers = requests.map((r) => wire.expect(r.correlationId, (b) => r.response.decode(b)))
    // The log's end when the first response reaches the client: every Produce before the
    // ApiVersions was already appended, as they all started at once (one at a time, the third
    // would start only after the fsync of the second).
    let endAtFirstResponse = -1
    wire.socket.once('data', () => (endAtFirstResponse = log.logEndOffset))
    wire.write(Buffer.concat(requests.map((r) => r.wire))) // one write: the frames arrive together
    const bodies = (await Promise.all(answers)).map((a) => a.body)
    expect(endAtFirstResponse).toBeGreaterThanOrEqual(6)
    expect(wire.arrivals).toEqual(requests.map((r) => r.correlationId))
    const baseOffsets = bodies.filter((b) => b.topics !== undefined).map((b) => b.topics[0].partitions[0])
    expect(baseOffsets).toEqual([0, 2, 4, 6, 8].map((o) => expect.objectContaining({ errorCode: 0, baseOffset: String(o) })))
    const records = await log.read(0)
    expect(records.map((r) => r.value?.toString())).toEqual([0, 1, 2, 3, 4].flatMap((i) => [`m${i}`, `m${i}b`]))
  })

  it('starts no Produce behind a Fetch that long-polls until the Fetch is answered', async () => {
    const s = await start()
    await s.broker.createTopic('t')
    await s.broker.createTopic('idle')
    const wire = await KafkaJSWire.connect(s.port)
    cleanups.push(() => wire.destroy())
    const fetch = wire.send('fetch', 11, { replicaId: -1, maxWaitTime: 300, minBytes: 1, maxBytes: 1024, topics: [{ topic: 'idle', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 1024 }] }] })
    await until(() => (s.server.requestCounts.get(1) ?? 0) === 1)
    const produce = wire.send('produce', 7, { acks: 1, timeout: 1000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ value: 'v' }] }] }] })
    await new Promise((r) => setTimeout(r, 100))
    expect(s.broker.getPartition('t', 0).log.logEndOffset).toBe(0)
    const [f, p] = await Promise.all([fetch, produce])
    expect(wire.arrivals).toEqual([f.correlationId, p.correlationId])
    expect(s.broker.getPartition('t', 0).log.logEndOffset).toBe(1)
  })

  it('Produce with acks 0 gets no response at all, and is stored', async () => {
    const s = await start()
    await s.broker.createTopic('t')
    const wire = await KafkaJSWire.connect(s.port)
    cleanups.push(() => wire.destroy())
    const produce = await wire.encode('produce', 7, { acks: 0, timeout: 1000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v' }] }] }] })
    wire.write(produce.wire)
    const v = await wire.send('apiVersions', 2)
    expect(wire.arrivals).toEqual([v.correlationId])
    const records = await s.broker.getPartition('t', 0).log.read(0)
    expect(records.map((r) => r.value?.toString())).toEqual(['v'])
  })

  it('closes connections idle for idleTimeoutMs, with a log line', async () => {
    const s = await start({ server: { idleTimeoutMs: 150 } })
    const wire = await KafkaJSWire.connect(s.port)
    await wire.send('apiVersions', 2)
    await wire.closed
    expect(s.logs).toEqual([expect.stringMatching(/^kafka: closing connection from 127\.0\.0\.1:\d+: idle for \d+ ms$/)])
  })

  it('serves hundreds of concurrent connections', async () => {
    const s = await start()
    await s.broker.createTopic('t', { partitions: 3 })
    const n = 300
    const clients = await Promise.all(Array.from({ length: n }, () => KafkaJSWire.connect(s.port)))
    cleanups.push(() => clients.forEach((c) => c.destroy()))
    await until(() => s.server.connectionCount === n)
    const answers = await Promise.all(clients.map((c) => c.send('metadata', 4, { topics: ['t'], allowAutoTopicCreation: false })))
    for (const a of answers) {
      expect(a.body.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: s.port, rack: null }])
      expect(a.body.topicMetadata[0].partitionMetadata).toHaveLength(3)
    }
    clients.forEach((c) => c.destroy())
    await until(() => s.server.connectionCount === 0)
  })
})

describe('close', () => {
  it('answers the requests in flight (a long poll at once, a held JoinGroup), then ends the connections', async () => {
    const s = await start()
    await s.broker.createTopic('t')
    const poller = await KafkaJSWire.connect(s.port)
    const fetch = poller.send('fetch', 11, { replicaId: -1, maxWaitTime: 30_000, minBytes: 1, maxBytes: 1024, topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 1024 }] }] })

    // A group with a stable member and a second one whose JoinGroup is held.
    const a = await KafkaJSWire.connect(s.port)
    const joinArgs = (memberId: string) => ({
      groupId: 'g',
      sessionTimeout: 30_000,
      rebalanceTimeout: 60_000,
      memberId,
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0]) }],
    })
    const ja = await a.send('joinGroup', 3, joinArgs(''))
    expect(ja.body.errorCode).toBe(0)
    const b = await KafkaJSWire.connect(s.port)
    const held = b.send('joinGroup', 3, joinArgs(''))
    await until(() => (s.server.requestCounts.get(11) ?? 0) === 2 && (s.server.requestCounts.get(1) ?? 0) === 1)

    const t0 = Date.now()
    await s.server.close()
    expect(Date.now() - t0).toBeLessThan(10_000) // not the 30 s of the long poll
    const f = await fetch
    expect(f.body.responses[0].partitions[0]).toMatchObject({ errorCode: 0, messages: [] })
    // The held JoinGroup was answered: NOT_COORDINATOR tells a client to look for the coordinator again.
    expect((await held).body.errorCode).toBe(16)
    await Promise.all([poller.closed, a.closed, b.closed])
    expect(s.server.connectionCount).toBe(0)
  })

  it('broker.close() closes its Kafka server first, answering the request in flight, and frees the port', async () => {
    const s = await start()
    await s.broker.createTopic('t')
    const wire = await KafkaJSWire.connect(s.port)
    const fetch = wire.send('fetch', 11, { replicaId: -1, maxWaitTime: 30_000, minBytes: 1, maxBytes: 1024, topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 1024 }] }] })
    await until(() => (s.server.requestCounts.get(1) ?? 0) === 1)
    await s.broker.close()
    expect((await fetch).body.responses[0].partitions[0]).toMatchObject({ errorCode: 0, messages: [] })
    await wire.closed
    await expect(rawSocket(s.port)).rejects.toThrow(/ECONNREFUSED/)
    await expect(s.broker.listen({ port: 0 })).rejects.toMatchObject({ code: 'SAMSA_BROKER_CLOSED' })
  })
})
