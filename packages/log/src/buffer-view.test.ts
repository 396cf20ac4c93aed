import assert from 'node:assert'
import { inspect, isDeepStrictEqual } from 'node:util'
import { describe, expect, it } from 'vitest'
import { viewOf, viewSource } from './buffer-view.js'
import { decodeBatch, encodeBatch } from './record-batch.js'

describe('viewOf', () => {
  const backing = Buffer.from('..hello world..')
  const view = viewOf(viewSource(backing), 2, 11)

  it('is a Buffer by every test a caller can make, down to its prototype', () => {
    const plain = Buffer.from('hello world')
    expect(Object.getPrototypeOf(view)).toBe(Buffer.prototype)
    expect(Buffer.isBuffer(view)).toBe(true)
    expect(view instanceof Buffer).toBe(true)
    expect(view.constructor).toBe(Buffer)
    expect(view.toString()).toBe('hello world')
    expect(view.toString('base64')).toBe(plain.toString('base64'))
    expect(view.readUInt8(0)).toBe(0x68)
    expect(view.equals(plain)).toBe(true)
    expect(Buffer.compare(view, plain)).toBe(0)
    expect(inspect(view)).toBe(inspect(plain))
    expect(JSON.stringify(view)).toBe(JSON.stringify(plain))
    expect(isDeepStrictEqual(view, plain)).toBe(true)
    assert.deepStrictEqual(view, plain)
    expect(view).toStrictEqual(plain)
    expect(Buffer.concat([view, Buffer.from('!')]).toString()).toBe('hello world!')
  })

  it('shares the memory it views, and its own slices are Buffers over the same memory', () => {
    const sub = view.subarray(6)
    expect(sub.toString()).toBe('world')
    expect(Object.getPrototypeOf(sub)).toBe(Buffer.prototype)
    const copy = Buffer.from(backing)
    const v = viewOf(viewSource(copy), 2, 5)
    copy[2] = 0x48 // 'H'
    expect(v.toString()).toBe('Hello')
    expect(v.buffer).toBe(copy.buffer)
    expect(v.byteOffset).toBe(copy.byteOffset + 2)
    expect(v.length).toBe(5)
  })

  it('is what the decoder hands out for keys, values and header values', () => {
    const batch = encodeBatch([{ key: 'k', value: 'v1', headers: [{ key: 'h', value: 'hv' }] }])
    const [r] = decodeBatch(batch).records
    for (const b of [r.key, r.value, r.headers[0].value]) {
      expect(Object.getPrototypeOf(b)).toBe(Buffer.prototype)
      expect(b!.buffer).toBe(batch.buffer) // a view, not a copy
    }
    assert.deepStrictEqual(r, {
      offset: 0,
      timestamp: r.timestamp,
      key: Buffer.from('k'),
      value: Buffer.from('v1'),
      headers: [{ key: 'h', value: Buffer.from('hv') }],
    })
  })
})
