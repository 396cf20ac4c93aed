/**
 * The README's effectively-once example under kill -9: the ledger process is killed at random
 * moments and restarted until it drains the topic; every payment must be applied exactly once.
 * Rounds: 8 by default, EFFECTIVELY_ONCE_ROUNDS for more.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Broker } from '../packages/broker/dist/index.js'

const example = fileURLToPath(new URL('../examples/effectively-once.js', import.meta.url))
const rounds = Number(process.env.EFFECTIVELY_ONCE_ROUNDS ?? 8)
const dirs: string[] = []

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

function run(dataDir: string, killAfterMs: number | null): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [example, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d) => (stdout += d))
    child.stderr?.on('data', (d) => (stderr += d))
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer)
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`ledger exited ${code}: ${stderr}`))
      else resolve({ code, stdout })
    })
  })
}

describe('effectively-once example', () => {
  it(`applies every payment exactly once across ${rounds} kill -9s`, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-ledger-'))
    dirs.push(dataDir)
    const expected = new Map<string, number>()
    const count = 20_000
    {
      const broker = await Broker.open(dataDir)
      await broker.createTopic('payments', { partitions: 4 })
      const producer = broker.producer({ acks: 'all' })
      let seed = 7
      const messages = Array.from({ length: count }, () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        const account = `acct-${seed % 50}`
        const amount = (seed % 1000) - 300
        expected.set(account, (expected.get(account) ?? 0) + amount)
        return { key: account, value: String(amount) }
      })
      for (let i = 0; i < count; i += 1000) await producer.send('payments', messages.slice(i, i + 1000))
      await broker.close()
    }
    let kills = 0
    let seed = 99
    for (let i = 0; i < rounds; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      const { code } = await run(dataDir, 150 + (seed % 400))
      if (code === null) kills++
    }
    const final = await run(dataDir, null)
    expect(final.stdout).toMatch(/applied 20000 payments/)
    const broker = await Broker.open(dataDir, { readOnly: true })
    try {
      expect(broker.groupState('ledger', 'applied')).toBe(count)
      for (const [account, balance] of expected) expect(broker.groupState('ledger', `balance:${account}`), account).toBe(balance)
      const lag = await broker.describeGroup('ledger')
      expect(lag.totalLag).toBe(0)
    } finally {
      await broker.close()
    }
    console.log(`effectively-once: ${count} payments, ${kills} of ${rounds} runs killed mid-way, all applied once`)
    expect(kills).toBeGreaterThan(0)
  }, 180_000)
})
