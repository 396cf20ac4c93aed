/** Small statistics helpers: medians of rounds and latency percentiles. */

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = v.length >> 1
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/** Nearest-rank percentile of `sorted` (ascending), p in [0, 100]. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

/** p50 and p99 of latencies in milliseconds; a Float64Array sorts numerically and fast. */
export function latencySummary(latencies) {
  if (latencies.length === 0) return { p50: null, p99: null }
  const sorted = Float64Array.from(latencies).sort()
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
}

/** Seconds since `start` (a process.hrtime.bigint()). */
export function secondsSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e9
}

export function msSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e6
}
