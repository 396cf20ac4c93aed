/**
 * kill -9 in the middle of deleteTopic and in the middle of retention. A child broker
 * (fixtures/broker-crash-child.mjs) loops over the operation and prints every step that
 * completed; the parent SIGKILLs it at a random moment, opens the data directory again and checks
 * that the next open is consistent:
 * - delete: every topic is either whole (every partition with all its acknowledged records) or
 *   gone without a trace (no partition or `-delete` directory left), a deleted topic stays deleted,
 *   other topics are untouched, the name can be created again empty, and producer ids handed out
 *   before the crash are never handed out again;
 * - retention: each partition's log start is at least the last one reported, the records from
 *   there to the end are contiguous and are exactly the ones written at those offsets, every
 *   acknowledged record at or above the log start is there, and no `.deleted` file is left.
 *
 * 4 rounds of each by default; BROKER_CRASH_ROUNDS=50 for a soak, BROKER_CRASH_SEED to replay.
 * The child runs the built packages: `pnpm -r build` first (`pnpm test` does).
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Broker } from '@samsa/broker'
import { prng as random } from '../packages/log/src/test-support/storage-fixtures.js'

const ROUNDS = Number(process.env.BROKER_CRASH_ROUNDS ?? 4)
const SEED = Number(process.env.BROKER_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
const CHILD = fileURLToPath(new URL('./fixtures/broker-crash-child.mjs', import.meta.url))
const value = (p: number, i: number) => `p${p}-${i}-${'x'.repeat(60)}`

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-broker-crash-'))
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

/**
 * Run the child and SIGKILL it `delayMs` after the `trigger`-th line starting with `startsWith`.
 * Resolves with every line it printed before dying.
 */
