import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import {
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  VarintError,
  varintEnd,
  writeVarint,
  writeVarlong,
} from './varint.js'
import { prng } from './test-support/storage-fixtures.js'

// kafkajs is CommonJS and its Encoder/Decoder are internal modules: reach them with require.
const require = createRequire(import.meta.url)
const KafkaEncoder = require('kafkajs/src/protocol/encoder')
const KafkaDecoder = require('kafkajs/src/protocol/decoder')

const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1

function encodeVarint(value: number): Buffer {
  const buf = Buffer.alloc(5)
  const end = writeVarint(buf, 0, value)
  return buf.subarray(0, end)
}

function encodeVarlong(value: number): Buffer {
  const buf = Buffer.alloc(10)
  const end = writeVarlong(buf, 0, value)
  return buf.subarray(0, end)
}

function kafkajsVarint(value: number): Buffer {
  return new KafkaEncoder().writeVarInt(value).buffer
}

function kafkajsVarlong(value: number): Buffer {
  return new KafkaEncoder().writeVarLong(value).buffer
}

/** Random int32 whose magnitude spans every encoded length (1 to 5 bytes). */
function randomInt32(rand: () => number): number {
  const bits = Math.floor(rand() * 32)
  const magnitude = Math.floor(rand() * 2 ** bits)
  return (rand() < 0.5 ? -magnitude : magnitude) | 0
}

/** Random safe integer whose magnitude spans every bit length up to 2^53. */
function randomSafeInteger(rand: () => number): number {
  const bits = Math.floor(rand() * 54)
  const magnitude = Math.min(Math.floor(rand() * 2 ** bits), Number.MAX_SAFE_INTEGER)
  return rand() < 0.5 && magnitude !== 0 ? -magnitude : magnitude
}

describe('varint (zig-zag int32)', () => {
  const known: Array<[number, string]> = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [2, '04'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [-65, '8101'],
    [150, 'ac02'],
    [8191, 'fe7f'],
    [-8192, 'ff7f'],
    [8192, '808001'],
    [2 ** 20, '80808001'],
    [2 ** 27, '8080808001'],
    [INT32_MAX, 'feffffff0f'],
    [INT32_MIN, 'ffffffff0f'],
  ]

  it.each(known)('encodes %d as %s, as Kafka does', (value, hex) => {
    expect(encodeVarint(value).toString('hex')).toBe(hex)
    expect(sizeOfVarint(value)).toBe(hex.length / 2)
    const buf = Buffer.from(hex, 'hex')
    expect(readVarint(buf, 0)).toBe(value)
    expect(varintEnd).toBe(buf.length)
  })

  it('round-trips the int32 edges and every power-of-two boundary', () => {
    const values = [0, 1, -1, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1]
    for (let k = 0; k <= 31; k++) values.push(2 ** k - 1, -(2 ** k), 2 ** k === 2 ** 31 ? INT32_MAX : 2 ** k)
    for (const v of values) {
      const bytes = encodeVarint(v)
      expect(bytes.length).toBe(sizeOfVarint(v))
      expect(readVarint(bytes, 0)).toBe(v)
      expect(bytes.equals(kafkajsVarint(v))).toBe(true)
    }
  })

  it('reads at an offset inside a larger buffer and reports where the varint ended', () => {
    const buf = Buffer.alloc(32, 0xee)
    let pos = 3
    const values = [300, -1, INT32_MIN, 0, 77777]
    for (const v of values) pos = writeVarint(buf, pos, v)
    let at = 3
    for (const v of values) {
      expect(readVarint(buf, at)).toBe(v)
      expect(varintEnd - at).toBe(sizeOfVarint(v))
      at = varintEnd
    }
    expect(at).toBe(pos)
    expect(buf[pos]).toBe(0xee) // nothing written past the end
  })

  it('matches kafkajs byte for byte on 20,000 random int32 values, both ways', () => {
    const rand = prng(0x5a11)
    for (let i = 0; i < 20_000; i++) {
      const v = randomInt32(rand)
      const ours = encodeVarint(v)
      const theirs = kafkajsVarint(v)
      if (!ours.equals(theirs)) expect.fail(`varint ${v}: ours ${ours.toString('hex')} kafkajs ${theirs.toString('hex')}`)
      expect(ours.length).toBe(sizeOfVarint(v))
      expect(KafkaEncoder.sizeOfVarInt(v)).toBe(ours.length)
      expect(readVarint(theirs, 0)).toBe(v)
      expect(new KafkaDecoder(ours).readVarInt()).toBe(v)
    }
  })

  it('rejects a varint longer than 5 bytes', () => {
    const six = Buffer.from('808080808001', 'hex')
    expect(() => readVarint(six, 0)).toThrow(VarintError)
    expect(() => readVarint(Buffer.alloc(10, 0xff), 0)).toThrow(/longer than 5 bytes/)
  })

  it('rejects a truncated varint (continuation bit set on the last byte)', () => {
    for (const hex of ['80', 'ff', 'ffff', '808080', 'ffffffff']) {
      expect(() => readVarint(Buffer.from(hex, 'hex'), 0)).toThrow(VarintError)
    }
    // Truncated relative to the position, not just the buffer start.
    const buf = Buffer.from('0280', 'hex')
    expect(readVarint(buf, 0)).toBe(1)
    expect(() => readVarint(buf, 1)).toThrow(/past the end/)
    // And a position at the very end.
    expect(() => readVarint(buf, 2)).toThrow(VarintError)
  })

  it('honours the end of a subarray view, not the underlying memory', () => {
    const backing = Buffer.from('ac02', 'hex') // 150
    const view = backing.subarray(0, 1)
    expect(() => readVarint(view, 0)).toThrow(VarintError)
  })
})

