/** Test data and scratch directories for the suite. */
import { randomFillSync } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

/** `count` distinct random values of `size` bytes (random, so no layer can compress them away). */
export function makeValues(size, count = 64) {
  const all = randomFillSync(Buffer.allocUnsafe(size * count))
  return Array.from({ length: count }, (_, i) => all.subarray(i * size, (i + 1) * size))
}

/** Records for Log.append: null keys, the given values in turn. */
export function makeRecords(values, n, start = 0) {
  return Array.from({ length: n }, (_, i) => ({ key: null, value: values[(start + i) % values.length] }))
}

/** A fresh directory under `root`, named for what uses it. */
export function scratchDir(root, name) {
  const dir = path.join(root, `${name}-${process.hrtime.bigint().toString(36)}`)
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

/** One fdatasync of a file another library wrote: what Samsa's flush 'never' rows pay at the end. */
export function fdatasyncFile(file) {
  const fd = fs.openSync(file, 'r+')
  try {
    fs.fdatasyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

export function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true })
}

/** Bytes of all files under `dir`. */
export function dirBytes(dir) {
  let total = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    total += entry.isDirectory() ? dirBytes(p) : fs.statSync(p).size
  }
  return total
}

/**
 * Reads touch the data, not just the object: each value's last byte is read (a different cache
 * line from its header for 1 KiB values) and its length summed. `touched` keeps the bytes live.
 */
export let touched = 0

export function touch(value) {
  touched = (touched + value[value.length - 1]) | 0
  return value.length
}
