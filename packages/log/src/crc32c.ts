import CRC32C from 'crc-32/crc32c.js'

/** CRC-32C (Castagnoli) of `buf[start, end)`, as an unsigned 32-bit number, as Kafka stores it. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const view = start === 0 && end === buf.length ? buf : buf.subarray(start, end)
  return CRC32C.buf(view, 0) >>> 0
}
