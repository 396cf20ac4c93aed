/**
 * Zig-zag LEB128 varints as Kafka's RecordBatch v2 uses them (ByteUtils.writeVarint/writeVarlong).
 *
 * Numbers in Samsa are JavaScript numbers: int32 varints use bit operations, and the 64-bit
 * varlongs (timestamp deltas) use arithmetic, exact up to 2^53, which covers any real timestamp.
 * The writers return the new position so the encoder can write straight into one Buffer.
 */

/** Bytes that `writeVarint(value)` takes. */
export function sizeOfVarint(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0
  let bytes = 1
  while (v >= 0x80) {
    v >>>= 7
    bytes++
  }
  return bytes
}

export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  buf[pos++] = v
  return pos
}

/** Zig-zag of a 64-bit value, as a non-negative number (exact below 2^53). */
function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1
}

export function sizeOfVarlong(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return sizeOfVarint(value)
  let v = zigzag64(value)
  let bytes = 1
  while (v >= 0x80) {
    v = Math.floor(v / 128)
    bytes++
  }
  return bytes
}

export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeVarint(buf, pos, value)
  let v = zigzag64(value)
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  buf[pos++] = v
  return pos
}

/**
 * Decoding keeps its cursor in a module-level slot instead of returning a tuple, so the
 * read path allocates nothing per varint. Callers read `varintEnd` right after the call.
 */
export let varintEnd = 0

export class VarintError extends Error {}

export function readVarint(buf: Uint8Array, pos: number): number {
  let result = 0
  let shift = 0
  let b: number
  do {
    if (pos >= buf.length) throw new VarintError('varint runs past the end of the buffer')
    if (shift > 28) throw new VarintError('varint is longer than 5 bytes')
    b = buf[pos++]
    result |= (b & 0x7f) << shift
    shift += 7
  } while (b & 0x80)
  varintEnd = pos
  return (result >>> 1) ^ -(result & 1)
}

export function readVarlong(buf: Uint8Array, pos: number): number {
  let result = 0
  let mul = 1
  let b: number
  do {
    if (pos >= buf.length) throw new VarintError('varlong runs past the end of the buffer')
    if (mul > 2 ** 63) throw new VarintError('varlong is longer than 10 bytes')
    b = buf[pos++]
    result += (b & 0x7f) * mul
    mul *= 128
  } while (b & 0x80)
  varintEnd = pos
  // Undo zig-zag with arithmetic: exact for magnitudes below 2^53.
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2
}
