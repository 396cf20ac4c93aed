/**
 * Cheap Buffer views for the read path: the keys and values a read hands out.
 *
 * `buf.subarray(start, end)` costs ~150-180 ns here, a third of what a decoded record cost: most
 * of it is reading `buf.buffer` and `buf.byteOffset`, getters that call into C++. Node's subarray
 * reads them from its receiver and then builds a real Buffer (its internal FastBuffer, whose
 * prototype is Buffer.prototype). Called on a plain object that holds those three fields as data
 * properties, it builds the same Buffer in ~70 ns. The views are Buffers in every way: the same
 * prototype, so `assert.deepStrictEqual(view, Buffer.from(...))` holds, and every Buffer method.
 *
 * That relies on how Node implements Buffer#subarray. The probe below checks it once at load; on a
 * Node where it does not hold, viewSource returns the Buffer itself and views cost what subarray
 * costs.
 */
const subarray = Buffer.prototype.subarray as (this: ViewSource, start: number, end: number) => Buffer

/** What viewOf reads: a Buffer's length, memory and offset in it, as plain data properties. */
export interface ViewSource {
  readonly length: number
  readonly buffer: ArrayBufferLike
  readonly byteOffset: number
}

function probe(): boolean {
  try {
    const backing = Buffer.from('0123456789')
    const view = subarray.call({ length: 8, buffer: backing.buffer, byteOffset: backing.byteOffset + 1 }, 2, 5)
    return Object.getPrototypeOf(view) === Buffer.prototype && view.byteOffset === backing.byteOffset + 3 && view.toString() === '345'
  } catch {
    return false
  }
}

const plainReceiver = probe()

/** Take once per buffer that views are cut from (a batch being decoded). */
export function viewSource(buf: Buffer): ViewSource {
  return plainReceiver ? { length: buf.length, buffer: buf.buffer, byteOffset: buf.byteOffset } : buf
}

/** A Buffer over `length` bytes of the source from `start`, sharing its memory. */
export function viewOf(source: ViewSource, start: number, length: number): Buffer {
  return subarray.call(source, start, start + length)
}