describe('varlong (zig-zag int64, exact for safe integers)', () => {
  const known: Array<[number, string]> = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [2 ** 30 - 1, 'feffffff07'],
    [-(2 ** 30), 'ffffffff07'],
    [2 ** 30, '8080808008'],
    [-(2 ** 30) - 1, '8180808008'],
    [INT32_MAX, 'feffffff0f'],
    [INT32_MIN, 'ffffffff0f'],
    [2 ** 31, '8080808010'],
    [-(2 ** 31) - 1, '8180808010'],
    [2 ** 32, '8080808020'],
    // A real timestamp: 2017-11-04, as in the recorded fixtures.
    [1509827900073, 'd2ca8b8cf157'],
    [2 ** 52, '8080808080808010'],
    [Number.MAX_SAFE_INTEGER, 'feffffffffffff1f'],
    [-Number.MAX_SAFE_INTEGER, 'fdffffffffffff1f'],
    [2 ** 53, '8080808080808020'],
    [-(2 ** 53), 'ffffffffffffff1f'],
  ]

  it.each(known)('encodes %d as %s', (value, hex) => {
    // The expected bytes are kafkajs's (BigInt arithmetic), so this table is checked, not trusted.
    expect(kafkajsVarlong(value).toString('hex')).toBe(hex)
    expect(encodeVarlong(value).toString('hex')).toBe(hex)
    expect(sizeOfVarlong(value)).toBe(hex.length / 2)
    const buf = Buffer.from(hex, 'hex')
    expect(readVarlong(buf, 0)).toBe(value)
    expect(varintEnd).toBe(buf.length)
  })

  it('round-trips every power-of-two boundary up to 2^53, positive and negative', () => {
    for (let k = 0; k <= 53; k++) {
      for (const v of [2 ** k - 1, 2 ** k, -(2 ** k), -(2 ** k) + 1, -(2 ** k - 1) - 1]) {
        const bytes = encodeVarlong(v)
        expect(bytes.length, `size of ${v}`).toBe(sizeOfVarlong(v))
        expect(bytes.toString('hex'), `bytes of ${v}`).toBe(kafkajsVarlong(v).toString('hex'))
        expect(readVarlong(bytes, 0), `read of ${v}`).toBe(v)
      }
    }
  })

  it('matches kafkajs byte for byte on 20,000 random safe integers, both ways', () => {
    const rand = prng(0x7a11)
    for (let i = 0; i < 20_000; i++) {
      const v = randomSafeInteger(rand)
      const ours = encodeVarlong(v)
      const theirs = kafkajsVarlong(v)
      if (!ours.equals(theirs)) expect.fail(`varlong ${v}: ours ${ours.toString('hex')} kafkajs ${theirs.toString('hex')}`)
      expect(ours.length).toBe(sizeOfVarlong(v))
      expect(KafkaEncoder.sizeOfVarLong(v)).toBe(ours.length)
      expect(readVarlong(theirs, 0)).toBe(v)
      expect(new KafkaDecoder(ours).readVarLong().toString()).toBe(String(v))
    }
  })

  it('round-trips timestamp-like values and deltas between them', () => {
    const rand = prng(0x1234)
    for (let i = 0; i < 2_000; i++) {
      const a = Math.floor(rand() * 4_102_444_800_000) // up to year 2100
      const b = Math.floor(rand() * 4_102_444_800_000)
      for (const v of [a, -a, a - b]) {
        const bytes = encodeVarlong(v)
        expect(readVarlong(bytes, 0)).toBe(v)
        expect(bytes.equals(kafkajsVarlong(v))).toBe(true)
      }
    }
  })

  it('accepts the longest legal varlong (10 bytes) and rejects an 11th byte', () => {
    // Zig-zag 2^63 - 1 would be 10 bytes; the value is beyond 2^53, so only the length is checked.
    const ten = Buffer.from('feffffffffffffffff01', 'hex')
    readVarlong(ten, 0)
    expect(varintEnd).toBe(10)
    expect(() => readVarlong(Buffer.from('8080808080808080808001', 'hex'), 0)).toThrow(/longer than 10 bytes/)
    expect(() => readVarlong(Buffer.alloc(16, 0x80), 0)).toThrow(VarintError)
  })

  it('rejects a truncated varlong', () => {
    for (const hex of ['80', 'ffffffff', 'd2ca8b8cf1']) {
      expect(() => readVarlong(Buffer.from(hex, 'hex'), 0)).toThrow(VarintError)
    }
    expect(() => readVarlong(Buffer.alloc(0), 0)).toThrow(/past the end/)
  })

  it('writes the same bytes as writeVarint for values inside int32', () => {
    const rand = prng(99)
    for (let i = 0; i < 2_000; i++) {
      const v = randomInt32(rand)
      expect(encodeVarlong(v).equals(encodeVarint(v))).toBe(true)
      expect(sizeOfVarlong(v)).toBe(sizeOfVarint(v))
    }
  })
})
