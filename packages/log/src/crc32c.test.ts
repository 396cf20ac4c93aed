import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { crc32c, crc32cJs } from './crc32c.js'
import { prng } from './test-support/storage-fixtures.js'

const require = createRequire(import.meta.url)
const kafkajsCrc32C: (buf: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C')

function randomBytes(rand: () => number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) buf[i] = Math.floor(rand() * 256)
  return buf
}

describe('crc32c', () => {
  it('gives the standard CRC-32C check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283)
  })

  it('gives the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(Buffer.alloc(0))).toBe(0)
    expect(crc32c(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa)
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43)
    const ascending = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
    expect(crc32c(ascending)).toBe(0x46dd794e)
    const descending = Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))
    expect(crc32c(descending)).toBe(0x113fdb5c)
  })

  it('is unsigned: a CRC with the top bit set stays positive', () => {
    // 0xE3069283 has the top bit set; a signed result would be negative.
    const value = crc32c(Buffer.from('123456789'))
    expect(value).toBeGreaterThan(0x7fffffff)
    expect(value).toBeLessThanOrEqual(0xffffffff)
  })

  it('agrees with kafkajs on 500 random buffers of 0 to 64 KiB', () => {
    const rand = prng(0xc3c3)
    for (let i = 0; i < 500; i++) {
      const length = i < 64 ? i : Math.floor(rand() ** 3 * 65_536)
      const buf = randomBytes(rand, length)
      const ours = crc32c(buf)
      const theirs = kafkajsCrc32C(buf)
      if (ours !== theirs) expect.fail(`length ${length}: ours ${ours.toString(16)} kafkajs ${theirs.toString(16)}`)
    }
  })

  it('computes over [start, end) exactly as over a copy of that range', () => {
    const rand = prng(0xbeef)
    const buf = randomBytes(rand, 4096)
    for (let i = 0; i < 300; i++) {
      const start = Math.floor(rand() * buf.length)
      const end = start + Math.floor(rand() * (buf.length - start + 1))
      const copy = Buffer.from(buf.subarray(start, end))
      expect(crc32c(buf, start, end)).toBe(kafkajsCrc32C(copy))
    }
  })

  it('respects a Buffer that is a view into a larger allocation', () => {
    const backing = Buffer.from('xx123456789yy')
    const view = backing.subarray(2, 11)
    expect(crc32c(view)).toBe(0xe3069283)
    expect(crc32c(backing, 2, 11)).toBe(0xe3069283)
  })

  it('changes when any single bit flips', () => {
    const rand = prng(7)
    const buf = randomBytes(rand, 256)
    const original = crc32c(buf)
    for (let bit = 0; bit < buf.length * 8; bit++) {
      buf[bit >> 3] ^= 1 << (bit & 7)
      expect(crc32c(buf)).not.toBe(original)
      buf[bit >> 3] ^= 1 << (bit & 7)
    }
    expect(crc32c(buf)).toBe(original)
  })
})

describe('crc32c in JavaScript (small inputs, and the fallback without the native binding)', () => {
  it('agrees with kafkajs at every length to 100 and on random ranges of up to 64 KiB', () => {
    const rand = prng(0x5eed)
    const buf = randomBytes(rand, 70_000)
    for (let length = 0; length <= 100; length++) {
      const at = Math.floor(rand() * 1000)
      expect(crc32cJs(buf, at, at + length)).toBe(kafkajsCrc32C(Buffer.from(buf.subarray(at, at + length))))
    }
    for (let i = 0; i < 200; i++) {
      const start = Math.floor(rand() * 4096)
      const end = start + Math.floor(rand() ** 3 * 65_536)
      expect(crc32cJs(buf, start, end)).toBe(kafkajsCrc32C(Buffer.from(buf.subarray(start, end))))
    }
    expect(crc32cJs(Buffer.from('123456789'))).toBe(0xe3069283)
  })
})
