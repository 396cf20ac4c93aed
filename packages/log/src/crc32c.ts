/**
 * CRC-32C (Castagnoli), as Kafka's RecordBatch v2 stores it.
 *
 * Every batch is checked on every read, so this is on the hot path of consumption. Large inputs
 * go to @node-rs/crc32 (SSE4.2 / ARMv8 CRC instructions, about 3x the pure-JavaScript speed
 * here); small ones stay in JavaScript (crc-32), where a native call would cost more than the
 * checksum. crc-32 is also the fallback on platforms without a prebuilt native binding.
 */
import { createRequire } from 'node:module'
import CRC32C from 'crc-32/crc32c.js'

type NativeCrc = (input: Uint8Array, initial?: number) => number

const NATIVE_MIN_BYTES = 1024

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
  const view = start === 0 && end === buf.length ? buf : buf.subarray(start, end)
  if (native !== null && view.length >= NATIVE_MIN_BYTES) return native(view) >>> 0
  return CRC32C.buf(view, 0) >>> 0
}
