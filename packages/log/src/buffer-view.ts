/**
 * Cheap Buffer views for the read path.
 *
 * `buf.subarray()` builds its result through the species constructor, which for a Buffer is the
 * deprecated `Buffer()` function and then `Buffer.from(arrayBuffer, ...)`, with their argument
 * checks: ~150 ns a view on these machines, a third of what a decoded record costs. Node itself
 * builds Buffers with `FastBuffer`, a bare subclass of Uint8Array whose prototype is
 * Buffer.prototype; it is not exported, so this module makes the same thing: a Uint8Array
 * subclass whose prototype chain runs through Buffer.prototype, and whose `constructor` is Buffer.
 * Its instances are Buffers in every way a caller can tell: `Buffer.isBuffer`, `instanceof`, every
 * Buffer method, `util.inspect`, `toJSON`, and `subarray` (which makes a plain Buffer). Building
 * one costs what a Uint8Array costs, ~45 ns.
 *
 * The caller guarantees the range lies inside the ArrayBuffer (the decoder has bounds-checked it).
 * It passes the ArrayBuffer and the byte offset rather than the Buffer, because reading
 * `buf.buffer` costs as much again as the view itself: take them once per batch.
 */
class BufferView extends Uint8Array {}
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype)
Object.defineProperty(BufferView.prototype, 'constructor', { value: Buffer, writable: true, configurable: true })

/** A Buffer over `length` bytes of `memory` from byte `start`, sharing that memory. */
export function viewOf(memory: ArrayBufferLike, start: number, length: number): Buffer {
  return new BufferView(memory as ArrayBuffer, start, length) as unknown as Buffer
}
