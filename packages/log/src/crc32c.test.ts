import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { crc32c, crc32cAddon, crc32cImplementation, crc32cJs, crc32cNodeRs } from './crc32c.js'
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

/** Why this machine cannot build and load the addon, or null if it can (see build-native.mjs). */
function whyNoAddon(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `${process.platform}-${process.arch} (the addon is x86-64 only)`
  const flags = readFileSync('/proc/cpuinfo', 'utf8')
  if (!/\bpclmulqdq\b/.test(flags) || !/\bsse4_2\b/.test(flags)) return 'a CPU without PCLMULQDQ and SSE4.2'
  for (const tool of ['cc', 'make', 'python3']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) return `no ${tool} on PATH`
  }
  if (!existsSync(join(dirname(process.execPath), '..', 'include', 'node', 'node_api.h'))) return "no Node headers beside node"
  if (process.env.SAMSA_NO_NATIVE === '1' || process.env.SAMSA_PURE_JS_CRC === '1') return 'turned off by the environment'
  return null
}

describe('crc32c in the native addon (carry-less multiplication)', () => {
  const why = whyNoAddon()

  it('is built and in use wherever it can be built, and falls back where it cannot', () => {
    if (why === null) {
      // A machine with the compiler and the CPU: `pnpm install` (or `pnpm build`) must have built it.
      expect(crc32cAddon, 'packages/log/build/Release/samsa_crc32c.node: run `pnpm install` or `node packages/log/scripts/build-native.mjs`').not.toBeNull()
      expect(crc32cImplementation).toBe('clmul')
    } else {
      expect(crc32cAddon, `not expected here: ${why}`).toBeNull()
      expect(['node-rs', 'js']).toContain(crc32cImplementation)
    }
  })

  // Where it cannot be built there is nothing to compare; the test above says why.
  it.runIf(why === null)('agrees with JavaScript at every length to 4 KiB, at every alignment, and on ranges to 1 MiB', () => {
    const addon = crc32cAddon!
    const rand = prng(0xc1c1)
    const buf = randomBytes(rand, (1 << 20) + 64)
    for (let length = 0; length <= 4096; length++) {
      const at = length % 64
      const ours = addon(buf, at, at + length)
      if (ours !== crc32cJs(buf, at, at + length)) expect.fail(`length ${length} at ${at}`)
    }
    for (let i = 0; i < 100; i++) {
      const start = Math.floor(rand() * 64)
      const end = start + Math.floor(rand() ** 2 * (1 << 20))
      expect(addon(buf, start, end)).toBe(crc32cJs(buf, start, end))
    }
    expect(addon(buf, 0, buf.length)).toBe(kafkajsCrc32C(buf))
  })

  it.runIf(why === null)('refuses a range outside the array instead of reading past it', () => {
    const addon = crc32cAddon!
    const buf = Buffer.alloc(256)
    expect(() => addon(buf, 0, 257)).toThrow(RangeError)
    expect(() => addon(buf, 10, 5)).toThrow(RangeError)
    expect(() => addon(buf, -1, 5)).toThrow(RangeError)
    expect(() => addon('not bytes' as unknown as Uint8Array, 0, 1)).toThrow(TypeError)
    // The exported crc32c never hands it such a range.
    expect(crc32c(buf, 0, 256)).toBe(crc32cJs(buf, 0, 256))
  })

  it.runIf(why === null)('loads in worker threads too (read-ahead checks batches on one)', async () => {
    // A worker runs plain JavaScript, so it takes the built module (`pnpm test` builds first).
    const built = new URL('../dist/crc32c.js', import.meta.url).href
    const source = `
      const { parentPort } = require('node:worker_threads')
      import(${JSON.stringify(built)}).then(({ crc32c, crc32cImplementation }) => {
        parentPort.postMessage({ implementation: crc32cImplementation, crc: crc32c(Buffer.alloc(100000, 7), 3, 99999) })
      })
    `
    const worker = new Worker(source, { eval: true })
    const answer = await new Promise<{ implementation: string; crc: number }>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    await worker.terminate()
    expect(answer.implementation).toBe('clmul')
    expect(answer.crc).toBe(crc32cJs(Buffer.alloc(100_000, 7), 3, 99_999))
  })
})

describe('crc32c in @node-rs/crc32 (used where the addon is not built)', () => {
  it.runIf(crc32cNodeRs !== null)('agrees with JavaScript on random ranges of 1 KiB to 256 KiB', () => {
    const rand = prng(0x4e52)
    const buf = randomBytes(rand, 300_000)
    for (let i = 0; i < 100; i++) {
      const start = Math.floor(rand() * 1000)
      const end = start + 1024 + Math.floor(rand() * 255 * 1024)
      expect(crc32cNodeRs!(buf, start, end)).toBe(crc32cJs(buf, start, end))
    }
  })
})
