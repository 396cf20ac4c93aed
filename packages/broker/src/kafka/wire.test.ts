import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { KafkaProtocolError } from '../errors.js'
import { Reader, Writer } from './wire.js'

const require = createRequire(import.meta.url)
const Encoder = require('kafkajs/src/protocol/encoder')
const Decoder = require('kafkajs/src/protocol/decoder')
const Long = require('kafkajs/src/utils/long')

/** Run fn and return the error it throws (failing the test if it does not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

function expectProtocolError(fn: () => unknown, match?: RegExp): void {
  const err = thrown(fn)
  expect(err).toBeInstanceOf(KafkaProtocolError)
  expect((err as KafkaProtocolError).code).toBe('SAMSA_PROTOCOL_ERROR')
  if (match !== undefined) expect((err as Error).message).toMatch(match)
}

const INT64_VALUES = [0, 1, -1, 255, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32, 2 ** 32 + 5, -(2 ** 32) - 7, 1509827900073, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]

describe('Writer and Reader', () => {
  it('round-trip every fixed-width type, string, bytes and array', () => {
    const w = new Writer(4) // tiny, so every write grows the buffer
    w.int8(-128).int8(127).bool(true).bool(false).int16(-32768).int16(32767).int32(-(2 ** 31)).int32(2 ** 31 - 1).uint32(0xffffffff)
    for (const v of INT64_VALUES) w.int64(v)
    w.string('héllo').nullableString(null).string('')
    w.bytes(Buffer.from([1, 2, 3])).nullableBytes(null).bytes(Buffer.alloc(0))
    w.array([5, 6, 7], (w, v) => w.int32(v)).nullableArray(null, (w, v: number) => w.int32(v)).array([], (w, v: number) => w.int32(v))

    const r = new Reader(w.toBuffer())
    expect([r.int8(), r.int8(), r.bool(), r.bool(), r.int16(), r.int16(), r.int32(), r.int32(), r.uint32()]).toEqual([
      -128, 127, true, false, -32768, 32767, -(2 ** 31), 2 ** 31 - 1, 0xffffffff,
    ])
    for (const v of INT64_VALUES) expect(r.int64()).toBe(v)
    expect([r.string(), r.nullableString(), r.string()]).toEqual(['héllo', null, ''])
    expect(r.bytes()).toEqual(Buffer.from([1, 2, 3]))
    expect(r.nullableBytes()).toBeNull()
    expect(r.bytes().length).toBe(0)
    expect(r.array((r) => r.int32())).toEqual([5, 6, 7])
    expect(r.nullableArray((r) => r.int32())).toBeNull()
    expect(r.array((r) => r.int32())).toEqual([])
    r.end()
  })

  it('encode exactly as KafkaJS encodes, and decode what KafkaJS encodes', () => {
    const theirs = new Encoder()
      .writeInt8(-3)
      .writeBoolean(true)
      .writeInt16(-2)
      .writeInt32(123456)
      .writeString('topic-ü')
      .writeString(null)
      .writeBytes(Buffer.from('abc'))
      .writeBytes(null)
      .writeArray([1, 2, 3])
      .writeInt32(-1) // a null array (KafkaJS writeNullableArray(null) throws)
    for (const v of INT64_VALUES) theirs.writeInt64(Long.fromValue(v))
    theirs.writeUVarIntString('compact').writeUVarInt(300).writeVarInt(-5)

    const mine = new Writer()
      .int8(-3)
      .bool(true)
      .int16(-2)
      .int32(123456)
      .string('topic-ü')
      .nullableString(null)
      .bytes(Buffer.from('abc'))
      .nullableBytes(null)
      .array([1, 2, 3], (w, v) => w.int32(v))
      .nullableArray(null, (w, v: number) => w.int32(v))
    for (const v of INT64_VALUES) mine.int64(v)
    mine.compactString('compact').uvarint(300).uvarint(9) // zig-zag of -5 is 9

    expect(mine.toBuffer()).toEqual(theirs.buffer)

    const r = new Reader(theirs.buffer)
    expect([r.int8(), r.bool(), r.int16(), r.int32(), r.string(), r.nullableString()]).toEqual([-3, true, -2, 123456, 'topic-ü', null])
    expect(r.bytes().toString()).toBe('abc')
    expect(r.nullableBytes()).toBeNull()
    expect(r.array((r) => r.int32())).toEqual([1, 2, 3])
    expect(r.nullableArray((r) => r.int32())).toBeNull()
    for (const v of INT64_VALUES) expect(r.int64()).toBe(v)
    expect(r.compactString()).toBe('compact')
    expect(r.uvarint()).toBe(300)
    expect(r.varint()).toBe(-5)
    r.end()

    // And KafkaJS reads ours.
    const d = new Decoder(mine.toBuffer())
    expect([d.readInt8(), d.readBoolean(), d.readInt16(), d.readInt32(), d.readString(), d.readString()]).toEqual([-3, true, -2, 123456, 'topic-ü', null])
  })

  it('reads zig-zag varints and varlongs as KafkaJS writes them', () => {
    const values = [0, -1, 1, 63, -64, 64, 2 ** 31 - 1, -(2 ** 31)]
    const longs = [0, -1, 1509827900073, -1509827900073, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]
    const e = new Encoder()
    for (const v of values) e.writeVarInt(v)
    for (const v of longs) e.writeVarLong(Long.fromValue(v))
    const r = new Reader(e.buffer)
    for (const v of values) expect(r.varint()).toBe(v)
    for (const v of longs) expect(r.varlong()).toBe(v)
    r.end()
  })

  it('compact arrays, nullable compact strings and tagged fields', () => {
    const w = new Writer()
      .compactArray([1, 2], (w, v) => w.int16(v).emptyTaggedFields())
      .compactNullableString(null)
      .uvarint(2) // two tagged fields: tag 0 of 3 bytes, tag 5 of 0 bytes
      .uvarint(0)
      .uvarint(3)
      .raw(Buffer.from([9, 9, 9]))
      .uvarint(5)
      .uvarint(0)
      .int8(42)
    const r = new Reader(w.toBuffer())
    expect(
      r.compactArray((r) => {
        const v = r.int16()
        r.taggedFields()
        return v
      }),
    ).toEqual([1, 2])
    expect(r.compactNullableString()).toBeNull()
    r.taggedFields()
    expect(r.int8()).toBe(42)
    r.end()
  })

  it('keep large buffers by reference instead of copying them', () => {
    const big = randomBytes(64 * 1024)
    const w = new Writer().int32(7).bytes(big).int16(1)
    const chunks = w.chunks()
    expect(chunks.some((c) => c === big)).toBe(true)
    expect(w.length).toBe(4 + 4 + big.length + 2)
    const r = new Reader(w.toBuffer())
    expect(r.int32()).toBe(7)
    expect(r.bytes().equals(big)).toBe(true)
    expect(r.int16()).toBe(1)
    r.end()
  })

  it('bytesFrom writes several buffers as one BYTES field', () => {
    const parts = [Buffer.from('ab'), randomBytes(20_000), Buffer.from('cd')]
    const r = new Reader(new Writer().bytesFrom(parts).toBuffer())
    expect(r.bytes().equals(Buffer.concat(parts))).toBe(true)
    r.end()
  })
})

describe('Reader on hostile input', () => {
  it('throws a typed error, never a RangeError, on every truncation of a valid message', () => {
    const w = new Writer().int16(1).int32(2).int64(3).string('abc').bytes(Buffer.from('xyz')).array([1, 2], (w, v) => w.int32(v)).compactString('q').uvarint(1 << 20)
    const full = w.toBuffer()
    const readAll = (r: Reader) => {
      r.int16()
      r.int32()
      r.int64()
      r.string()
      r.bytes()
      r.array((r) => r.int32())
      r.compactString()
      r.uvarint()
      r.end()
    }
    readAll(new Reader(full))
    for (let n = 0; n < full.length; n++) expectProtocolError(() => readAll(new Reader(full.subarray(0, n))), /needs|left/)
  })

  it('refuses negative lengths other than -1, and nulls where none is allowed', () => {
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xfe])).nullableString(), /length -2/)
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xff])).string('client_id'), /client_id is null/)
    expectProtocolError(() => new Reader(Buffer.from([0x80, 0, 0, 0])).nullableBytes(), /length -2147483648/)
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff])).bytes(), /is null/)
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xfd])).nullableArray((r) => r.int8()), /count -3/)
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff])).array((r) => r.int8()), /is null/)
  })

  it('refuses an array count larger than the bytes left, before looping over it', () => {
    let calls = 0
    expectProtocolError(
      () =>
        new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3])).array((r) => {
          calls++
          return r.int8()
        }, 'topics'),
      /topics claims 2147483647 elements/,
    )
    expect(calls).toBe(0)
  })

  it('refuses int64 values beyond 2^53 instead of rounding them', () => {
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(2n ** 53n)
    expectProtocolError(() => new Reader(b).int64('offset'), /offset 9007199254740992 is beyond 2\^53/)
    b.writeBigInt64BE(-(2n ** 53n))
    expectProtocolError(() => new Reader(b).int64())
    b.writeBigInt64BE(-(2n ** 63n))
    expectProtocolError(() => new Reader(b).int64())
  })

  it('refuses overlong varints and trailing bytes', () => {
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).uvarint(), /longer than 5 bytes/)
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f])).uvarint(), /32 bits/)
    expectProtocolError(() => new Reader(Buffer.alloc(11, 0xff)).varlong(), /longer than 10 bytes/)
    const r = new Reader(Buffer.from([0, 1, 2]))
    r.int8()
    expectProtocolError(() => r.end(), /2 bytes left over/)
  })

  it('random bytes read as any field sequence throw only KafkaProtocolError', () => {
    const readers: ((r: Reader) => unknown)[] = [
      (r) => r.string(),
      (r) => r.nullableString(),
      (r) => r.bytes(),
      (r) => r.array((r) => r.string()),
      (r) => r.nullableArray((r) => r.int64()),
      (r) => r.int64(),
      (r) => r.compactString(),
      (r) => r.compactArray((r) => r.int16()),
      (r) => r.taggedFields(),
      (r) => r.varlong(),
    ]
    for (let i = 0; i < 2000; i++) {
      const r = new Reader(randomBytes(i % 64))
      try {
        for (let j = 0; j < 6; j++) readers[(i + j * 7) % readers.length](r)
        r.end()
      } catch (err) {
        expect(err).toBeInstanceOf(KafkaProtocolError)
      }
    }
  })
})
