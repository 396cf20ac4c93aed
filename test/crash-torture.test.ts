/**
 * Crash torture: a child process appends with flush 'always' from 8 concurrent appenders and prints
 * every acknowledged offset range; the parent kills it with SIGKILL at a random moment, reopens the
 * log and checks that every acknowledged record is there with its exact bytes, that offsets run
 * contiguously from logStartOffset with no record twice, and that appending resumes.
 *
 * Some rounds also kill a second writer while it recovers the log the first one left, and some
 * check the crashed log through a read-only open before recovering it. Every other writer syncs
 * with `blockingSync` (each group's fdatasync on the event loop), the rest on the thread pool.
 *
 * 20 rounds by default; TORTURE_ROUNDS=500 for a soak. TORTURE_SEED replays a run.
 * The child runs the built package: `pnpm -r build` first (`pnpm test` does).
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { crc32 } from 'node:zlib'
import { afterAll, expect, it } from 'vitest'
import { Log } from '@samsa/log'
import { batchLength, batchRecords, parseKey, recordKey, recordValue } from './fixtures/torture-records.mjs'
import { prng as random } from '../packages/log/src/test-support/storage-fixtures.js'

const ROUNDS = Number(process.env.TORTURE_ROUNDS ?? 20)
const SEED = Number(process.env.TORTURE_SEED ?? Math.floor(Math.random() * 2 ** 31))
const CHILD = fileURLToPath(new URL('./fixtures/torture-child.mjs', import.meta.url))
const DIST = fileURLToPath(new URL('../packages/log/dist/index.js', import.meta.url))
/** Small segments, so that rolls (and crashes around them) happen every round. */
const SEGMENT_BYTES = 64 * 1024
/** The parent's own appends use this appender id. */
const PARENT_APPENDER = 99
/** A soak starts a new log now and then, so that each round's full check stays quick. */
const ROUNDS_PER_LOG = 25

interface Ack {
  writer: number
  appender: number
  seq: number
  base: number
  last: number
}

