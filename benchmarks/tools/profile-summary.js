#!/usr/bin/env node
/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time,
 * and the total time under each function (self + callees), as shares of the sampled time.
 *   node benchmarks/tools/profile-summary.js PROFILE.cpuprofile [--top 25] [--filter packages/log] [--under readSync]
 * --under keeps only the samples with a matching function on their stack (e.g. `log.js:514 readSync`),
 * so the shares are of the time spent in that call.
 */
import * as fs from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' }, filter: { type: 'string' }, under: { type: 'string' } },
  allowPositionals: true,
})
if (positionals.length !== 1) {
  console.error('usage: profile-summary.js PROFILE.cpuprofile [--top N] [--filter SUBSTRING] [--under SUBSTRING]')
  process.exit(2)
}
const profile = JSON.parse(fs.readFileSync(positionals[0], 'utf8'))
const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

// Time per sample: the deltas, attributed to the sampled node.
const where = (n) => {
  const f = n.callFrame
  const url = f.url.replace(/^file:\/\//, '').replace(/^.*\/(packages|benchmarks|node_modules)\//, '$1/')
  return `${url || '(native)'}:${f.lineNumber + 1} ${f.functionName || '(anonymous)'}`
}
const underMatch = (id) => {
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) if (where(nodes.get(cur)).includes(values.under)) return true
  return false
}

const selfUs = new Map()
let total = 0
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0
  if (values.under && !underMatch(profile.samples[i])) continue
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt)
  total += dt
}

const self = new Map()
const inclusive = new Map()
for (const [id, us] of selfUs) {
  const key = where(nodes.get(id))
  self.set(key, (self.get(key) ?? 0) + us)
  // Each distinct function on the stack gets this sample once.
  const seen = new Set()
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = where(nodes.get(cur))
    if (seen.has(k)) continue
    seen.add(k)
    inclusive.set(k, (inclusive.get(k) ?? 0) + us)
  }
}

const top = Number(values.top)
const show = (title, map) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled${values.under ? ` under ${values.under}` : ''})`)
  const rows = [...map].filter(([k]) => !values.filter || k.includes(values.filter)).sort((a, b) => b[1] - a[1]).slice(0, top)
  for (const [k, us] of rows) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
}
show('Self time', self)
show('Total time (self + callees)', inclusive)
