import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultIO } from '@samsa/log'
import { Broker } from './broker.js'
import { MetadataStore } from './metadata-store.js'
import { tempDirs } from './test-support/helpers.js'
import { markDeleting } from './topic-deletion.js'
import { deletingDirName } from './topic-name.js'

const dirs = tempDirs('topic-deletion')
afterEach(() => dirs.cleanup())

/** A data directory holding topics 'gone' (being deleted) and 'kept', both with records, closed. */
async function prepare(): Promise<string> {
  const dir = dirs.make()
  const broker = await Broker.open(dir, { retentionCheckIntervalMs: 0 })
  await broker.createTopic('gone', { partitions: 4, segmentBytes: 200 })
  await broker.createTopic('kept', { partitions: 2 })
  const producer = broker.producer({ acks: 1 })
  for (let i = 0; i < 10; i++) {
    await producer.send('gone', [0, 1, 2, 3].map((p) => ({ value: 'x'.repeat(50), partition: p })))
    await producer.send('kept', [{ value: `k${i}`, partition: 1 }])
  }
  await broker.close()
  return dir
}

/** The states a crash can leave deleteTopic in, made step by step as deleteTopic makes them. */
async function interrupt(dir: string, step: 'marked' | 'half-renamed' | 'renamed' | 'unregistered' | 'half-removed'): Promise<void> {
  const store = MetadataStore.open(dir)
  const marked = await markDeleting(store, store.getTopic('gone')!)
  const id = marked.deletionId!
  const rename = (p: number) => fs.renameSync(path.join(dir, `gone-${p}`), path.join(dir, deletingDirName('gone', p, id)))
  if (step !== 'marked') {
    rename(0)
    rename(1)
  }
  if (step !== 'marked' && step !== 'half-renamed') {
    rename(2)
    rename(3)
  }
  if (step === 'unregistered' || step === 'half-removed') await store.removeTopic('gone')
  if (step === 'half-removed') {
    fs.rmSync(path.join(dir, deletingDirName('gone', 0, id)), { recursive: true })
    const half = path.join(dir, deletingDirName('gone', 1, id))
    fs.rmSync(path.join(half, fs.readdirSync(half).find((f) => f.endsWith('.log'))!))
  }
  await store.close()
}

describe('an interrupted deleteTopic', () => {
  for (const step of ['marked', 'half-renamed', 'renamed', 'unregistered', 'half-removed'] as const) {
    it(`is finished by the next open when the crash came after: ${step}`, async () => {
      const dir = await prepare()
      await interrupt(dir, step)
      const broker = await Broker.open(dir, { retentionCheckIntervalMs: 0 })
      try {
        expect(await broker.listTopics()).toEqual(['kept'])
        expect(fs.readdirSync(dir).sort()).toEqual(['.lock', 'kept-0', 'kept-1', 'meta'])
        expect(broker.recovery.finishedDeletions).toEqual(step === 'unregistered' || step === 'half-removed' ? [] : ['gone'])
        expect((await broker.getPartition('kept', 1).log.read(0)).map((r) => r.value?.toString())).toEqual(
          Array.from({ length: 10 }, (_, i) => `k${i}`),
        )
        await broker.createTopic('gone', { partitions: 4 })
        expect((await broker.describeTopic('gone')).partitions.map((p) => p.logEndOffset)).toEqual([0, 0, 0, 0])
      } finally {
        await broker.close()
      }
    })
  }

  it('is invisible from the moment it is marked: a marked topic is never served', async () => {
    const dir = await prepare()
    const store = MetadataStore.open(dir)
    await markDeleting(store, store.getTopic('gone')!)
    await store.close()
    const reader = await Broker.open(dir, { readOnly: true })
    try {
      expect(await reader.listTopics()).toEqual(['kept'])
    } finally {
      await reader.close()
    }
    expect(defaultIO.existsSync(path.join(dir, 'gone-0'))).toBe(true) // a reader never deletes
  })
})
