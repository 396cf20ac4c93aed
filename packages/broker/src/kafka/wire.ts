/**
 * The Kafka protocol's primitive types: a bounds-checked Reader over a request body and a Writer
 * that encodes a response straight into one growable Buffer.
 *
 * Everything a client sends is hostile until parsed, so the Reader checks every length against the
 * bytes left before touching them and throws KafkaProtocolError (naming the field and position),
 * never a RangeError from Buffer and never a huge allocation from a forged count.
 *
 * Big-endian fixed-width integers; INT64 values are JavaScript numbers, refused past 2^53 (offsets
 * and ids in Samsa are safe integers). Strings are int16-length UTF-8 (-1 = null), BYTES int32-length
 * (-1 = null), arrays int32-count (-1 = null). The flexible encoding (compact strings and arrays with
 * unsigned varint lengths + 1, tagged fields) is used only by ApiVersions v3 and its request header.
 */
import { KafkaProtocolError } from '../errors.js'

const TWO_32 = 0x1_0000_0000

export class Reader {
  pos: number

  constructor(
    readonly buf: Buffer,
    /** Names the message in errors, e.g. "Fetch v11 request". */
    readonly what = 'request',
    start = 0,
  ) {
    this.pos = start
  }

  get remaining(): number {
    return this.buf.length - this.pos
  }

  fail(message: string): never {
    throw new KafkaProtocolError(`${this.what}: ${message} (at byte ${this.pos} of ${this.buf.length})`)
  }

  private need(n: number, field: string): void {
    if (n > this.buf.length - this.pos) this.fail(`${field} needs ${n} bytes, only ${this.buf.length - this.pos} left`)
  }

  int8(field = 'int8'): number {
    this.need(1, field)
    return this.buf.readInt8(this.pos++)
  }

  bool(field = 'boolean'): boolean {
    return this.int8(field) !== 0
  }

  int16(field = 'int16'): number {
    this.need(2, field)
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }

