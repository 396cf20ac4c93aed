/**
 * CRC-32C (Castagnoli), as Kafka's RecordBatch v2 stores it.
 *
 * Every batch is checked on every read, so this is on the hot path of consumption. Large inputs
 * go to @node-rs/crc32 (SSE4.2 / ARMv8 CRC instructions, about 3x the JavaScript speed here);
 * small ones stay in JavaScript, where a native call (~0.5 µs) would cost more than the checksum.
 * The JavaScript one is slicing-by-16 over [start, end) of the caller's buffer, so that the
 * checksum of a batch inside a larger buffer needs no view (a Buffer view costs ~130 ns here, as
 * much as the CRC of a single-record batch). It is also the fallback on platforms without a
 * prebuilt native binding.
 */
import { createRequire } from 'node:module'

type NativeCrc = (input: Uint8Array, initial?: number) => number

const NATIVE_MIN_BYTES = 1024
const POLYNOMIAL = 0x82f63b78 // reflected Castagnoli

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

function loadNative(): NativeCrc | null {
  if (process.env.SAMSA_PURE_JS_CRC === '1') return null
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: NativeCrc }
    return mod.crc32c(Buffer.from('123456789')) === 0xe3069283 ? mod.crc32c : null
  } catch {
    return null
  }
}

const native = loadNative()

/** Whether the hardware-accelerated implementation is in use. */
export const crc32cNative = native !== null

/** CRC-32C of `buf[start, end)`, as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  if (native !== null && end - start >= NATIVE_MIN_BYTES) {
    return native(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0
  }
  return crc32cJs(buf, start, end)
}

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
