/** The goals of issues 3, 4, 5, 7 and 8, checked against one run's rows. */

const byId = (rows, id) => rows.find((r) => r.id === id && r.recordsPerSec != null) ?? null

function goal(name, row, pass, measured) {
  if (row === null) return { name, status: 'not measured', measured: '–' }
  return { name, status: pass ? 'met' : 'missed', measured }
}

const M = (n) => `${(n / 1e6).toFixed(2)}M rec/s`
const K = (n) => `${Math.round(n).toLocaleString('en-US')} rec/s`

export function checkGoals(rows) {
  const goals = []
  for (const flush of ['never', 'interval']) {
    const row = byId(rows, `samsa.append.${flush}.100`)
    goals.push(goal(`Log.append 100 B in batches (flush '${flush}') >= 4,000,000 rec/s`, row, row?.recordsPerSec >= 4e6, row && M(row.recordsPerSec)))
    goals.push(
      goal(
        `Log.append 100 B (flush '${flush}') >= 60% of the fs.writeSync limit`,
        row,
        row?.ratioToLimit >= 0.6,
        row && `${(row.ratioToLimit * 100).toFixed(0)}% (write phase alone: ${row.writePhaseRatio ? (row.writePhaseRatio * 100).toFixed(0) + '%' : '–'})`,
      ),
    )
  }
  const acks1 = byId(rows, 'broker.send.acks1.1x1000.100')
  goals.push(goal('producer.send acks 1, 100 B, 1 sender x 1000 >= 2,000,000 rec/s', acks1, acks1?.recordsPerSec >= 2e6, acks1 && M(acks1.recordsPerSec)))
  const all64 = byId(rows, 'broker.send.acksAll.64x10')
  goals.push(
    goal(
      "producer.send acks 'all', 64 senders x 10 >= 600,000 rec/s, p99 <= 5 ms",
      all64,
      all64?.recordsPerSec >= 6e5 && all64?.p99Ms <= 5,
      all64 && `${K(all64.recordsPerSec)}, p99 ${all64.p99Ms?.toFixed(2)} ms`,
    ),
  )
  const read = byId(rows, 'samsa.read.100')
  const append = byId(rows, 'samsa.append.never.100')
  goals.push(
    goal(
      'Log.read 100 B >= 5,000,000 rec/s and faster than append',
      read,
      read?.recordsPerSec >= 5e6 && (append === null || read.recordsPerSec > append.recordsPerSec),
      read && `${M(read.recordsPerSec)} (append 'never': ${append ? M(append.recordsPerSec) : '–'})`,
    ),
  )
  const poll = byId(rows, 'broker.poll.100')
  goals.push(goal('consumer.poll 100 B >= 5,000,000 rec/s', poll, poll?.recordsPerSec >= 5e6, poll && M(poll.recordsPerSec)))
  for (const vs of [100, 1024]) {
    const rec = byId(rows, `samsa.recovery.unclean.${vs}`)
    goals.push(goal(`Recovery validation (${vs === 100 ? '100 B' : '1 KiB'} values) >= 500 MB/s`, rec, rec?.mbPerSec >= 500, rec && `${rec.mbPerSec.toFixed(0)} MB/s`))
  }
  for (const [id, min, p99, text] of [
    ['samsa.groupcommit.1x1', 3000, null, "flush 'always', 1 appender x 1 record >= 3,000 rec/s"],
    ['samsa.groupcommit.64x1', 150_000, null, "flush 'always', 64 appenders x 1 record >= 150,000 rec/s"],
    ['samsa.groupcommit.64x10', 600_000, 5, "flush 'always', 64 appenders x 10 records >= 600,000 rec/s, p99 <= 5 ms"],
    ['samsa.groupcommit.blocking.1x1', 3000, null, "flush 'always' + blockingSync, 1 appender x 1 record >= 3,000 rec/s"],
    ['samsa.groupcommit.blocking.64x1', 150_000, null, "flush 'always' + blockingSync, 64 appenders x 1 record >= 150,000 rec/s"],
    ['samsa.groupcommit.blocking.64x10', 600_000, 5, "flush 'always' + blockingSync, 64 appenders x 10 records >= 600,000 rec/s, p99 <= 5 ms"],
  ]) {
    const row = byId(rows, id)
    goals.push(
      goal(text, row, row?.recordsPerSec >= min && (p99 === null || row.p99Ms <= p99), row && `${K(row.recordsPerSec)}, p99 ${row.p99Ms?.toFixed(2)} ms`),
    )
  }

  // Issue 8: each Kafka-wire row at no less than half the rate of the same workload embedded.
  for (const row of rows.filter((r) => r.counterpartId)) {
    const name = `Kafka wire, ${row.system.replace(/^Samsa via /, '')}: ${row.label.split(',')[0]}, 100 B >= 50% of embedded ${row.counterpartLabel ?? row.counterpartId}`
    if (row.skipped || row.recordsPerSec == null) {
      goals.push({ name, status: row.skipped ? `not measured: ${row.skipped}` : 'not measured', measured: '–' })
      continue
    }
    const cp = rows.find((r) => r.id === row.counterpartId)
    goals.push(
      goal(
        name,
        row,
        row.ratioToCounterpart >= 0.5,
        row.ratioToCounterpart == null
          ? `${M(row.recordsPerSec)}; embedded not measured`
          : `${M(row.recordsPerSec)} = ${(row.ratioToCounterpart * 100).toFixed(0)}% of ${M(cp.recordsPerSec)}`,
      ),
    )
  }

  // Samsa ahead of every peer, like for like: the same value size, and durability per batch
  // against durability per batch.
  const peers = (pred) => rows.filter((r) => ['LMDB', 'SQLite', 'Redis Streams'].includes(r.system) && r.recordsPerSec != null && pred(r))
  const best = (list) => list.reduce((a, b) => (a === null || b.recordsPerSec > a.recordsPerSec ? b : a), null)
  for (const vs of [100, 1024]) {
    const comparisons = [
      ['writes, fsync per batch', [`samsa.append.always.${vs}`], (r) => r.section === 'write' && r.perBatchSync === true],
      ['writes, no fsync per batch', [`samsa.append.never.${vs}`, `samsa.append.interval.${vs}`], (r) => r.section === 'write' && r.perBatchSync === false],
      ['reads', [`samsa.read.${vs}`], (r) => r.section === 'read'],
    ]
    for (const [what, ids, pred] of comparisons) {
      const samsa = best(ids.map((id) => byId(rows, id)).filter(Boolean))
      const peer = best(peers((r) => r.valueSize === vs && pred(r)))
      if (samsa === null || peer === null) continue
      goals.push(
        goal(
          `Samsa ahead of every peer: ${what}, ${vs === 100 ? '100 B' : '1 KiB'}`,
          samsa,
          samsa.recordsPerSec > peer.recordsPerSec,
          `${M(samsa.recordsPerSec)} vs best peer ${peer.system} ${M(peer.recordsPerSec)} (${(samsa.recordsPerSec / peer.recordsPerSec).toFixed(1)}×)`,
        ),
      )
    }
  }
  return goals
}