  int32(field = 'int32'): number {
    this.need(4, field)
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  uint32(field = 'uint32'): number {
    this.need(4, field)
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }

  /** INT64 as a number; values beyond +-(2^53 - 1) are a protocol error rather than silently rounded. */
  int64(field = 'int64'): number {
    this.need(8, field)
    const hi = this.buf.readInt32BE(this.pos)
    const lo = this.buf.readUInt32BE(this.pos + 4)
    // |hi| < 2^21 keeps hi * 2^32 + lo within 2^53; -2^21 with lo 0 is -2^53, not safe either.
    if (hi >= 0x200000 || hi < -0x200000 || (hi === -0x200000 && lo === 0)) {
      this.fail(`${field} ${this.buf.readBigInt64BE(this.pos)} is beyond 2^53`)
    }
    this.pos += 8
    return hi * TWO_32 + lo
  }

  nullableString(field = 'string'): string | null {
    const len = this.int16(`${field} length`)
    if (len === -1) return null
    if (len < 0) this.fail(`${field} has length ${len}`)
    this.need(len, field)
    const s = this.buf.toString('utf8', this.pos, this.pos + len)
    this.pos += len
    return s
  }

  string(field = 'string'): string {
    const s = this.nullableString(field)
    if (s === null) this.fail(`${field} is null`)
    return s
  }

  /** BYTES/RECORDS: a view into the request buffer, not a copy. */
  nullableBytes(field = 'bytes'): Buffer | null {
    const len = this.int32(`${field} length`)
    if (len === -1) return null
    if (len < 0) this.fail(`${field} has length ${len}`)
    this.need(len, field)
    const b = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return b
  }

  bytes(field = 'bytes'): Buffer {
    const b = this.nullableBytes(field)
    if (b === null) this.fail(`${field} is null`)
    return b
  }

  private count(n: number, field: string): void {
    if (n < 0) this.fail(`${field} has count ${n}`)
    // Every element of every array in the protocol takes at least one byte: a count above the
    // bytes left is forged, and refusing it early avoids looping on it.
    if (n > this.remaining) this.fail(`${field} claims ${n} elements with ${this.remaining} bytes left`)
  }

  nullableArray<T>(item: (r: Reader, i: number) => T, field = 'array'): T[] | null {
    const n = this.int32(`${field} count`)
    if (n === -1) return null
    this.count(n, field)
    const out = new Array<T>(n)
    for (let i = 0; i < n; i++) out[i] = item(this, i)
    return out
  }

  array<T>(item: (r: Reader, i: number) => T, field = 'array'): T[] {
    const a = this.nullableArray(item, field)
    if (a === null) this.fail(`${field} is null`)
    return a
  }

  // ------------------------------------------------------------------------------------------
  // Varints and the flexible (compact) encoding

  /** Unsigned LEB128, at most 5 bytes (an int32), as the flexible encoding's lengths and tags. */
  uvarint(field = 'varint'): number {
    let result = 0
    for (let shift = 0; shift <= 28; shift += 7) {
      this.need(1, field)
      const b = this.buf[this.pos++]
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) this.fail(`${field} does not fit 32 bits`)
        return result
      }
    }
    this.fail(`${field} is longer than 5 bytes`)
  }

  /** Zig-zag signed varint (as in records). */
  varint(field = 'varint'): number {
    const u = this.uvarint(field)
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2
  }

  /**
   * Zig-zag signed varlong, exact within 2^53. The zig-zag value of a large magnitude is not a
   * double, so the sign bit (bit 0) is split off first and the magnitude accumulated on its own.
   */
  varlong(field = 'varlong'): number {
    let magnitude = 0
    let negative = false
    for (let shift = 0; shift <= 63; shift += 7) {
      this.need(1, field)
      const b = this.buf[this.pos++]
      if (shift === 0) {
        negative = (b & 1) === 1
        magnitude = (b & 0x7f) >> 1
      } else {
        magnitude += (b & 0x7f) * 2 ** (shift - 1)
      }
      if ((b & 0x80) === 0) {
        const value = negative ? -magnitude - 1 : magnitude
        if (!Number.isSafeInteger(value)) this.fail(`${field} is beyond 2^53`)
        return value
      }
    }
    this.fail(`${field} is longer than 10 bytes`)
  }

  compactNullableString(field = 'compact string'): string | null {
    const n = this.uvarint(`${field} length`)
    if (n === 0) return null
    const len = n - 1
    this.need(len, field)
    const s = this.buf.toString('utf8', this.pos, this.pos + len)
    this.pos += len
    return s
  }

  compactString(field = 'compact string'): string {
    const s = this.compactNullableString(field)
    if (s === null) this.fail(`${field} is null`)
    return s
  }

  compactArray<T>(item: (r: Reader, i: number) => T, field = 'compact array'): T[] {
    const n = this.uvarint(`${field} count`)
    if (n === 0) this.fail(`${field} is null`)
    this.count(n - 1, field)
    const out = new Array<T>(n - 1)
    for (let i = 0; i < n - 1; i++) out[i] = item(this, i)
    return out
  }

  /** Skip a tagged-field section: none of the tags this server reads carry meaning for it. */
  taggedFields(field = 'tagged fields'): void {
    const n = this.uvarint(`${field} count`)
    this.count(n, field)
    for (let i = 0; i < n; i++) {
      this.uvarint(`${field} tag`)
      const size = this.uvarint(`${field} size`)
      this.need(size, field)
      this.pos += size
    }
  }

  /** Every byte of the message must have been read: trailing bytes mean a misread layout. */
  end(): void {
    if (this.pos !== this.buf.length) this.fail(`${this.buf.length - this.pos} bytes left over`)
  }
}

/** Buffers at least this large are appended by reference instead of copied (stored batches in Fetch). */
const REFERENCE_THRESHOLD = 16 * 1024

export class Writer {
  private buf: Buffer
  private pos = 0
  /** Finished pieces, in order, before `buf`: filled parts of earlier buffers and referenced bodies. */
  private readonly done: Buffer[] = []
  private doneLength = 0

  constructor(initialSize = 1024) {
    this.buf = Buffer.allocUnsafe(initialSize)
  }

  /** Bytes written so far. */
  get length(): number {
    return this.doneLength + this.pos
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  int8(v: number): this {
    this.ensure(1)
    this.buf.writeInt8(v, this.pos)
    this.pos += 1
    return this
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0)
  }

  int16(v: number): this {
    this.ensure(2)
    this.buf.writeInt16BE(v, this.pos)
    this.pos += 2
    return this
  }

