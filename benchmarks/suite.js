/**
 * The side-by-side suite: every row measured in one run, in rounds. Each round runs every row
 * once, in the same order, so the systems alternate and a burst of noise from another process
 * hits all of them alike; each figure is the median over the rounds.
 *
 * A module gives a group: { name, skip?, setup?, teardown?, rows }. A row is
 * { id, system, section, label, valueSize, kind: 'write'|'read'|'fsync', setup?, round, teardown? }
 * whose setup may return { skip: reason }, and whose round returns
 * { records, bytes, seconds, fsyncs?, p50?, p99?, extra? }. A row that reads files may give
 * `warm()`, the paths of its data: they are read once, untimed, before each of its rounds (see
 * readThrough in lib/data.js), so that every system's reads start from the page cache. A row may
 * name the id of its `counterpart` (a Kafka-wire row its embedded equivalent): the summary
 * divides the two rates.
 */
import { execFileSync } from 'node:child_process'
import { readThrough } from './lib/data.js'
import { median } from './lib/stats.js'

/**
 * Before each row, the dirty pages of the rows before it are written back (sync(1)), outside the
 * timed part: otherwise a row pays, in its fdatasyncs and writes, for the writeback of the
 * hundreds of MB that the page-cache write rows before it left behind.
 */
function settleDisk() {
  try {
    execFileSync('sync', { stdio: 'ignore' })
  } catch {
    // No sync(1) on this system: the row runs as it would have.
  }
}

export const SECTIONS = ['write', 'read', 'recovery', 'group commit']
const SYSTEMS = ['Limit', 'Samsa', 'Samsa broker', 'Samsa via KafkaJS', 'Samsa via kcat', 'LMDB', 'SQLite', 'Redis Streams']

function order(row) {
  return [SECTIONS.indexOf(row.section), row.section === 'group commit' ? 0 : row.valueSize, SYSTEMS.indexOf(row.system)]
}

function compareRows(a, b) {
  const x = order(a)
  const y = order(b)
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i]
  return 0
}

function summarize(row, results) {
  const ok = results.filter((r) => r !== null && !r.error)
  const rates = ok.map((r) => r.records / r.seconds)
  const out = {
    id: row.id,
    system: row.system,
    section: row.section,
    label: row.label,
    valueSize: row.valueSize,
    kind: row.kind,
    durable: row.durable ?? null,
    perBatchSync: row.perBatchSync ?? null,
    throughput: row.throughput ?? true,
    note: row.note ?? null,
    counterpartId: row.counterpart ?? null,
    rounds: ok.length,
    recordsPerSec: median(rates),
    mbPerSec: median(ok.map((r) => r.bytes / r.seconds / 1e6)),
    seconds: median(ok.map((r) => r.seconds)),
    records: median(ok.map((r) => r.records)),
    fsyncsPerSec: ok.some((r) => r.fsyncs !== undefined) ? median(ok.map((r) => r.fsyncs / r.seconds)) : null,
    recordsPerFsync: ok.some((r) => r.fsyncs !== undefined) ? median(ok.map((r) => (r.fsyncs > 0 ? r.records / r.fsyncs : null))) : null,
    p50Ms: ok.some((r) => r.p50 != null) ? median(ok.map((r) => r.p50)) : null,
    p99Ms: ok.some((r) => r.p99 != null) ? median(ok.map((r) => r.p99)) : null,
    perRound: results.map((r) =>
      r === null ? null : r.error ? { error: r.error } : { recordsPerSec: r.records / r.seconds, seconds: r.seconds, records: r.records, ...(r.extra ?? {}) },
    ),
    error: results.find((r) => r?.error)?.error ?? null,
  }
  // Figures kept by the row (e.g. the write phase without the final fdatasync): medians too.
  const extraKeys = new Set(ok.flatMap((r) => Object.keys(r.extra ?? {})))
  if (extraKeys.size > 0) {
    out.extra = {}
    for (const k of extraKeys) out.extra[k] = median(ok.map((r) => r.extra?.[k]))
  }
  return out
}

