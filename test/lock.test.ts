/**
 * One writer per directory, tried from real processes: a second writer gets SAMSA_LOCKED naming the
 * holder's pid; a lock left by a SIGKILLed writer is taken over; read-only opens take no lock and
 * tail a live log written by another process without ever seeing a half-written batch.
 * The children run the built package: `pnpm -r build` first (`pnpm test` does).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, expect, it } from 'vitest'
import { Log } from '@samsa/log'
import { tailValue } from './fixtures/tail-records.mjs'

const CHILD = fileURLToPath(new URL('./fixtures/lock-child.mjs', import.meta.url))
const DIST = fileURLToPath(new URL('../packages/log/dist/index.js', import.meta.url))

const dirs: string[] = []
const children: ChildProcessWithoutNullStreams[] = []

beforeAll(() => {
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: run \`pnpm -r build\` before this test`)
})

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-lock-'))
  dirs.push(dir)
  return dir
}

interface Child {
  proc: ChildProcessWithoutNullStreams
  /** Resolves with the first line of stdout that matches. */
  line(match: RegExp, timeoutMs?: number): Promise<string>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  output(): string
}

function start(mode: 'hold' | 'try' | 'write', dir: string): Child {
  const proc = spawn(process.execPath, [CHILD, mode, dir], { stdio: ['pipe', 'pipe', 'pipe'] })
  children.push(proc)
  let out = ''
  let err = ''
  const watchers: (() => void)[] = []
  proc.stdout.setEncoding('utf8')
  proc.stderr.setEncoding('utf8')
  proc.stdout.on('data', (chunk: string) => {
    out += chunk
    for (const w of [...watchers]) w()
  })
  proc.stderr.on('data', (chunk: string) => {
    err += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => {
      for (const w of [...watchers]) w()
      resolve({ code, signal })
    })
  })
  return {
    proc,
    exited,
    output: () => out + err,
    line(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${match} from ${mode} child:\n${out}\n${err}`)), timeoutMs)
        const check = (): void => {
          const found = out.split('\n').find((l, i, all) => i < all.length - 1 && match.test(l))
          if (found !== undefined) {
            clearTimeout(timer)
            watchers.splice(watchers.indexOf(check), 1)
            resolve(found)
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            clearTimeout(timer)
            watchers.splice(watchers.indexOf(check), 1)
            reject(new Error(`${mode} child ended without a line matching ${match}:\n${out}\n${err}`))
          }
        }
        watchers.push(check)
        check()
      })
    },
  }
}

async function tryFrom(dir: string): Promise<{ ok: boolean; code?: string; pid: number; lockPid?: number; retriable?: boolean; message?: string }> {
  const child = start('try', dir)
  const line = await child.line(/^\{/)
  await child.exited
  return JSON.parse(line)
}

it("a second writer process gets SAMSA_LOCKED naming the holder's pid; a reader takes no lock", async () => {
  const dir = tempDir()
  const holder = start('hold', dir)
  await holder.line(/^locked/)
  const holderPid = holder.proc.pid as number

  const second = await tryFrom(dir)
  expect(second).toMatchObject({ ok: false, code: 'SAMSA_LOCKED', pid: holderPid, retriable: true })
  expect(second.message).toContain(`process ${holderPid}`)

  // The same from this process, through the public API.
  const err = await Log.open(dir).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toMatchObject({ code: 'SAMSA_LOCKED', pid: holderPid })

  // A read-only open works beside the writer and leaves its lock alone.
  const reader = await Log.open(dir, { readOnly: true })
  expect(reader.readSync(0).map((r) => r.key?.toString())).toEqual(['held'])
  await reader.close()
  expect(fs.readFileSync(path.join(dir, '.lock'), 'utf8').trim()).toBe(String(holderPid))

  // Released on close: the next writer gets it.
  holder.proc.stdin.write('close\n')
  await holder.line(/^closed/)
  await holder.exited
  expect(fs.existsSync(path.join(dir, '.lock'))).toBe(false)
  const after = await tryFrom(dir)
  expect(after.ok).toBe(true)
})

it('a stale lock left by a SIGKILLed writer is taken over', async () => {
  const dir = tempDir()
  const holder = start('hold', dir)
  await holder.line(/^locked/)
  const deadPid = holder.proc.pid as number
  holder.proc.kill('SIGKILL')
  expect((await holder.exited).signal).toBe('SIGKILL')
  expect(fs.readFileSync(path.join(dir, '.lock'), 'utf8').trim()).toBe(String(deadPid))

  const next = await tryFrom(dir)
  expect(next.ok).toBe(true)
  expect(next.pid).not.toBe(deadPid)

  // And from this process: the lock file now names us while we hold it.
  const killed = start('hold', dir)
  await killed.line(/^locked/)
  killed.proc.kill('SIGKILL')
  await killed.exited
  const log = await Log.open(dir)
  expect(fs.readFileSync(path.join(dir, '.lock'), 'utf8').trim()).toBe(String(process.pid))
  expect(log.recovery?.clean).toBe(false)
  expect(log.readSync(0).map((r) => r.key?.toString())).toEqual(['held', 'tried', 'held'])
  await log.close()
  expect(fs.existsSync(path.join(dir, '.lock'))).toBe(false)
})

it('of two processes racing for a stale lock, exactly one gets it', async () => {
  const dir = tempDir()
  const holder = start('hold', dir)
  await holder.line(/^locked/)
  holder.proc.kill('SIGKILL')
  await holder.exited
  const results = await Promise.all([tryFrom(dir), tryFrom(dir)])
  const winners = results.filter((r) => r.ok)
  // Each holds the lock for 300 ms after opening; if the second came after the first had closed,
  // both may win in turn, but never at the same time: the lock file names each winner all the
  // while it holds it, and a loser names a winner.
  expect(winners.length).toBeGreaterThanOrEqual(1)
  for (const w of winners) expect(w.lockPid).toBe(w.pid)
  for (const r of results.filter((x) => !x.ok)) {
    expect(r.code).toBe('SAMSA_LOCKED')
    expect(winners.map((w) => w.pid)).toContain(r.pid)
  }
})

it('a read-only reader tails a live log written by another process and never sees a half-written batch', async () => {
  const dir = tempDir()
  const writer = start('write', dir)
  await writer.line(/^open/)

  const reader = await Log.open(dir, { readOnly: true, pollIntervalMs: 5 })
  const controller = new AbortController()
  const seen = new Map<number, string>()
  const problems: string[] = []
  const nextSeq = [0, 0, 0, 0]
  let expected = 0
  let killedAt = -1

  const reading = (async () => {
    for await (const r of reader.stream({ from: 0, follow: true, signal: controller.signal })) {
      if (r.offset !== expected && problems.length < 10) problems.push(`offset ${r.offset} after ${expected - 1}`)
      expected = r.offset + 1
      const key = r.key?.toString() ?? ''
      const [a, seq, i] = key.split('/').map(Number)
      if (!(r.value?.equals(tailValue(a, seq, i)) ?? false) && problems.length < 10) problems.push(`value of ${key} at ${r.offset}`)
      // Within an appender, batches come in order and whole.
      if (i === 0) {
        if (seq !== nextSeq[a] && problems.length < 10) problems.push(`appender ${a} batch ${seq} after ${nextSeq[a] - 1}`)
        nextSeq[a] = seq + 1
      }
      seen.set(r.offset, key)
      if (killedAt < 0 && seen.size >= 5_000) {
        // Kill the writer in the middle of its work; the reader must still end on a batch boundary.
        writer.proc.kill('SIGKILL')
        killedAt = r.offset
      }
    }
  })()

  // Let it run until the writer is killed (by the reader) or finishes.
  await Promise.race([writer.exited, writer.line(/^done/, 60_000).catch(() => {})])
  if (killedAt < 0) {
    writer.proc.kill('SIGKILL')
  }
  await writer.exited
  // What a fresh reader sees after the kill is where the follower must end up.
  const after = await Log.open(dir, { readOnly: true })
  const end = after.logEndOffset
  await after.close()
  const deadline = Date.now() + 30_000
  while (expected < end && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  controller.abort()
  await reading
  await reader.close()

  expect(problems).toEqual([])
  expect(expected).toBe(end)
  expect(seen.size).toBeGreaterThan(1000)

  // Recovery after the kill keeps every record the reader was given, byte for byte: a reader
  // never saw anything that was not whole.
  const log = await Log.open(dir)
  expect(log.logEndOffset).toBeGreaterThanOrEqual(end)
  let checked = 0
  for (let o = 0; o < end; ) {
    const batch = log.readSync(o, { maxBytes: 1024 * 1024 })
    for (const r of batch) {
      if (r.offset >= end) break
      expect(r.key?.toString()).toBe(seen.get(r.offset))
      checked++
    }
    o = batch[batch.length - 1].offset + 1
  }
  expect(checked).toBe(end)
  await log.close()
  console.log(`read-only tail: ${end} records followed live and checked, writer killed after offset ${killedAt}`)
}, 120_000)
