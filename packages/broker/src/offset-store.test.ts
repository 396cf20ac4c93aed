import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MetadataStore } from './metadata-store.js'
import { OffsetStore } from './offset-store.js'

let dir: string
let meta: MetadataStore

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-offsets-'))
  meta = MetadataStore.open(dir)
})

afterEach(async () => {
  await meta.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('OffsetStore', () => {
  it('commits several partitions and application state in one transaction, durably across reopen', async () => {
    const store = new OffsetStore(meta, () => 1234)
    await store.commit(
      'g',
      [
        { topic: 't', partition: 0, offset: 5, metadata: 'm0' },
        { topic: 't', partition: 1, offset: 9 },
      ],
      { state: (tx) => tx.put('sum', 42) },
    )
    await meta.close()
    meta = MetadataStore.open(dir)
    const again = new OffsetStore(meta)
    expect(again.get('g', 't', 0)).toEqual({ offset: 5, metadata: 'm0', timestamp: 1234 })
    expect(again.get('g', 't', 1)).toEqual({ offset: 9, metadata: null, timestamp: 1234 })
    expect(again.getState('g', 'sum')).toBe(42)
    expect(again.list('g').map((c) => [c.topic, c.partition, c.offset])).toEqual([
      ['t', 0, 5],
      ['t', 1, 9],
    ])
    expect(again.listGroups().map((g) => g.groupId)).toEqual(['g'])
  })

  it('writes nothing, neither offsets nor state, when the check inside the transaction throws', async () => {
    const store = new OffsetStore(meta)
    await store.commit('g', [{ topic: 't', partition: 0, offset: 1 }], { state: (tx) => tx.put('sum', 1) })
    await expect(
      store.commit('g', [{ topic: 't', partition: 0, offset: 2 }], {
        state: (tx) => tx.put('sum', 2),
        check: () => {
          throw new Error('stale generation')
        },
      }),
    ).rejects.toThrow('stale generation')
    expect(store.get('g', 't', 0)?.offset).toBe(1)
    expect(store.getState('g', 'sum')).toBe(1)
  })

  it('keeps groups apart, even when one id is a prefix of another', async () => {
    const store = new OffsetStore(meta)
    await store.commit('a', [{ topic: 't', partition: 0, offset: 1 }])
    await store.commit('ab', [{ topic: 't', partition: 0, offset: 2 }])
    expect(store.list('a').map((c) => c.offset)).toEqual([1])
    expect(await store.deleteGroup('a')).toBe(true)
    expect(store.get('a', 't', 0)).toBeUndefined()
    expect(store.get('ab', 't', 0)?.offset).toBe(2)
    expect(await store.deleteGroup('a')).toBe(false)
  })

  it('forgets a deleted topic in every group', async () => {
    const store = new OffsetStore(meta)
    await store.commit('a', [{ topic: 'gone', partition: 0, offset: 1 }, { topic: 'kept', partition: 0, offset: 3 }])
    await store.forgetTopic('gone')
    expect(store.get('a', 'gone', 0)).toBeUndefined()
    expect(store.get('a', 'kept', 0)?.offset).toBe(3)
  })
})
