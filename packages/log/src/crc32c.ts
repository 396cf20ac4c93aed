/**
 * CRC-32C (Castagnoli), as Kafka's RecordBatch v2 stores it.
 *
 * Every batch is checksummed when it is appended and checked on every read and recovery, so this
 * is on the hot path of both. Three implementations, the first one this machine has:
 * - Samsa's own addon (native/crc32c.c, built at install where a compiler is: see
 *   scripts/build-native.mjs): carry-less multiplication, ~11 GB/s here, and it takes a range of
 *   the caller's buffer, so a batch inside a larger buffer needs no view. Worth its ~100 ns call
 *   from about 128 bytes.
 * - @node-rs/crc32 (prebuilt for common platforms; the SSE4.2 / ARMv8 CRC instructions, ~4 GB/s
 *   here) from 1 KiB, where its call and the view it needs (~0.5 µs) pay off.
 * - Slicing-by-16 in JavaScript (~1 GB/s) for the rest, and everywhere without a native binding.
 * All three give the same checksums; crc32c.test.ts holds them to it.
 */
import { createRequire } from 'node:module'

type NativeCrc = (input: Uint8Array, initial?: number) => number
type RangeCrc = (input: Uint8Array, start: number, end: number) => number

const ADDON_MIN_BYTES = 128
const NATIVE_MIN_BYTES = 1024
const POLYNOMIAL = 0x82f63b78 // reflected Castagnoli
const CHECK = Buffer.from('123456789')
const CHECK_CRC = 0xe3069283

/** TABLES[k * 256 + b]: the CRC of byte b followed by k zero bytes. */
const TABLES = makeTables()

function makeTables(): Int32Array {
  const t = new Int32Array(16 * 256)
  for (let b = 0; b < 256; b++) {
    let c = b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1
    t[b] = c
  }
  for (let b = 0; b < 256; b++) {
    for (let k = 1; k < 16; k++) {
      const prev = t[(k - 1) * 256 + b]
      t[k * 256 + b] = (prev >>> 8) ^ t[prev & 0xff]
    }
  }
  return t
}

const requireHere = createRequire(import.meta.url)

/** The addon, if it was built and this CPU has its instructions (it exports nothing otherwise). */
function loadAddon(): RangeCrc | null {
  if (process.env.SAMSA_PURE_JS_CRC === '1' || process.env.SAMSA_NO_NATIVE === '1') return null
  try {
    // dist/crc32c.js and src/crc32c.ts both sit one level under the package.
    const mod = requireHere('../build/Release/samsa_crc32c.node') as { crc32c?: RangeCrc }
    return typeof mod.crc32c === 'function' && mod.crc32c(CHECK, 0, CHECK.length) === CHECK_CRC ? mod.crc32c : null
  } catch {
    return null
  }
}

function loadNative(): NativeCrc | null {
  if (process.env.SAMSA_PURE_JS_CRC === '1') return null
  try {
    const mod = requireHere('@node-rs/crc32') as { crc32c: NativeCrc }
    return mod.crc32c(CHECK) === CHECK_CRC ? mod.crc32c : null
  } catch {
    return null
  }
}

const addon = loadAddon()
const native = loadNative()

/** Which implementation checksums large inputs: 'clmul' (Samsa's addon), 'node-rs' or 'js'. */
export const crc32cImplementation: 'clmul' | 'node-rs' | 'js' = addon !== null ? 'clmul' : native !== null ? 'node-rs' : 'js'

/** CRC-32C of `buf[start, end)`, as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const length = end - start
  if (addon !== null && length >= ADDON_MIN_BYTES && start >= 0 && end <= buf.length) return addon(buf, start, end)
  if (native !== null && length >= NATIVE_MIN_BYTES) {
    return native(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0
  }
  return crc32cJs(buf, start, end)
}

/** The addon alone, or null where it is not loaded (exported for tests). */
export const crc32cAddon: RangeCrc | null = addon

/** @node-rs/crc32 over `buf[start, end)`, or null where it is not loaded (exported for tests). */
export const crc32cNodeRs: RangeCrc | null =
  native === null ? null : (buf, start, end) => native(buf.subarray(start, end)) >>> 0

/** The JavaScript implementation, whatever the size (exported for tests). */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length): number {
  const T = TABLES
  let c = ~0
  let i = start
  for (const last = end - 16; i <= last; i += 16) {
    c ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)
    c =
      T[3840 + (c & 0xff)] ^
      T[3584 + ((c >>> 8) & 0xff)] ^
      T[3328 + ((c >>> 16) & 0xff)] ^
      T[3072 + (c >>> 24)] ^
      T[2816 + buf[i + 4]] ^
      T[2560 + buf[i + 5]] ^
      T[2304 + buf[i + 6]] ^
      T[2048 + buf[i + 7]] ^
      T[1792 + buf[i + 8]] ^
      T[1536 + buf[i + 9]] ^
      T[1280 + buf[i + 10]] ^
      T[1024 + buf[i + 11]] ^
      T[768 + buf[i + 12]] ^
      T[512 + buf[i + 13]] ^
      T[256 + buf[i + 14]] ^
      T[buf[i + 15]]
  }
  for (; i < end; i++) c = (c >>> 8) ^ T[(c ^ buf[i]) & 0xff]
  return ~c >>> 0
}
