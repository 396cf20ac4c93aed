import { describe, expect, it } from 'vitest'
import type { BatchHeader } from '@samsa/log'
import { lastSequence, ProducerState } from './producer-state.js'

function header(producerId: number, epoch: number, baseSequence: number, count: number, baseOffset: number, ts = 1000, attributes = 0): BatchHeader {
  return {
    baseOffset,
    size: 100,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes,
    lastOffsetDelta: count - 1,
    lastOffset: baseOffset + count - 1,
    baseTimestamp: ts,
    maxTimestamp: ts,
    producerId,
    producerEpoch: epoch,
    baseSequence,
    recordCount: count,
  }
}

const codeOf = (fn: () => unknown) => {
  try {
    return fn()
  } catch (err) {
    return (err as { code: string }).code
  }
}

describe('ProducerState', () => {
  it('rebuilds from batch headers: duplicates, next sequence, epochs; control and plain batches ignored', () => {
    const s = new ProducerState('t-0')
    s.replay(header(1, 0, 0, 3, 0))
    s.replay(header(-1, -1, -1, 5, 3))
    s.replay(header(1, 0, 3, 2, 8))
    s.replay(header(2, 4, 0, 1, 10, 1000, 0x20)) // a control batch
    expect(s.check(1, 0, 3, 2)).toMatchObject({ firstOffset: 8, lastOffset: 9 })
    expect(s.check(1, 0, 5, 1)).toBeNull()
    expect(codeOf(() => s.check(1, 0, 6, 1))).toBe('SAMSA_OUT_OF_ORDER_SEQUENCE')
    expect(s.check(2, 0, 17, 1)).toBeNull() // unknown producer: any sequence
    s.replay(header(1, 1, 0, 1, 11))
    expect(codeOf(() => s.check(1, 0, 5, 1))).toBe('SAMSA_PRODUCER_FENCED')
  })

  it('keeps 5 batches per producer and round-trips through a snapshot', () => {
    const s = new ProducerState('t-0')
    for (let i = 0; i < 8; i++) s.replay(header(1, 0, i * 2, 2, i * 2))
    expect(s.entry(1)?.batches.map((b) => b.firstSeq)).toEqual([6, 8, 10, 12, 14])
    const snap = s.snapshot(16)
    const t = new ProducerState('t-0')
    expect(t.load(JSON.parse(JSON.stringify(snap)))).toBe(true)
    expect(t.check(1, 0, 14, 2)).toMatchObject({ firstOffset: 14 })
    expect(t.check(1, 0, 16, 1)).toBeNull()
    expect(t.load({ version: 2 })).toBe(false)
    expect(t.size).toBe(0)
  })

  it('forgets producers below the log start and producers silent past the expiry', () => {
    const s = new ProducerState('t-0')
    s.replay(header(1, 0, 0, 1, 0, 1000))
    s.replay(header(2, 0, 0, 1, 5, 1000))
    s.replay(header(3, 0, 0, 1, 6, 9000))
    s.truncateHead(5)
    expect([s.entry(1), s.entry(2)?.producerId]).toEqual([undefined, 2])
    s.expire(5000)
    expect([s.entry(2), s.entry(3)?.producerId]).toEqual([undefined, 3])
  })

  it('forgets a batch whose append failed, so its resend is accepted', async () => {
    const s = new ProducerState('t-0')
    s.begin(1, 0, 0, 2, 1000, Promise.resolve({ baseOffset: 0, lastOffset: 1 }))
    const failed = Promise.reject(new Error('ENOSPC'))
    s.begin(1, 0, 2, 2, 1000, failed)
    await failed.catch(() => undefined)
    await Promise.resolve()
    expect(s.check(1, 0, 2, 2)).toBeNull()
  })

  it('wraps sequences at 2^31-1', () => {
    expect(lastSequence(2 ** 31 - 2, 3)).toBe(0)
    expect(lastSequence(5, 1)).toBe(5)
  })
})
