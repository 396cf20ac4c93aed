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

/**
 * Read every file at or under `paths` once, so that a read row starts from the page cache. This
 * machine's host pages out file pages nobody has touched for a minute (a DAMON `pageout` scheme
 * for unmapped pages), and a full run's rounds are longer than that: without this, a read row's
 * data came partly from the disk in some rounds and not in others (the limit's own readSync of
 * the same bytes ranged from 14M to 73M records/s within one run).
 */
export function readThrough(paths) {
  const buf = Buffer.allocUnsafe(1 << 20)
  const visit = (p) => {
    const stat = fs.statSync(p, { throwIfNoEntry: false })
    if (stat === undefined) return
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(p)) visit(path.join(p, name))
      return
    }
    if (!stat.isFile()) return
    const fd = fs.openSync(p, 'r')
    try {
      for (let at = 0; ; ) {
        const n = fs.readSync(fd, buf, 0, buf.length, at)
        if (n === 0) break
        at += n
      }
    } finally {
      fs.closeSync(fd)
    }
  }
  for (const p of paths) visit(p)
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