interface ChildRun {
  acks: Ack[]
  opened: boolean
  signal: NodeJS.Signals | null
  code: number | null
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-torture-'))
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

/**
 * Run one writer and SIGKILL it: `afterOpenMs` after it reported the log open, or `fromSpawnMs`
 * after it started (which may be in the middle of its open and recovery).
 */
function runWriter(dir: string, writer: number, kill: { afterOpenMs?: number; fromSpawnMs?: number }): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(writer), '8', String(SEGMENT_BYTES), String(writer % 2)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    let opened = false
    let timer: NodeJS.Timeout | null = null
    const killNow = (): void => {
      child.kill('SIGKILL')
    }
    if (kill.fromSpawnMs !== undefined) timer = setTimeout(killNow, kill.fromSpawnMs)
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      if (!opened && out.includes('open ')) {
        opened = true
        if (kill.afterOpenMs !== undefined) timer = setTimeout(killNow, kill.afterOpenMs)
      }
    })
    child.stderr.on('data', (chunk: string) => {
      err += chunk
    })
    child.on('error', reject)
    // 'close' comes after the pipes are drained: every line the child wrote before it died is in `out`.
    child.on('close', (code, signal) => {
      if (timer !== null) clearTimeout(timer)
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer ${writer} ended by itself (code ${code}, signal ${signal}):\n${out.slice(-2000)}\n${err}`))
        return
      }
      const acks: Ack[] = []
      for (const line of out.split('\n')) {
        // A line without its newline was not wholly written; the acknowledgement is not counted.
        if (!line.startsWith('ack ') || !out.includes(line + '\n')) continue
        const [, w, a, s, b, l] = line.split(' ').map(Number)
        acks.push({ writer: w, appender: a, seq: s, base: b, last: l })
      }
      resolve({ acks, opened: out.includes('open '), signal, code })
    })
  })
}

interface Verified {
  records: number
  end: number
}

/**
 * CRC-32 of each value already compared byte for byte with what its key says it must be: a later
 * round compares against the checksum instead of generating the bytes again.
 */
const verifiedValues = new Map<string, number>()

/**
 * Check the whole log against everything acknowledged so far. Problems are collected and asserted
 * at the end (one expect per record would cost more than the reading).
 */
function verify(log: Log, acks: Ack[]): Verified {
  const problems: string[] = []
  const fail = (problem: string): void => {
    if (problems.length < 20) problems.push(problem)
  }
  const keyAt = new Map<number, string>()
  const seen = new Set<string>()
  const batchCounts = new Map<string, number>()
  let next = log.logStartOffset
  if (log.logStartOffset !== 0) fail(`logStartOffset is ${log.logStartOffset}, nothing was deleted`)
  for (;;) {
    const records = log.readSync(next, { maxBytes: 4 * 1024 * 1024 })
    if (records.length === 0) break
    for (const r of records) {
      // Contiguous: each offset exactly once, none skipped.
      if (r.offset !== next) fail(`offset ${r.offset} follows ${next - 1}`)
      next = r.offset + 1
      const key = r.key?.toString() ?? ''
      const id = parseKey(key)
      if (id === null) {
        fail(`record ${r.offset} has a key no writer wrote: ${JSON.stringify(key)}`)
        continue
      }
      if (seen.has(key)) fail(`record ${key} appears twice (again at ${r.offset})`)
      seen.add(key)
      keyAt.set(r.offset, key)
      const known = verifiedValues.get(key)
      const sum = r.value === null ? -1 : crc32(r.value)
      if (known === undefined) {
        const want = recordValue(id.round, id.appender, id.seq, id.index)
        if (want === null ? r.value !== null : r.value === null || !r.value.equals(want)) fail(`value of ${key} at offset ${r.offset} differs`)
        else verifiedValues.set(key, sum)
      } else if (known !== sum) {
        fail(`value of ${key} at offset ${r.offset} changed since it was last verified`)
      }
      if (r.headers.length !== 1 || r.headers[0].key !== 'appender' || r.headers[0].value?.toString() !== String(id.appender)) {
        fail(`headers of ${key} at offset ${r.offset}: ${JSON.stringify(r.headers)}`)
      }
      const batch = `${id.round}/${id.appender}/${id.seq}`
      batchCounts.set(batch, (batchCounts.get(batch) ?? 0) + 1)
    }
  }
  if (next !== log.logEndOffset) fail(`read ended at ${next}, logEndOffset is ${log.logEndOffset}`)

  // Batches are all or nothing, and an appender's batch is only there if the one before it was acknowledged.
  const acked = new Set(acks.map((a) => `${a.writer}/${a.appender}/${a.seq}`))
  for (const [batch, count] of batchCounts) {
    const [w, a, s] = batch.split('/').map(Number)
    if (count !== batchLength(w, a, s)) fail(`batch ${batch} has ${count} of its ${batchLength(w, a, s)} records`)
    if (s > 0 && !acked.has(`${w}/${a}/${s - 1}`)) fail(`batch ${batch} is present but ${w}/${a}/${s - 1} was never acknowledged`)
  }
  // Every acknowledged record, at the offset it was acknowledged with.
  for (const ack of acks) {
    const n = batchLength(ack.writer, ack.appender, ack.seq)
    if (ack.last - ack.base + 1 !== n) fail(`acknowledged ${JSON.stringify(ack)} for a batch of ${n} records`)
    for (let i = 0; i < n; i++) {
      const want = recordKey(ack.writer, ack.appender, ack.seq, i)
      const got = keyAt.get(ack.base + i)
      if (got !== want) fail(`acknowledged offset ${ack.base + i} should hold ${want}, holds ${got ?? 'nothing'}`)
    }
  }
  expect(problems).toEqual([])
  return { records: next - log.logStartOffset, end: next }
}

it(`survives ${ROUNDS} rounds of SIGKILL during flush 'always' appends (seed ${SEED})`, async () => {
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: run \`pnpm -r build\` before this test`)
  const rand = random(SEED)
  let dir = ''
  let acks: Ack[] = []
  const allAcks: Ack[] = []
  let writer = 0
  let recordsChecked = 0
  let killedInOpen = 0
  let recovered = 0
  let lastEnd = 0
  const started = Date.now()
  const time = { writers: 0, open: 0, verify: 0, close: 0 }
  let mark = Date.now()
  const lap = (phase: keyof typeof time): void => {
    const now = Date.now()
    time[phase] += now - mark
    mark = now
  }

  for (let round = 0; round < ROUNDS; round++) {
    if (round % ROUNDS_PER_LOG === 0) {
      if (dir !== '') fs.rmSync(dir, { recursive: true, force: true })
      dir = path.join(work, `log-${round}`)
      allAcks.push(...acks)
      acks = []
      verifiedValues.clear()
      lastEnd = 0
    }
    const early = rand() < 0.2
    const run = await runWriter(dir, ++writer, early ? { fromSpawnMs: Math.floor(rand() * 250) } : { afterOpenMs: Math.floor(rand() * 350) })
    acks.push(...run.acks)
    if (!run.opened) killedInOpen++

    if (rand() < 0.25) {
      // A second writer is killed while it opens and recovers what the first one left.
      const second = await runWriter(dir, ++writer, { fromSpawnMs: 40 + Math.floor(rand() * 160) })
      acks.push(...second.acks)
      if (!second.opened) killedInOpen++
    }

    lap('writers')
    if (round % 4 === 3 && !fs.existsSync(dir)) {
      // Every writer of this log died before it could create it.
      expect(acks).toEqual([])
    } else if (round % 4 === 3) {
      // A reader of the crashed directory sees every acknowledged record and nothing torn.
      const reader = await Log.open(dir, { readOnly: true })
      recordsChecked += verify(reader, acks).records
      await reader.close()
    }

    const log = await Log.open(dir, { flush: 'always', segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 1024 })
    if (log.recovery !== null && !log.recovery.clean) recovered++
    lap('open')
    const checked = verify(log, acks)
    lap('verify')
    recordsChecked += checked.records
    // Nothing acknowledged was lost, so the log never shrinks below what was seen before.
    expect(checked.end).toBeGreaterThanOrEqual(lastEnd)

    // Appending resumes right at the end, and what is appended is read back whole.
    const parentWriter = ++writer
    const records = batchRecords(parentWriter, PARENT_APPENDER, 0)
    const result = await log.append(records)
    expect(result.baseOffset).toBe(checked.end)
    acks.push({ writer: parentWriter, appender: PARENT_APPENDER, seq: 0, base: result.baseOffset, last: result.lastOffset })
    const back = log.readSync(result.baseOffset)
    expect(back.map((r) => r.key?.toString())).toEqual(records.map((r) => r.key))
    lastEnd = log.logEndOffset
    await log.close()
    lap('close')
  }

  allAcks.push(...acks)
  const acknowledged = allAcks.reduce((n, a) => n + a.last - a.base + 1, 0)
  const blockingAcks = allAcks.filter((a) => a.writer % 2 === 1).length
  console.log(
    `crash torture: ${ROUNDS} rounds, ${writer} writers, ${allAcks.length} acknowledged batches (${acknowledged} records; ` +
      `${blockingAcks} batches from blockingSync writers), ` +
      `${recordsChecked} records verified, ${recovered} recoveries, ${killedInOpen} writers killed before their open finished, ` +
      `final log ${lastEnd} records, ${((Date.now() - started) / 1000).toFixed(1)} s (${JSON.stringify(time)} ms), seed ${SEED}`,
  )
  expect(allAcks.length).toBeGreaterThan(ROUNDS)
  // Both ways of syncing were killed mid-append and recovered.
  expect(blockingAcks).toBeGreaterThan(0)
  expect(allAcks.length - blockingAcks).toBeGreaterThan(0)
}, 60_000 + ROUNDS * 5_000)
