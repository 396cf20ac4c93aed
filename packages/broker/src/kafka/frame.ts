/**
 * Framing of the Kafka protocol over a TCP stream: each request is an int32 big-endian size (not
 * counting itself) followed by that many bytes of request header and body.
 *
 * The size is checked against maxRequestBytes as soon as its 4 bytes arrive, before any of the body
 * is buffered, so a forged size cannot make the server hold gigabytes. A frame that lies within
 * one chunk is a view of it (no copy); otherwise the chunks are kept as a list and copied once,
 * when the frame is complete, so a large request arriving in many small TCP reads is not copied
 * again and again.
 */
import { KafkaProtocolError, RequestTooLargeError } from '../errors.js'
import { isFlexibleRequest } from './apis/index.js'
import { Reader, type Writer } from './wire.js'

export const DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024

/** api_key, api_version, correlation_id and a client_id length: the least a request can be. */
const MIN_FRAME_BYTES = 10

export class FrameDecoder {
  private chunks: Buffer[] = []
  private buffered = 0
  /** The size of the frame being received, or -1 while its size prefix is incomplete. */
  private frameSize = -1

  constructor(readonly maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES) {}

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.buffered
  }

  /**
   * Feed bytes from the socket; returns the frames (without their size prefix) now complete.
   * Throws RequestTooLargeError or KafkaProtocolError on a size prefix that cannot be honoured;
   * the connection is then unusable (its byte stream has lost its framing).
   */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = []
    if (chunk.length === 0) return frames
    this.chunks.push(chunk)
    this.buffered += chunk.length
    for (;;) {
      if (this.frameSize < 0) {
        if (this.buffered < 4) break
        const size = this.peekInt32()
        if (size < 0) throw new KafkaProtocolError(`request frame has a negative size ${size}`)
        if (size > this.maxRequestBytes) throw new RequestTooLargeError(size, this.maxRequestBytes)
        if (size < MIN_FRAME_BYTES) throw new KafkaProtocolError(`request frame of ${size} bytes is too short for a request header`)
        this.take(4)
        this.frameSize = size
      }
      if (this.buffered < this.frameSize) break
      frames.push(this.take(this.frameSize))
      this.frameSize = -1
    }
    return frames
  }

  /** The first 4 buffered bytes as an int32 (buffered >= 4), without joining the chunks they lie in. */
  private peekInt32(): number {
    const first = this.chunks[0]
    if (first.length >= 4) return first.readInt32BE(0)
    let value = 0
    for (let i = 0, c = 0, at = 0; i < 4; i++, at++) {
      while (at === this.chunks[c].length) {
        c++
        at = 0
      }
      value = value * 256 + this.chunks[c][at]
    }
    return value | 0
  }

  /** Remove and return the first n buffered bytes (n <= buffered). */
  private take(n: number): Buffer {
    const first = this.chunks[0]
    let out: Buffer
    if (first.length >= n) {
      out = first.subarray(0, n)
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
    } else {
      out = Buffer.allocUnsafe(n)
      let filled = 0
      while (filled < n) {
        const c = this.chunks[0]
        const used = Math.min(c.length, n - filled)
        c.copy(out, filled, 0, used)
        filled += used
        if (used === c.length) this.chunks.shift()
        else this.chunks[0] = c.subarray(used)
      }
    }
    this.buffered -= n
    return out
  }
}

export interface RequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
  /** 1, or 2 for a flexible request (ApiVersions v3). */
  headerVersion: 1 | 2
}

/**
 * Read the request header of a frame; returns it with a Reader positioned at the body. The body's
 * own encoding depends on the API and version, which the caller checks first.
 */
export function parseRequestHeader(frame: Buffer): { header: RequestHeader; body: Reader } {
  const r = new Reader(frame, 'request header')
  const apiKey = r.int16('api_key')
  const apiVersion = r.int16('api_version')
  const correlationId = r.int32('correlation_id')
  const clientId = r.nullableString('client_id')
  const flexible = isFlexibleRequest(apiKey, apiVersion)
  if (flexible) r.taggedFields('header tagged fields')
  return {
    header: { apiKey, apiVersion, correlationId, clientId, headerVersion: flexible ? 2 : 1 },
    body: new Reader(frame, `API ${apiKey} v${apiVersion} request`, r.pos),
  }
}

/**
 * The correlation id of a frame whose header may not parse (to answer an error), or null if even
 * that is missing.
 */
export function peekCorrelationId(frame: Buffer): number | null {
  return frame.length >= 8 ? frame.readInt32BE(4) : null
}

/**
 * A response frame as buffers to write in order: size, response header v0 (the correlation id),
 * then the body. The body's large pieces (stored batches) are not copied.
 */
export function responseFrame(correlationId: number, body: Writer): Buffer[] {
  const head = Buffer.allocUnsafe(8)
  head.writeInt32BE(4 + body.length, 0)
  head.writeInt32BE(correlationId, 4)
  return [head, ...body.chunks()]
}