  int32(v: number): this {
    this.ensure(4)
    this.buf.writeInt32BE(v, this.pos)
    this.pos += 4
    return this
  }

  uint32(v: number): this {
    this.ensure(4)
    this.buf.writeUInt32BE(v, this.pos)
    this.pos += 4
    return this
  }

  /** INT64 from a safe integer, without BigInt: the high word by floor division keeps negatives right. */
  int64(v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError(`int64 value ${v} is not a safe integer`)
    const hi = Math.floor(v / TWO_32)
    this.ensure(8)
    this.buf.writeInt32BE(hi, this.pos)
    this.buf.writeUInt32BE(v - hi * TWO_32, this.pos + 4)
    this.pos += 8
    return this
  }

  nullableString(s: string | null): this {
    if (s === null) return this.int16(-1)
    const len = Buffer.byteLength(s, 'utf8')
    if (len > 0x7fff) throw new RangeError(`a string of ${len} bytes does not fit an int16 length`)
    this.int16(len)
    this.ensure(len)
    this.pos += this.buf.write(s, this.pos, len, 'utf8')
    return this
  }

  string(s: string): this {
    return this.nullableString(s)
  }

  /** BYTES/RECORDS. Large buffers are kept by reference and never copied. */
  nullableBytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1)
    this.int32(b.length)
    return this.raw(b)
  }

  bytes(b: Buffer): this {
    return this.nullableBytes(b)
  }

  /** Bytes as they are, without a length. */
  raw(b: Buffer): this {
    if (b.length >= REFERENCE_THRESHOLD) {
      this.flushPending()
      this.done.push(b)
      this.doneLength += b.length
      return this
    }
    this.ensure(b.length)
    b.copy(this.buf, this.pos)
    this.pos += b.length
    return this
  }

  /** Several buffers as one BYTES field (the stored batches of one partition in Fetch). */
  bytesFrom(parts: readonly Buffer[]): this {
    let total = 0
    for (const p of parts) total += p.length
    this.int32(total)
    for (const p of parts) this.raw(p)
    return this
  }

  nullableArray<T>(items: readonly T[] | null, item: (w: Writer, v: T) => void): this {
    if (items === null) return this.int32(-1)
    this.int32(items.length)
    for (const v of items) item(this, v)
    return this
  }

  array<T>(items: readonly T[], item: (w: Writer, v: T) => void): this {
    return this.nullableArray(items, item)
  }

  uvarint(v: number): this {
    this.ensure(5)
    let u = v >>> 0
    while (u >= 0x80) {
      this.buf[this.pos++] = (u & 0x7f) | 0x80
      u >>>= 7
    }
    this.buf[this.pos++] = u
    return this
  }

  compactNullableString(s: string | null): this {
    if (s === null) return this.uvarint(0)
    const len = Buffer.byteLength(s, 'utf8')
    this.uvarint(len + 1)
    this.ensure(len)
    this.pos += this.buf.write(s, this.pos, len, 'utf8')
    return this
  }

  compactString(s: string): this {
    return this.compactNullableString(s)
  }

  compactArray<T>(items: readonly T[], item: (w: Writer, v: T) => void): this {
    this.uvarint(items.length + 1)
    for (const v of items) item(this, v)
    return this
  }

  /** An empty tagged-field section. */
  emptyTaggedFields(): this {
    return this.uvarint(0)
  }

  private flushPending(): void {
    if (this.pos === 0) return
    this.done.push(this.buf.subarray(0, this.pos))
    this.doneLength += this.pos
    // The old buffer is now owned by `done`; start a fresh one.
    this.buf = Buffer.allocUnsafe(Math.max(1024, this.buf.length - this.pos))
    this.pos = 0
  }

  /** The encoded bytes as pieces to write in order (no copy of referenced bodies). */
  chunks(): Buffer[] {
    const out = [...this.done]
    if (this.pos > 0) out.push(this.buf.subarray(0, this.pos))
    return out
  }

  /** The encoded bytes as one Buffer (copies when there are several pieces). */
  toBuffer(): Buffer {
    const c = this.chunks()
    return c.length === 1 ? c[0] : Buffer.concat(c, this.length)
  }
}
