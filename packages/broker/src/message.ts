/**
 * The messages `producer.send` takes, checked before anything is queued, so a bad message in a
 * call writes nothing of that call: types of key, value, headers, timestamp and partition, and the
 * size against the topic's maxMessageBytes.
 *
 * A message's size is its encoded record (Kafka's record framing around key, value and headers)
 * counted with the largest framing it can get in a batch: 10 bytes for its timestamp delta and
 * 5 for its offset delta. That bound is what the limit applies to, so whether a message fits never
 * depends on which batch it ends up in.
 */
import { sizeOfVarint, type HeadersInput, type RecordInput } from '@samsa/log'
import { InvalidMessageError } from './errors.js'

export type MessageBytes = Buffer | Uint8Array | string | null | undefined

export interface Message {
  key?: MessageBytes
  value?: MessageBytes
  headers?: HeadersInput
  /** Explicit partition; wins over the key. */
  partition?: number | null
  /** Milliseconds since the epoch; defaults to the time of the send. */
  timestamp?: number
}

/** Largest framing of a record in a batch: attributes, timestamp delta, offset delta. */
const MAX_FIXED_FRAMING = 1 + 10 + 5

function bytesLength(b: unknown, what: string, index: number): number {
  if (b === null || b === undefined) return -1
  if (typeof b === 'string') return Buffer.byteLength(b)
  if (b instanceof Uint8Array) return b.length
  throw new InvalidMessageError(
    `message ${index} has a ${what} of type ${typeof b}; keys, values and header values must be a Buffer, a string or null`,
  )
}

function fieldSize(len: number): number {
  return sizeOfVarint(len) + (len > 0 ? len : 0)
}

function headersSize(headers: unknown, index: number): number {
  if (headers === undefined || headers === null) return 1
  if (Array.isArray(headers)) {
    let size = sizeOfVarint(headers.length)
    for (const h of headers) {
      if (h === null || typeof h !== 'object' || typeof (h as { key?: unknown }).key !== 'string') {
        throw new InvalidMessageError(`message ${index} has a header that is not { key: string, value }`)
      }
      size += fieldSize(Buffer.byteLength((h as { key: string }).key)) + fieldSize(bytesLength((h as { value?: unknown }).value, 'header value', index))
    }
    return size
  }
  if (typeof headers !== 'object') {
    throw new InvalidMessageError(`message ${index} has headers of type ${typeof headers}; give an array of { key, value } or an object`)
  }
  let count = 0
  let size = 0
  for (const key of Object.keys(headers)) {
    const v = (headers as Record<string, unknown>)[key]
    const values = Array.isArray(v) ? v : [v]
    for (const item of values) {
      count++
      size += fieldSize(Buffer.byteLength(key)) + fieldSize(bytesLength(item, 'header value', index))
    }
  }
  return sizeOfVarint(count) + size
}

/**
 * Check one message and return its size bound (see the module comment). Throws
 * InvalidMessageError for a wrong shape; the partition is checked by the producer, which knows
 * the topic's partition count.
 */
export function checkMessage(message: unknown, index: number): number {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw new InvalidMessageError(`message ${index} must be an object like { key, value, headers }, got ${message === null ? 'null' : Array.isArray(message) ? 'an array' : typeof message}`)
  }
  const m = message as Message
  const ts = m.timestamp
  if (ts !== undefined && (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0)) {
    throw new InvalidMessageError(`message ${index} has timestamp ${String(ts)}; use milliseconds since the epoch`)
  }
  const body =
    MAX_FIXED_FRAMING + fieldSize(bytesLength(m.key, 'key', index)) + fieldSize(bytesLength(m.value, 'value', index)) + headersSize(m.headers, index)
  return sizeOfVarint(body) + body
}

/** The message as the log encodes it (the user's object itself: encodeBatch reads only these fields). */
export function asRecord(message: Message): RecordInput {
  return message as RecordInput
}
