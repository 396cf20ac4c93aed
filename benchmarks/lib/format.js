/** Number formatting shared by the markdown table and the chart. */

export function fmtRate(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–'
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k`
  return n.toFixed(n >= 100 ? 0 : 1)
}

export function fmtNum(n, digits = 1) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–'
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits)
}

export function fmtMs(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–'
  return n >= 10 ? n.toFixed(1) : n.toFixed(2)
}

export function fmtRatio(r) {
  if (r === null || r === undefined || !Number.isFinite(r)) return '–'
  return r >= 10 ? `${r.toFixed(0)}×` : `${r.toFixed(2)}×`
}

export function fmtSize(valueSize) {
  return valueSize >= 1024 ? `${valueSize / 1024} KiB` : `${valueSize} B`
}

export function fmtBytes(b) {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)} GiB`
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(0)} MiB`
  return `${(b / 1024).toFixed(0)} KiB`
}
