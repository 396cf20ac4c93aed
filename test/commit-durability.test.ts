/**
 * Committed offsets survive kill -9: a child commits, prints the offset once commit() has
 * resolved, and is killed at once; the committed offset must be there after reopening.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Broker } from '../packages/broker/dist/index.js'

const brokerModule = fileURLToPath(new URL('../packages/broker/dist/index.js', import.meta.url))

const child = `
import { Broker } from ${JSON.stringify(brokerModule)}
import { writeSync } from 'node:fs'
const broker = await Broker.open(process.argv[1])
const c = broker.consumer({ groupId: 'durable', autoCommit: false, autoOffsetReset: 'earliest' })
await c.subscribe(['t'])
let total = 0
for (;;) {
  const batch = await c.poll({ maxRecords: 37, timeoutMs: 200 })
  if (batch.length === 0) break
  total += batch.length
  await c.commit()
  writeSync(1, 'committed ' + total + '\\n')
}
`

describe('commit durability', () => {
  it('a commit that resolved survives kill -9 right after', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-commit-'))
    try {
      {
        const broker = await Broker.open(dir)
        await broker.createTopic('t', { partitions: 1 })
        const p = broker.producer({ acks: 'all' })
        await p.send('t', Array.from({ length: 5000 }, (_, i) => ({ value: `v${i}` })))
        await broker.close()
      }
      for (const target of [1, 5, 20]) {
        const proc = spawn(process.execPath, ['--input-type=module', '-e', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
        const acknowledged = await new Promise<number>((resolve) => {
          let seen = 0
          let buf = ''
          proc.stdout.on('data', (d) => {
            buf += d
            const lines = buf.split('\n')
            buf = lines.pop() ?? ''
            for (const line of lines) {
              const n = Number(line.split(' ')[1])
              if (++seen === target) {
                proc.kill('SIGKILL')
                resolve(n)
              }
            }
          })
          proc.on('exit', () => resolve(-1))
        })
        await new Promise((r) => proc.on('exit', r))
        expect(acknowledged).toBeGreaterThan(0)
        const broker = await Broker.open(dir, { readOnly: true })
        const committed = (await broker.describeGroup('durable')).partitions[0].committedOffset ?? 0
        await broker.close()
        // The printed commit (and possibly the next one, made before the kill landed) is durable.
        expect(committed).toBeGreaterThanOrEqual(acknowledged)
        // Reset for the next round: start the group over.
        const w = await Broker.open(dir)
        await w.deleteGroup('durable')
        await w.close()
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
