/**
 * A hand-written SVG bar chart of records/s per system and workload, on a log scale (the rows
 * span fdatasync-bound thousands to page-cache tens of millions).
 */
import { fmtRate, fmtSize } from './format.js'

const COLORS = {
  Limit: '#8a8f98',
  Samsa: '#1f5fbf',
  'Samsa broker': '#5a8fe0',
  'Samsa via KafkaJS': '#7b5cc4',
  'Samsa via kcat': '#a58be0',
  LMDB: '#d9822b',
  SQLite: '#2f9e5b',
  'Redis Streams': '#d64545',
}

const SECTION_TITLES = { write: 'Writes', read: 'Reads', recovery: 'Recovery (records validated/s)', 'group commit': 'Durable appends, 100 B' }

function axisLabel(decade) {
  const units = ['', 'k', 'M', 'G']
  const u = Math.min(units.length - 1, Math.floor(decade / 3))
  return `${10 ** (decade - u * 3)}${units[u]}`
}

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export function renderSvg(result) {
  // A clean open scans nothing, so its "records/s" is not a throughput: it stays in the table only.
  const rows = result.rows.filter((r) => r.recordsPerSec > 0 && r.throughput !== false)
  const width = 1000
  const labelW = 470
  const barX = labelW + 10
  const barW = 400
  const rowH = 18
  const headH = 26
  const top = 70
  const lo = Math.floor(Math.log10(Math.min(...rows.map((r) => r.recordsPerSec), 1e3)))
  const hi = Math.ceil(Math.log10(Math.max(...rows.map((r) => r.recordsPerSec), 1e4)))
  const x = (v) => barX + ((Math.log10(v) - lo) / (hi - lo)) * barW

  const parts = []
  let y = top
  let group = null
  for (const r of rows) {
    const key = `${r.section}|${r.section === 'group commit' ? '' : r.valueSize}`
    if (key !== group) {
      group = key
      y += 8
      const title = `${SECTION_TITLES[r.section] ?? r.section}${r.section === 'group commit' ? '' : `, ${fmtSize(r.valueSize)} values`}`
      parts.push(`<text x="8" y="${y + 14}" class="h">${esc(title)}</text>`)
      y += headH - 4
    }
    const label = `${r.system}: ${r.label}`
    const w = Math.max(1, x(r.recordsPerSec) - barX)
    parts.push(
      `<g><title>${esc(`${label}, ${fmtSize(r.valueSize)}: ${Math.round(r.recordsPerSec).toLocaleString('en-US')} records/s`)}</title>` +
        `<text x="${labelW}" y="${y + 13}" class="l" text-anchor="end">${esc(label.length > 72 ? label.slice(0, 70) + '…' : label)}</text>` +
        `<rect x="${barX}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 5}" fill="${COLORS[r.system] ?? '#555'}"/>` +
        `<text x="${(barX + w + 4).toFixed(1)}" y="${y + 13}" class="v">${fmtRate(r.recordsPerSec)}</text></g>`,
    )
    y += rowH
  }
  const height = y + 30

  const grid = []
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d)
    grid.push(`<line x1="${gx}" y1="${top}" x2="${gx}" y2="${y}" class="g"/>`)
    grid.push(`<text x="${gx}" y="${y + 16}" class="a" text-anchor="middle">${axisLabel(d)}</text>`)
  }
  const legend = Object.entries(COLORS)
    .map(([name, color], i) => `<rect x="${8 + i * 124}" y="40" width="12" height="12" fill="${color}"/><text x="${24 + i * 124}" y="50" class="l">${esc(name)}</text>`)
    .join('')
  const m = result.machine
  const title = `Samsa vs the disk's limit and peers: records/s (log scale), ${result.config.quick ? 'quick' : 'full'} run, median of ${result.config.rounds} rounds`
  const sub = `${m.cpu}, ${m.cores} cores, node ${m.node}, ${result.startedAt}`

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.h{font-size:13px;font-weight:bold;fill:#222}.l{font-size:11px;fill:#333}.v{font-size:11px;fill:#111}.a{font-size:10px;fill:#666}.g{stroke:#ddd;stroke-width:1}.t{font-size:15px;font-weight:bold;fill:#111}.s{font-size:11px;fill:#555}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="18" class="t">${esc(title)}</text>`,
    `<text x="8" y="33" class="s">${esc(sub)}</text>`,
    legend,
    ...grid,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}
