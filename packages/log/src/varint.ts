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

/*
 * The zig-zag of a 64-bit value is 2v, or 2|v| - 1 for negative v, and past 2^52 that odd number
 * is not a double. So the varlong code works on u = v (or |v| - 1) and the sign bit: the first
 * byte is the sign plus u's low 6 bits, and the rest is u / 64, all exact for safe integers.
 */
function varlongMagnitude(value: number): number {
  return value >= 0 ? value : -value - 1
}

export function sizeOfVarlong(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return sizeOfVarint(value)
  let v = Math.floor(varlongMagnitude(value) / 64)
  let bytes = 1
  while (v > 0) {
    v = Math.floor(v / 128)
    bytes++
  }
  return bytes
}

export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeVarint(buf, pos, value)
  const u = varlongMagnitude(value)
  let v = Math.floor(u / 64)
  const low = (u % 64) * 2 + (value < 0 ? 1 : 0)
  buf[pos++] = v > 0 ? low | 0x80 : low
  if (v === 0) return pos
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
  if (pos >= buf.length) throw new VarintError('varlong runs past the end of the buffer')
  // The first byte holds the sign and u's low 6 bits (see varlongMagnitude); the rest is u / 64.
  let b = buf[pos++]
  const low = b & 0x7f
  let rest = 0
  let mul = 1
  while (b & 0x80) {
    if (pos >= buf.length) throw new VarintError('varlong runs past the end of the buffer')
    if (mul > 2 ** 56) throw new VarintError('varlong is longer than 10 bytes')
    b = buf[pos++]
    rest += (b & 0x7f) * mul
    mul *= 128
  }
  varintEnd = pos
  const u = rest * 64 + (low >>> 1)
  return low & 1 ? -u - 1 : u
}