function runAndKill(mode: string, dir: string, trigger: { startsWith: string; count: number; delayMs: number }): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, mode, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: string[] = []
    let partial = ''
    let seen = 0
    let err = ''
    let armed = false
    const watchdog = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`child never reached its kill point; output:\n${lines.slice(-20).join('\n')}\n${err}`))
    }, 60_000)
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d: string) => (err += d))
    child.stdout.on('data', (d: string) => {
      partial += d
      const parts = partial.split('\n')
      partial = parts.pop() as string
      for (const line of parts) {
        lines.push(line)
        if (line.startsWith('error')) reject(new Error(`child failed: ${line}`))
        if (!armed && line.startsWith(trigger.startsWith) && ++seen === trigger.count) {
          armed = true
          setTimeout(() => child.kill('SIGKILL'), trigger.delayMs)
        }
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog)
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code} ${signal}:\n${lines.slice(-20).join('\n')}\n${err}`))
      else resolve(lines)
    })
  })
}

async function readValues(broker: Broker, topic: string, partition: number, from: number): Promise<{ offset: number; value: string }[]> {
  const out: { offset: number; value: string }[] = []
  for await (const r of broker.getPartition(topic, partition).log.stream({ from })) out.push({ offset: r.offset, value: r.value?.toString() ?? '' })
  return out
}

describe(`kill -9 (seed ${SEED})`, () => {
  const rand = random(SEED)

  it('in the middle of deleteTopic: every topic is whole or gone, and the next open is clean', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = path.join(work, `delete-${round}`)
      const lines = await runAndKill('delete', dir, {
        startsWith: 'deleting',
        count: 1 + Math.floor(rand() * 3),
        delayMs: Math.floor(rand() * 40),
      })
      const created = lines.filter((l) => l.startsWith('created ')).map((l) => l.split(' ')[1])
      const deleted = new Set(lines.filter((l) => l.startsWith('deleted ')).map((l) => l.split(' ')[1]))
      const handedOut = lines.filter((l) => l.startsWith('producer ')).map((l) => Number(l.split(' ')[1]))
      expect(created.length).toBeGreaterThan(0)

      const broker = await Broker.open(dir, { retentionCheckIntervalMs: 0 })
      try {
        const topics = await broker.listTopics()
        for (const name of created) {
          const present = topics.includes(name)
          if (deleted.has(name)) expect(present, `${name} was deleted`).toBe(false)
          if (present) {
            const d = await broker.describeTopic(name)
            expect(d.partitions).toHaveLength(8)
            for (let p = 0; p < 8; p++) {
              const got = await readValues(broker, name, p, 0)
              expect(got.map((r) => r.value)).toEqual(Array.from({ length: 30 }, (_, i) => value(p, i)))
            }
          }
        }
        // Nothing half-deleted is left on disk, and no directory belongs to a topic that is gone.
        const entries = fs.readdirSync(dir)
        expect(entries.filter((e) => e.endsWith('-delete'))).toEqual([])
        const owners = new Set(entries.filter((e) => /-\d+$/.test(e)).map((e) => e.replace(/-\d+$/, '')))
        expect([...owners].sort()).toEqual(topics.slice().sort())
        expect(broker.recovery.strayPartitionDirs).toEqual([])
        // Untouched: the topic that was never deleted.
        expect((await readValues(broker, 'keep', 1, 0)).map((r) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => value(1, i)))
        // A gone name is usable again, and starts empty.
        const gone = created.find((n) => !topics.includes(n))
        if (gone !== undefined) {
          await broker.createTopic(gone, { partitions: 8 })
          expect((await broker.describeTopic(gone)).partitions.every((p) => p.logEndOffset === 0)).toBe(true)
        }
        // Producer ids reserved before the crash are never reused.
        const fresh = broker.producer().producerId
        expect(handedOut.includes(fresh)).toBe(false)
        expect(fresh).toBeGreaterThan(Math.max(...handedOut))
      } finally {
        await broker.close()
      }
    }
  })

  it('in the middle of retention and deleteRecords: logs are consistent and keep every acknowledged record', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = path.join(work, `retention-${round}`)
      const lines = await runAndKill('retention', dir, { startsWith: 'ready', count: 1, delayMs: 20 + Math.floor(rand() * 300) })
      const acked = [0, 0, 0, 0]
      const reportedStart = [0, 0, 0, 0]
      for (const l of lines) {
        const [kind, p, n] = l.split(' ')
        if (kind === 'ack') acked[Number(p)] = Math.max(acked[Number(p)], Number(n))
        if (kind === 'start') reportedStart[Number(p)] = Math.max(reportedStart[Number(p)], Number(n))
      }
      expect(lines.filter((l) => l.startsWith('start')).length, 'the kill came after some retention').toBeGreaterThan(0)

      const broker = await Broker.open(dir, { retentionCheckIntervalMs: 0 })
      try {
        for (let p = 0; p < 4; p++) {
          const log = broker.getPartition('r', p).log
          expect(log.logStartOffset).toBeGreaterThanOrEqual(reportedStart[p])
          expect(log.logEndOffset).toBeGreaterThanOrEqual(acked[p])
          expect(log.logStartOffset).toBeLessThanOrEqual(log.logEndOffset)
          const got = await readValues(broker, 'r', p, log.logStartOffset)
          expect(got.map((r) => r.offset)).toEqual(Array.from({ length: log.logEndOffset - log.logStartOffset }, (_, i) => log.logStartOffset + i))
          for (const r of got) if (r.value !== value(p, r.offset)) expect(r).toEqual({ offset: r.offset, value: value(p, r.offset) })
          const files = fs.readdirSync(path.join(dir, `r-${p}`))
          expect(files.filter((f) => f.endsWith('.deleted'))).toEqual([])
          const segments = files.filter((f) => f.endsWith('.log')).map((f) => Number(f.slice(0, 20)))
          expect(segments).toEqual(log.listSegments().map((s) => s.baseOffset))
        }
        // Retention and appends go on from there.
        expect((await broker.enforceRetention()).length).toBeGreaterThanOrEqual(0)
        const [r] = await broker.producer().send('r', [{ value: 'after', partition: 0 }])
        expect(r.offset).toBe(broker.getPartition('r', 0).log.logEndOffset - 1)
      } finally {
        await broker.close()
      }
    }
  })
})
