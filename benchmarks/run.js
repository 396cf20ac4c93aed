#!/usr/bin/env node
/**
 * Samsa's benchmarks: `node benchmarks/run.js [--quick] [--rounds N] [--only a,b] [--no-micro] [--no-suite]`
 * (`pnpm bench` builds the packages first). Runs the tinybench micro-benchmarks and the
 * side-by-side suite against the built packages, and writes results/latest.{md,json,svg}
 * (a --quick run writes results/quick.*, a run narrowed with --only writes results/partial.*).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { checkGoals } from './lib/goals.js'
import { describeMachine } from './lib/machine.js'
import { makeRecords, makeValues, removeDir } from './lib/data.js'
import { loadBroker, loadLog } from './lib/packages.js'
import { renderMarkdown } from './lib/report.js'
import { renderSvg } from './lib/svg.js'
import { runMicro } from './micro.js'
import { runSuite } from './suite.js'
import { brokerWorkloads } from './workloads/broker.js'
import { groupCommitWorkloads } from './workloads/group-commit.js'
import { kafkaWireWorkloads } from './workloads/kafka-wire.js'
import { limitWorkloads } from './workloads/limit.js'
import { lmdbWorkloads } from './workloads/lmdb.js'
import { recoveryWorkloads } from './workloads/recovery.js'
import { redisWorkloads } from './workloads/redis.js'
import { samsaLogWorkloads } from './workloads/samsa-log.js'
import { sqliteWorkloads } from './workloads/sqlite.js'

const here = path.dirname(fileURLToPath(import.meta.url))

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    only: { type: 'string' },
    'no-micro': { type: 'boolean', default: false },
    'no-suite': { type: 'boolean', default: false },
  },
  allowPositionals: false,
})

const MiB = 2 ** 20
const config = args.quick
  ? {
      quick: true,
      rounds: 3,
      appendRecords: { 100: 200_000, 1024: 40_000 },
      peerRecords: { 100: 50_000, 1024: 20_000 },
      redisRecords: { 100: 10_000, 1024: 5_000 },
      wireRecords: 30_000,
      recoveryBytes: 64 * MiB,
      groupCommitSeconds: 0.25,
      fsyncSeconds: 0.25,
    }
  : {
      quick: false,
      rounds: 5,
      appendRecords: { 100: 2_000_000, 1024: 400_000 },
      peerRecords: { 100: 500_000, 1024: 200_000 },
      redisRecords: { 100: 200_000, 1024: 50_000 },
      wireRecords: 500_000,
      recoveryBytes: 1024 * MiB,
      groupCommitSeconds: 2,
      fsyncSeconds: 2,
    }
Object.assign(config, { valueSizes: [100, 1024], batch: 1000, readMaxBytes: MiB })
if (args.rounds !== undefined) {
  config.rounds = Number(args.rounds)
  if (!Number.isInteger(config.rounds) || config.rounds < 1) throw new Error('--rounds takes a positive integer')
}
const only = args.only ? args.only.split(',').map((s) => s.trim()).filter(Boolean) : null

const log = (...a) => console.log(...a)

async function main() {
  const started = Date.now()
  const root = path.join(here, '.data', `run-${process.pid}`)
  fs.mkdirSync(root, { recursive: true })
  const cleanUp = () => removeDir(root)
  process.once('SIGINT', () => {
    cleanUp()
    process.exit(130)
  })

  const samsa = await loadLog()
  const machine = describeMachine(root)
  // Which CRC-32C checksums appends, reads and recovery: it moves those rows (see the README).
  machine.crc32c = samsa.crc32cImplementation ?? 'unknown'
  log(`Samsa benchmarks (${config.quick ? 'quick' : 'full'}): ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadAverage.join(' ')}`)

  let micro = []
  if (!args['no-micro'] && only === null) {
    log('micro-benchmarks (tinybench)...')
    micro = await runMicro(samsa, { quick: config.quick })
  }

  let rows = []
  if (!args['no-suite']) {
    // Bytes per record as Samsa stores them (batches of `batch`), so that the limit writes the same bytes.
    const storedBytesPerRecord = {}
    for (const vs of config.valueSizes) {
      storedBytesPerRecord[vs] = samsa.encodeBatch(makeRecords(makeValues(vs), config.batch)).length / config.batch
    }
    const ctx = { samsa, cfg: config, root, storedBytesPerRecord }
    const loadedBroker = await loadBroker()
    let groups = [
      limitWorkloads(ctx),
      samsaLogWorkloads(ctx),
      recoveryWorkloads(ctx),
      groupCommitWorkloads(ctx),
      brokerWorkloads(ctx, loadedBroker),
      kafkaWireWorkloads(ctx, loadedBroker),
      lmdbWorkloads(ctx),
      sqliteWorkloads(ctx),
      redisWorkloads(ctx),
    ]
    if (only !== null) {
      // Keep the limits: every ratio needs them.
      const keep = (row) => row.system === 'Limit' || only.some((p) => row.id.startsWith(p))
      groups = groups.map((g) => ({ ...g, rows: g.rows.filter(keep) })).filter((g) => g.rows.length > 0)
    }
    log(`side-by-side suite: ${groups.reduce((n, g) => n + g.rows.length, 0)} rows, ${config.rounds} rounds`)
    try {
      rows = await runSuite(groups, { rounds: config.rounds, log })
    } finally {
      cleanUp()
    }
  } else {
    cleanUp()
  }

  const result = {
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    config: { ...config, only },
    machine,
    rows,
    micro,
    goals: checkGoals(rows),
  }
  const outDir = path.join(here, 'results')
  fs.mkdirSync(outDir, { recursive: true })
  const name = only !== null || args['no-micro'] || args['no-suite'] ? 'partial' : config.quick ? 'quick' : 'latest'
  const md = renderMarkdown(result)
  fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(result, null, 2) + '\n')
  fs.writeFileSync(path.join(outDir, `${name}.md`), md)
  if (rows.length > 0) fs.writeFileSync(path.join(outDir, `${name}.svg`), renderSvg(result))
  if (name === 'latest') updateReadme(md)
  log('')
  log(md)
  log(`wrote ${path.relative(process.cwd(), path.join(outDir, name))}.{md,json${rows.length > 0 ? ',svg' : ''}} in ${result.durationSeconds.toFixed(0)} s`)
  const failed = rows.filter((r) => r.error)
  if (failed.length > 0) {
    log(`${failed.length} row(s) failed: ${failed.map((r) => r.id).join(', ')}`)
    process.exitCode = 1
  }
}

/** Put a full run's results into the README, between its markers, headings two levels down. */
function updateReadme(md) {
  const file = path.join(here, 'README.md')
  const readme = fs.readFileSync(file, 'utf8')
  const start = '<!-- results:start -->'
  const end = '<!-- results:end -->'
  const a = readme.indexOf(start)
  const b = readme.indexOf(end)
  if (a < 0 || b < a) return
  const body = md
    .replace(/^(#+) /gm, (_, h) => `${h}## `)
    .replace('](latest.svg)', '](results/latest.svg)')
  fs.writeFileSync(file, `${readme.slice(0, a + start.length)}\n${body}\n${readme.slice(b)}`)
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => {
    // Native handles (LMDB, a lingering socket) must not keep a finished run alive.
    setTimeout(() => process.exit(), 100).unref()
  })
