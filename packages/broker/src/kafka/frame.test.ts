import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { KafkaProtocolError, RequestTooLargeError, SamsaError, UnsupportedApiVersionError } from '../errors.js'
import { DEFAULT_MAX_REQUEST_BYTES, FrameDecoder, parseRequestHeader, peekCorrelationId, responseFrame } from './frame.js'
import { decodeRequest } from './request.js'
import { Writer } from './wire.js'

const require = createRequire(import.meta.url)
const createRequest = require('kafkajs/src/protocol/request')

function frameOf(body: Buffer): Buffer {
  const out = Buffer.alloc(4 + body.length)
  out.writeInt32BE(body.length, 0)
  body.copy(out, 4)
  return out
}

function header(apiKey: number, version: number, correlationId = 1, clientId: string | null = 'c'): Writer {
  return new Writer().int16(apiKey).int16(version).int32(correlationId).nullableString(clientId)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function kafkajsWire(api: string, version: number, args: Record<string, unknown>, correlationId = 1): Promise<Buffer> {
  const { protocol } = require(`kafkajs/src/protocol/requests/${api}`)
  const { request } = protocol({ version })(args)
  return (await createRequest({ correlationId, clientId: 'kjs', request })).buffer
}

/** A sample of real requests as KafkaJS puts them on the wire. */
async function sampleRequests(): Promise<Buffer[]> {
  return [
    await kafkajsWire('apiVersions', 2, {}),
    await kafkajsWire('metadata', 4, { topics: ['a', 'bb'], allowAutoTopicCreation: true }),
    await kafkajsWire('produce', 7, {
      acks: -1,
      timeout: 1000,
      topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: [{ key: 'k', value: 'v' }] }] }],
    }),
    await kafkajsWire('fetch', 11, { maxWaitTime: 100, minBytes: 1, maxBytes: 1000, topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 100 }] }] }),
    await kafkajsWire('joinGroup', 5, {
      groupId: 'g',
      sessionTimeout: 1000,
      rebalanceTimeout: 1000,
      memberId: '',
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([1, 2]) }],
    }),
    await kafkajsWire('offsetCommit', 5, { groupId: 'g', groupGenerationId: 1, memberId: 'm', topics: [{ topic: 't', partitions: [{ partition: 0, offset: '5' }] }] }),
    await kafkajsWire('createTopics', 3, { topics: [{ topic: 'x', configEntries: [{ name: 'a', value: 'b' }] }], timeout: 100 }),
  ]
}

