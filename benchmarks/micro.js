/**
 * tinybench micro-benchmarks of @samsa/log's hot functions, on the built package: batch encode
 * and decode, CRC-32C, varints and the offset-index lookup.
 */
import { Bench } from 'tinybench'

const VALUE_SIZE = 100
const VARINTS = 1000
const INDEX_ENTRIES = 100_000
const LOOKUPS = 1000

function records(n) {
  const value = Buffer.alloc(VALUE_SIZE, 0x61)
  return Array.from({ length: n }, () => ({ key: null, value }))
}

/** A sink the optimiser cannot see through, so no benchmarked work is dead code. */
let sink = 0

export async function runMicro(samsa, { quick }) {
  const { encodeBatch, decodeBatch, crc32c, crc32cImplementation, writeVarint, readVarint, internals } = samsa
  const bench = new Bench({ time: quick ? 80 : 500, warmupTime: quick ? 20 : 100, iterations: quick ? 16 : 64 })
  // Each task is described by what one call does, so the report can give a per-unit rate.
  const units = new Map()
  const add = (name, unit, perCall, fn) => {
    units.set(name, { unit, perCall })
    bench.add(name, fn)
  }

  const timestamp = Date.now()
  for (const n of [1, 100, 1000]) {
    const input = records(n)
    const batch = encodeBatch(input, { timestamp })
    add(`encodeBatch ${n} x ${VALUE_SIZE} B`, 'records', n, () => {
      sink ^= encodeBatch(input, { timestamp }).length
    })
    add(`decodeBatch ${n} x ${VALUE_SIZE} B (CRC + records)`, 'records', n, () => {
      sink ^= decodeBatch(batch).records.length
    })
  }

  for (const size of [1024, 1024 * 1024]) {
    const buf = Buffer.alloc(size)
    for (let i = 0; i < size; i++) buf[i] = (i * 31 + 7) & 0xff
    add(`crc32c ${size === 1024 ? '1 KiB' : '1 MiB'} (${crc32cImplementation})`, 'bytes', size, () => {
      sink ^= crc32c(buf)
    })
  }

  // Values spread over 1- to 5-byte encodings, as offset deltas, lengths and counts are.
  const values = Int32Array.from({ length: VARINTS }, (_, i) => ((i * 2654435761) >>> (i % 32)) | 0)
  const varintBuf = Buffer.alloc(VARINTS * 5)
  // Where each varint ends: readVarint leaves that in a binding the package does not export.
  const ends = new Int32Array(VARINTS)
  for (let i = 0, pos = 0; i < VARINTS; i++) ends[i] = pos = writeVarint(varintBuf, pos, values[i])
  add(`writeVarint x ${VARINTS}`, 'varints', VARINTS, () => {
    let pos = 0
    for (let i = 0; i < VARINTS; i++) pos = writeVarint(varintBuf, pos, values[i])
    sink ^= pos
  })
  add(`readVarint x ${VARINTS}`, 'varints', VARINTS, () => {
    let acc = 0
    for (let i = 0, pos = 0; i < VARINTS; i++) {
      acc ^= readVarint(varintBuf, pos)
      pos = ends[i]
    }
    sink ^= acc
  })

  // An in-memory offset index of 100,000 entries (a 400 MiB segment at 4 KiB intervals).
  const { OffsetIndex } = internals.offsetIndex
  const index = new OffsetIndex('/nonexistent/00000000000000000000.index', 0, INDEX_ENTRIES, null)
  index.reset()
  for (let i = 0; i < INDEX_ENTRIES; i++) index.append(i * 40 + 39, i * 4096)
  const targets = Int32Array.from({ length: LOOKUPS }, (_, i) => (i * 7919 * 40) % (INDEX_ENTRIES * 40))
  add(`offset index lookup (${INDEX_ENTRIES} entries) x ${LOOKUPS}`, 'lookups', LOOKUPS, () => {
    let acc = 0
    for (let i = 0; i < LOOKUPS; i++) acc ^= index.lookup(targets[i]).position
    sink ^= acc
  })

  await bench.run()
  const rows = []
  for (const task of bench.tasks) {
    const r = task.result
    const { unit, perCall } = units.get(task.name)
    if (r.state !== 'completed') {
      rows.push({ name: task.name, error: r.error?.message ?? r.state })
      continue
    }
    const opsPerSec = r.throughput.mean
    rows.push({
      name: task.name,
      opsPerSec,
      nsPerCall: r.latency.mean * 1e6,
      p50NsPerCall: r.latency.p50 * 1e6,
      rme: r.latency.rme,
      samples: r.latency.samplesCount ?? null,
      unit,
      perCall,
      unitsPerSec: opsPerSec * perCall,
    })
  }
  if (sink === 0.5) console.log(sink) // never true; keeps `sink` observable
  return rows
}
