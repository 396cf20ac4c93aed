/**
 * The limit of this disk, measured in the same run as everything else:
 * - write: the bytes Samsa's append rows write, with fs.writeSync in 1 MiB chunks, then one fdatasync;
 * - read: the same bytes read back with fs.readSync in 1 MiB chunks, from the page cache;
 * - fsync: how many (append 100 B + fdatasync) a second this disk does.
 * Rates are also given as records/s of Samsa's stored record size, so that every row of the suite
 * can be set against the limit of its kind.
 */
import { randomFillSync } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { latencySummary, secondsSince } from '../lib/stats.js'

const CHUNK = 1024 * 1024

function writeFile(file, bytes, chunk) {
  const fd = fs.openSync(file, 'w')
  const start = process.hrtime.bigint()
  try {
    let done = 0
    while (done < bytes) {
      const n = Math.min(chunk.length, bytes - done)
      let written = 0
      while (written < n) written += fs.writeSync(fd, chunk, written, n - written, done + written)
      done += n
    }
    const writeSeconds = secondsSince(start)
    fs.fdatasyncSync(fd)
    return { writeSeconds, seconds: secondsSince(start) }
  } finally {
    fs.closeSync(fd)
  }
}

export function limitWorkloads(ctx) {
  const { cfg, root, storedBytesPerRecord } = ctx
  const chunk = randomFillSync(Buffer.allocUnsafe(CHUNK))
  const rows = []
  for (const valueSize of cfg.valueSizes) {
    const perRecord = storedBytesPerRecord[valueSize]
    const records = cfg.appendRecords[valueSize]
    const bytes = Math.round(records * perRecord)
    rows.push({
      id: `limit.write.${valueSize}`,
      system: 'Limit',
      section: 'write',
      label: 'fs.writeSync 1 MiB chunks + one fdatasync',
      valueSize,
      kind: 'write',
      round(r) {
        const file = path.join(root, `limit-write-${valueSize}-${r}.bin`)
        try {
          // Unmeasured first pass. On this VM, page-cache pages the guest has not used lately are
          // slow to touch (several times slower writes), and each row after this one reuses the
          // pages the row before it freed: this pass gives the limit the same head start.
          writeFile(file, bytes, chunk)
          fs.rmSync(file)
          const t = writeFile(file, bytes, chunk)
          return { records, bytes, seconds: t.seconds, extra: { writeSeconds: t.writeSeconds } }
        } finally {
          fs.rmSync(file, { force: true })
        }
      },
    })

    const readFile = path.join(root, `limit-read-${valueSize}.bin`)
    rows.push({
      id: `limit.read.${valueSize}`,
      system: 'Limit',
      section: 'read',
      label: 'fs.readSync 1 MiB chunks (page cache)',
      valueSize,
      kind: 'read',
      warm: () => [readFile],
      setup() {
        writeFile(readFile, bytes, chunk)
      },
      round() {
        const buf = Buffer.allocUnsafe(CHUNK)
        const fd = fs.openSync(readFile, 'r')
        const start = process.hrtime.bigint()
        let done = 0
        try {
          for (;;) {
            const n = fs.readSync(fd, buf, 0, CHUNK, done)
            if (n === 0) break
            done += n
          }
        } finally {
          fs.closeSync(fd)
        }
        const seconds = secondsSince(start)
        if (done !== bytes) throw new Error(`read ${done} of ${bytes} bytes`)
        return { records, bytes, seconds }
      },
      teardown() {
        fs.rmSync(readFile, { force: true })
      },
    })
  }

  rows.push({
    id: 'limit.fsync',
    system: 'Limit',
    section: 'group commit',
    label: 'append 100 B + fdatasync, in a loop',
    valueSize: 100,
    kind: 'fsync',
    round(r) {
      const file = path.join(root, `limit-fsync-${r}.bin`)
      const fd = fs.openSync(file, 'w')
      const record = chunk.subarray(0, 100)
      const latencies = []
      let position = 0
      const start = process.hrtime.bigint()
      const deadline = start + BigInt(Math.round(cfg.fsyncSeconds * 1e9))
      try {
        for (;;) {
          const t0 = process.hrtime.bigint()
          if (t0 >= deadline) break
          fs.writeSync(fd, record, 0, record.length, position)
          position += record.length
          fs.fdatasyncSync(fd)
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
        }
      } finally {
        fs.closeSync(fd)
        fs.rmSync(file, { force: true })
      }
      return { records: latencies.length, bytes: position, seconds: secondsSince(start), fsyncs: latencies.length, ...latencySummary(latencies) }
    },
  })
  return { name: 'the limit (fs.writeSync, fs.readSync, fdatasync)', rows }
}