describe('FrameDecoder', () => {
  it('reassembles frames from any chunking: byte by byte, several per chunk, one across many', async () => {
    const wires = await sampleRequests()
    const stream = Buffer.concat(wires)
    const expected = wires.map((w) => w.subarray(4))

    for (const step of [1, 2, 3, 5, 64, stream.length]) {
      const d = new FrameDecoder()
      const got: Buffer[] = []
      for (let i = 0; i < stream.length; i += step) got.push(...d.push(stream.subarray(i, i + step)))
      expect(got).toEqual(expected)
      expect(d.pendingBytes).toBe(0)
    }
  })

  it('a large frame in many reads comes out whole', () => {
    const body = Buffer.concat([header(0, 7).toBuffer(), randomBytes(3 * 1024 * 1024)])
    const wire = frameOf(body)
    const d = new FrameDecoder()
    const got: Buffer[] = []
    for (let i = 0; i < wire.length; i += 65536) got.push(...d.push(wire.subarray(i, i + 65536)))
    expect(got).toHaveLength(1)
    expect(got[0].equals(body)).toBe(true)
  })

  it('a frame within one chunk is a view of it, not a copy, also when its size prefix was split across reads', () => {
    const body = Buffer.concat([header(0, 7).toBuffer(), randomBytes(1000)])
    const wire = frameOf(body)
    const whole = Buffer.concat([wire, wire.subarray(0, 2)])
    const d = new FrameDecoder()
    const [first] = d.push(whole)
    expect(first.equals(body)).toBe(true)
    expect(first.buffer).toBe(whole.buffer)
    // The second frame's size prefix: 2 bytes at the end of that chunk, 2 at the start of the next.
    const rest = Buffer.from(wire.subarray(2))
    const [second] = d.push(rest)
    expect(second.equals(body)).toBe(true)
    expect(second.buffer).toBe(rest.buffer)
    expect(second.byteOffset).toBe(rest.byteOffset + 2)
    expect(d.pendingBytes).toBe(0)
  })

  it('reads a negative size split across reads as negative', () => {
    const d = new FrameDecoder()
    expect(d.push(Buffer.from([0xff]))).toEqual([])
    expect(d.push(Buffer.from([0xff, 0xff]))).toEqual([])
    expect(() => d.push(Buffer.from([0xfb]))).toThrow(/negative size -5/)
  })

  it('refuses a size prefix above maxRequestBytes as soon as the 4 size bytes arrive', () => {
    const d = new FrameDecoder(1024)
    expect(d.maxRequestBytes).toBe(1024)
    const prefix = Buffer.alloc(4)
    prefix.writeInt32BE(1025, 0)
    // Only the first 3 bytes: nothing to decide yet.
    expect(d.push(prefix.subarray(0, 3))).toEqual([])
    let err: unknown
    try {
      d.push(prefix.subarray(3))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(RequestTooLargeError)
    expect((err as SamsaError).code).toBe('SAMSA_REQUEST_TOO_LARGE')
    expect((err as RequestTooLargeError).size).toBe(1025)
    // Nothing of a body was held.
    expect(d.pendingBytes).toBeLessThanOrEqual(4)
  })

  it('the default limit is 100 MiB: a frame of 100 MiB + 1 is refused without buffering it', () => {
    expect(DEFAULT_MAX_REQUEST_BYTES).toBe(100 * 1024 * 1024)
    const d = new FrameDecoder()
    const prefix = Buffer.alloc(4)
    prefix.writeInt32BE(DEFAULT_MAX_REQUEST_BYTES + 1, 0)
    expect(() => d.push(Buffer.concat([prefix, Buffer.alloc(1000)]))).toThrow(RequestTooLargeError)
    // A frame of exactly the limit is accepted (and waits for its body).
    const ok = new FrameDecoder()
    prefix.writeInt32BE(DEFAULT_MAX_REQUEST_BYTES, 0)
    expect(ok.push(prefix)).toEqual([])
  })

  it('refuses negative and impossibly small sizes with a typed error', () => {
    for (const size of [-1, -2147483648, 0, 9]) {
      const prefix = Buffer.alloc(4)
      prefix.writeInt32BE(size, 0)
      expect(() => new FrameDecoder().push(prefix)).toThrow(KafkaProtocolError)
    }
  })
})

describe('request headers and decodeRequest', () => {
  it('reads header v1, including a null client id', () => {
    const body = header(12, 2, 77, null).string('g').int32(3).string('m').toBuffer()
    const { header: h, body: r } = parseRequestHeader(body)
    expect(h).toEqual({ apiKey: 12, apiVersion: 2, correlationId: 77, clientId: null, headerVersion: 1 })
    expect(r.pos).toBe(10)
    expect(decodeRequest(body).request).toEqual({ groupId: 'g', generationId: 3, memberId: 'm', groupInstanceId: null })
  })

  it('unknown API keys and unsupported versions are a typed error that keeps the correlation id reachable', () => {
    const cases: [number, number][] = [
      [0, 2], // Produce below 3 (magic 0/1 message sets)
      [0, 8],
      [1, 3],
      [1, 12], // Fetch v12 is flexible
      [3, 5],
      [9, 0],
      [18, 4],
      [13, 2],
      [17, 0], // SaslHandshake: not implemented
      [999, 0],
      [-1, 0],
    ]
    for (const [key, version] of cases) {
      const frame = header(key, version, 31337).int32(0).toBuffer()
      let err: unknown
      try {
        decodeRequest(frame)
      } catch (e) {
        err = e
      }
      expect(err, `key ${key} v${version}`).toBeInstanceOf(UnsupportedApiVersionError)
      expect((err as SamsaError).code).toBe('SAMSA_UNSUPPORTED_VERSION')
      expect(peekCorrelationId(frame)).toBe(31337)
    }
  })

  it('trailing bytes after a request body are refused', () => {
    const frame = header(12, 0).string('g').int32(3).string('m').int8(0).toBuffer()
    expect(() => decodeRequest(frame)).toThrow(/1 bytes left over/)
  })

  it('every truncation of every sample request is a KafkaProtocolError, never a crash', async () => {
    for (const wire of await sampleRequests()) {
      const frame = wire.subarray(4)
      expect(() => decodeRequest(frame)).not.toThrow()
      for (let n = 0; n < frame.length; n++) {
        expect(() => decodeRequest(frame.subarray(0, n))).toThrow(KafkaProtocolError)
      }
    }
  })

  it('random bytes, and sample requests with random bytes flipped, give typed errors only', async () => {
    const samples = (await sampleRequests()).map((w) => w.subarray(4))
    let decoded = 0
    for (let i = 0; i < 3000; i++) {
      let frame: Buffer
      if (i % 2 === 0) {
        frame = randomBytes(10 + (i % 200))
      } else {
        frame = Buffer.from(samples[i % samples.length])
        for (let k = 0; k < 1 + (i % 4); k++) frame[Math.floor(Math.random() * frame.length)] = Math.floor(Math.random() * 256)
      }
      try {
        decodeRequest(frame)
        decoded++
      } catch (err) {
        expect(err instanceof KafkaProtocolError || err instanceof UnsupportedApiVersionError, String(err)).toBe(true)
      }
    }
    // Flipping a byte inside a record batch or a string still parses: some must have decoded.
    expect(decoded).toBeGreaterThan(0)
  })
})

describe('response frames', () => {
  it('are size, correlation id (header v0), then the body, with large bodies by reference', () => {
    const big = randomBytes(100_000)
    const body = new Writer().int16(0).bytes(big)
    const chunks = responseFrame(123, body)
    const wire = Buffer.concat(chunks)
    expect(wire.readInt32BE(0)).toBe(wire.length - 4)
    expect(wire.readInt32BE(4)).toBe(123)
    expect(wire.readInt16BE(8)).toBe(0)
    expect(wire.subarray(14).equals(big)).toBe(true)
    expect(chunks.some((c) => c === big)).toBe(true)
  })
})
