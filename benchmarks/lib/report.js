/** The results as markdown (latest.md) and as the JSON behind it (latest.json). */
import { machineSummary } from './machine.js'
import { fmtBytes, fmtMs, fmtNum, fmtRate, fmtRatio, fmtSize } from './format.js'

const SECTION_TITLES = {
  write: 'Writes',
  read: 'Reads (from the page cache)',
  recovery: 'Recovery',
  'group commit': "Durable appends: group commit (100 B values)",
}

const fmtPct = (x) => `${Math.round(x * 100)}%`

function notes(row) {
  const out = []
  if (row.skipped) return row.skipped
  if (row.error) out.push(`**error:** ${row.error}`)
  if (row.durable) out.push(`durable: ${row.durable}`)
  if (row.writePhaseRatio) out.push(`write phase alone ${fmtRatio(row.writePhaseRatio)} limit's`)
  if (row.fsyncsPerSec != null && row.system !== 'Limit') {
    out.push(`${fmtNum(row.fsyncsPerSec, 0)} fdatasync/s, ${fmtNum(row.recordsPerFsync, 1)} rec/fsync`)
  }
  if (row.ratioToFsyncLimit) out.push(`${fmtRatio(row.ratioToFsyncLimit)} the disk's fdatasync/s`)
  if (row.section === 'recovery' && row.extra?.openMs != null) out.push(`open ${fmtMs(row.extra.openMs)} ms`)
  if (row.counterpartId) out.push(`**${fmtRatio(row.ratioToCounterpart)} embedded** ${row.counterpartLabel ?? row.counterpartId}`)
  if (row.extra?.serverCpu != null) {
    const cpu = [`server CPU ${fmtPct(row.extra.serverCpu)}`]
    if (row.extra.clientCpu != null) cpu.push(`client CPU ${fmtPct(row.extra.clientCpu)}`)
    out.push(`${cpu.join(', ')} of the wall time`)
  }
  if (row.extra?.startupSeconds != null) {
    out.push(`whole command ${fmtRate(row.extra.wholeRecordsPerSec)} rec/s; ${fmtMs(row.extra.startupSeconds * 1000)} ms on an empty input taken out`)
  }
  if (row.extra?.firstBatchMs != null) out.push(`first batch after ${fmtMs(row.extra.firstBatchMs)} ms (group join, first fetch)`)
  if (row.note) out.push(row.note)
  return out.join('; ')
}

function rowLine(row) {
  const name = row.system === 'Limit' ? `**Limit**` : row.system.startsWith('Samsa') ? `**${row.system}**` : row.system
  if (row.skipped) return `| ${name} | ${row.label} | ${fmtSize(row.valueSize)} | – | – | – | – | – | ${row.skipped} |`
  return `| ${name} | ${row.label} | ${fmtSize(row.valueSize)} | ${fmtRate(row.recordsPerSec)} | ${fmtNum(row.mbPerSec)} | ${fmtRatio(row.ratioToLimit)} | ${fmtMs(row.p50Ms)} | ${fmtMs(row.p99Ms)} | ${notes(row)} |`
}

export function renderMarkdown(result) {
  const { machine, config, rows, micro, goals } = result
  const lines = []
  lines.push(`# Samsa benchmarks (${config.quick ? 'quick' : 'full'} run, ${result.startedAt})`, '')
  for (const l of machineSummary(machine)) lines.push(`- ${l}`)
  lines.push(
    `- Rounds: ${config.rounds}, the systems alternating within each round; every figure is the median over the rounds.`,
    `- Sizes: Samsa and the limit ${config.appendRecords[100].toLocaleString('en-US')} x 100 B and ${config.appendRecords[1024].toLocaleString('en-US')} x 1 KiB records per round; LMDB, SQLite and Samsa 'always' ${config.peerRecords[100].toLocaleString('en-US')} / ${config.peerRecords[1024].toLocaleString('en-US')}; Redis ${config.redisRecords[100].toLocaleString('en-US')} / ${config.redisRecords[1024].toLocaleString('en-US')}; recovery logs of ${fmtBytes(config.recoveryBytes)}; timed rows ${config.groupCommitSeconds} s each.`,
    `- Took ${result.durationSeconds.toFixed(0)} s. This machine has 2 cores and other work may run beside the benchmark (load average above), so single figures are noisy; ratios taken within one run are what count.`,
    '',
    '**How to read it.** records/s counts records (values) per second; MB/s is value bytes per second (file bytes for the limit and recovery rows). Every read row touches each value it gets (its length and its last byte). Before each row the harness runs `sync` (outside the row\'s time), so that no row pays for the writeback of the rows before it.',
    '"vs limit" divides a row\'s records/s by the limit of its kind at the same value size, measured in this run: writes by `fs.writeSync` of the bytes Samsa stores for those records in 1 MiB chunks plus one `fdatasync`; reads and recovery by `fs.readSync` of those bytes in 1 MiB chunks from the page cache; the fdatasync row by itself.',
    'Samsa append rows with flush `never`/`interval` include one final `fdatasync` in their time, as the limit does; "write phase alone" compares the appends with the `writeSync` calls, neither side counting that fdatasync.',
    `Kafka-wire rows (Samsa via KafkaJS, via kcat: ${config.wireRecords?.toLocaleString('en-US') ?? '–'} x 100 B records per round over loopback to \`broker.listen()\` in the harness's process, the client in a process of its own) give their rate over that of their embedded counterpart, the same workload on the same broker in the same run ("× embedded"), and the CPU time of the server (the harness's process) and of the client over the wall time. kcat rows take out the time of the same command on an empty input (start-up), measured each round.`,
    '',
  )

  lines.push('## Goals', '', '| Goal | Measured | Status |', '| --- | --- | --- |')
  for (const g of goals) lines.push(`| ${g.name} | ${g.measured} | ${g.status === 'met' ? 'met' : g.status === 'missed' ? '**missed**' : g.status} |`)
  lines.push('')

  lines.push('## Side by side', '', '![records/s per system and workload](latest.svg)', '')
  let section = null
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section
      lines.push(`### ${SECTION_TITLES[section] ?? section}`, '')
      lines.push('| System | Workload | Value | records/s | MB/s | vs limit | p50 ms | p99 ms | Notes |')
      lines.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |')
    }
    lines.push(rowLine(row))
    const next = rows[rows.indexOf(row) + 1]
    if (next === undefined || next.section !== section) lines.push('')
  }

  lines.push('## Micro-benchmarks (tinybench, @samsa/log dist)', '')
  lines.push('| Task | time per call | per unit | rate | ± |', '| --- | ---: | ---: | ---: | ---: |')
  for (const m of micro) {
    if (m.error) {
      lines.push(`| ${m.name} | error: ${m.error} | | | |`)
      continue
    }
    const perUnit = m.nsPerCall / m.perCall
    const rate = m.unit === 'bytes' ? `${(m.unitsPerSec / 1e6).toFixed(0)} MB/s` : `${fmtRate(m.unitsPerSec)} ${m.unit}/s`
    lines.push(`| ${m.name} | ${fmtCallTime(m.nsPerCall)} | ${perUnit >= 1000 ? `${(perUnit / 1000).toFixed(1)} µs` : `${perUnit.toFixed(1)} ns`} | ${rate} | ${m.rme.toFixed(1)}% |`)
  }
  lines.push('')
  return lines.join('\n')
}

function fmtCallTime(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`
  return `${ns.toFixed(0)} ns`
}
