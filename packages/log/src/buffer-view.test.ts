import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { viewOf } from './buffer-view.js'
import { decodeBatch, encodeBatch } from './record-batch.js'

describe('viewOf', () => {
  const backing = Buffer.from('..hello world..')
  const view = viewOf(backing.buffer, backing.byteOffset + 2, 11)

  it('is a Buffer by every test a caller can make', () => {
    expect(Buffer.isBuffer(view)).toBe(true)
    expect(view instanceof Buffer).toBe(true)
    expect(view instanceof Uint8Array).toBe(true)
    expect(view.constructor).toBe(Buffer)
    expect(view.toString()).toBe('hello world')
    expect(view.toString('hex')).toBe(Buffer.from('hello world').toString('hex'))
    expect(view.readUInt8(0)).toBe(0x68)
    expect(view.equals(Buffer.from('hello world'))).toBe(true)
    expect(Buffer.compare(view, Buffer.from('hello world'))).toBe(0)
    expect(inspect(view)).toBe(inspect(Buffer.from('hello world')))
    expect(JSON.stringify(view)).toBe(JSON.stringify(Buffer.from('hello world')))
    expect(view).toEqual(Buffer.from('hello world'))
    expect(view).toStrictEqual(Buffer.from('hello world'))
    expect(Buffer.concat([view, Buffer.from('!')]).toString()).toBe('hello world!')
  })

  it('shares the memory it views, and its own slices are plain Buffers over the same memory', () => {
    const sub = view.subarray(6)
    expect(sub.toString()).toBe('world')
    expect(Buffer.isBuffer(sub)).toBe(true)
    const copy = Buffer.from(backing)
    const v = viewOf(copy.buffer, copy.byteOffset + 2, 5)
    copy[2] = 0x48 // 'H'
    expect(v.toString()).toBe('Hello')
    expect(v.byteOffset).toBe(copy.byteOffset + 2)
    expect(v.length).toBe(5)
  })

  it('is what the decoder hands out for keys, values and header values', () => {
    const batch = encodeBatch([{ key: 'k', value: 'v1', headers: [{ key: 'h', value: 'hv' }] }])
    const [r] = decodeBatch(batch).records
    for (const b of [r.key, r.value, r.headers[0].value]) {
      expect(Buffer.isBuffer(b)).toBe(true)
      expect(b!.buffer).toBe(batch.buffer) // a view, not a copy
    }
    expect(r).toEqual({
      offset: 0,
      timestamp: r.timestamp,
      key: Buffer.from('k'),
      value: Buffer.from('v1'),
      headers: [{ key: 'h', value: Buffer.from('hv') }],
    })
  })
})