/** Each row's rate against the limit of its kind and value size, measured in the same run. */
function addRatios(rows) {
  const limit = (kind, valueSize) => rows.find((r) => r.system === 'Limit' && r.kind === kind && (kind === 'fsync' || r.valueSize === valueSize))
  for (const row of rows) {
    const l = limit(row.kind, row.valueSize)
    row.limitId = l?.id ?? null
    row.ratioToLimit = l?.recordsPerSec && row.recordsPerSec && row.throughput !== false ? row.recordsPerSec / l.recordsPerSec : null
    if (row.extra?.writeSeconds && l?.extra?.writeSeconds) {
      // The write phase alone, against the limit's writeSync phase alone (no fdatasync on either side).
      row.writePhaseRatio = l.extra.writeSeconds / l.records / (row.extra.writeSeconds / row.records)
    }
    if (row.counterpartId) {
      const c = rows.find((r) => r.id === row.counterpartId)
      row.ratioToCounterpart = c?.recordsPerSec && row.recordsPerSec ? row.recordsPerSec / c.recordsPerSec : null
      row.counterpartLabel = c ? c.label.split(',')[0] : null
    }
    if (row.fsyncsPerSec !== null && row.system !== 'Limit') {
      const f = limit('fsync')
      row.ratioToFsyncLimit = f?.recordsPerSec && row.recordsPerSec ? row.recordsPerSec / f.recordsPerSec : null
    }
  }
}

export async function runSuite(groups, { rounds, log = console.log }) {
  const active = []
  const skipped = []
  const setUp = []
  try {
    for (const group of groups) {
      if (group.skip) {
        for (const row of group.rows) skipped.push({ ...row, skipped: group.skip })
        log(`  ${group.name}: ${group.skip}`)
        continue
      }
      const t = Date.now()
      try {
        await group.setup?.()
        setUp.push(group)
      } catch (err) {
        log(`  ${group.name}: setup failed: ${err.stack ?? err}`)
        for (const row of group.rows) skipped.push({ ...row, skipped: `setup failed: ${err.message}` })
        continue
      }
      for (const row of group.rows) {
        // A row's setup may say why it cannot run (a part of a package not built yet).
        let outcome
        try {
          outcome = await row.setup?.()
        } catch (err) {
          log(`  ${row.id}: setup failed: ${err.stack ?? err}`)
          outcome = { skip: `setup failed: ${err.message}` }
        }
        if (outcome?.skip) skipped.push({ ...row, skipped: outcome.skip })
        else active.push(row)
      }
      log(`  set up ${group.name} (${((Date.now() - t) / 1000).toFixed(1)} s)`)
    }
    active.sort(compareRows)

    const results = new Map(active.map((row) => [row, []]))
    for (let r = 0; r < rounds; r++) {
      const t = Date.now()
      for (const row of active) {
        let result
        settleDisk()
        try {
          if (row.warm) readThrough(row.warm())
          result = await row.round(r)
        } catch (err) {
          result = { error: err.message }
          log(`  ${row.id} round ${r + 1}: ${err.stack ?? err}`)
        }
        results.get(row).push(result)
      }
      log(`  round ${r + 1}/${rounds} done (${((Date.now() - t) / 1000).toFixed(1)} s)`)
    }

    const rows = active.map((row) => summarize(row, results.get(row)))
    for (const row of skipped.sort(compareRows)) {
      rows.push({
        id: row.id,
        system: row.system,
        section: row.section,
        label: row.label,
        valueSize: row.valueSize,
        kind: row.kind,
        counterpartId: row.counterpart ?? null,
        skipped: row.skipped,
      })
    }
    rows.sort(compareRows)
    addRatios(rows)
    return rows
  } finally {
    // Every row of a group that was set up, skipped ones too: a setup may have failed half-way.
    for (const group of setUp.reverse()) {
      for (const row of [...group.rows].reverse()) {
        try {
          await row.teardown?.()
        } catch (err) {
          log(`  ${row.id} teardown: ${err.message}`)
        }
      }
      try {
        await group.teardown?.()
      } catch (err) {
        log(`  ${group.name} teardown: ${err.message}`)
      }
    }
  }
}
