/**
 * Opening a big log: after an unclean stop, where every batch is validated (size, magic, CRC-32C,
 * contiguous offsets) and the indexes rebuilt, and after a clean stop, where nothing is scanned.
 * The log is in the page cache, as the goal of issue 7 states: it is read through before each round
 * of the unclean open (see readThrough in lib/data.js), and the clean open follows it.
 *
 * An unclean stop is made by closing the log and then deleting `.clean-shutdown` and
 * `samsa.checkpoint`: without the marker the open recovers, and without the checkpoint the
 * recovery point is 0, so validation covers the whole log (after a kill -9 the recovery point is
 * wherever the last checkpoint put it, and less is validated).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeRecords, makeValues, removeDir, scratchDir } from '../lib/data.js'
import { secondsSince } from '../lib/stats.js'

const MARKER = '.clean-shutdown'
const CHECKPOINT = 'samsa.checkpoint'

export function recoveryWorkloads(ctx) {
  const { samsa, cfg, root } = ctx
  const { Log } = samsa
  const logs = new Map() // valueSize -> { dir, bytes, records }
  const sizeLabel = cfg.recoveryBytes >= 2 ** 30 ? `${cfg.recoveryBytes / 2 ** 30} GiB` : `${cfg.recoveryBytes / 2 ** 20} MiB`
  const rows = []
  for (const valueSize of cfg.valueSizes) {
    rows.push({
      id: `samsa.recovery.unclean.${valueSize}`,
      system: 'Samsa',
      section: 'recovery',
      label: `Log.open of a ${sizeLabel} log after an unclean stop (all of it validated)`,
      valueSize,
      kind: 'read',
      warm: () => [logs.get(valueSize).dir],
      async round() {
        const { dir, bytes, records } = logs.get(valueSize)
        fs.rmSync(path.join(dir, MARKER), { force: true })
        fs.rmSync(path.join(dir, CHECKPOINT), { force: true })
        const start = process.hrtime.bigint()
        const log = await Log.open(dir)
        const seconds = secondsSince(start)
        try {
          const report = log.recovery
          if (report === null || report.clean || report.segmentsRecovered !== log.segmentCount || report.damage !== null) {
            throw new Error(`expected a full, undamaged recovery, got ${JSON.stringify(report)}`)
          }
          if (log.logEndOffset !== records || log.size !== bytes) throw new Error('recovery changed the log')
        } finally {
          await log.close()
        }
        return { records, bytes, seconds, extra: { logBytes: bytes, openMs: seconds * 1000 } }
      },
    })
    rows.push({
      id: `samsa.recovery.clean.${valueSize}`,
      system: 'Samsa',
      section: 'recovery',
      label: `Log.open of a ${sizeLabel} log after a clean stop`,
      valueSize,
      kind: 'read',
      // Nothing is scanned: the time to open matters, not a rate.
      throughput: false,
      async round() {
        const { dir, bytes, records } = logs.get(valueSize)
        if (!fs.existsSync(path.join(dir, MARKER))) throw new Error('the log was not closed cleanly')
        const start = process.hrtime.bigint()
        const log = await Log.open(dir)
        const seconds = secondsSince(start)
        try {
          if (log.recovery !== null) throw new Error('a clean open ran recovery')
          if (log.logEndOffset !== records) throw new Error('the clean open found a different log end')
        } finally {
          await log.close()
        }
        return { records, bytes, seconds, extra: { logBytes: bytes, openMs: seconds * 1000 } }
      },
    })
  }
  return {
    name: `Samsa recovery (${sizeLabel} logs)`,
    async setup() {
      for (const valueSize of cfg.valueSizes) {
        const dir = scratchDir(root, `samsa-recovery-${valueSize}`)
        logs.set(valueSize, { dir, bytes: 0, records: 0 })
        const batches = Array.from({ length: 8 }, (_, i) => makeRecords(makeValues(valueSize), cfg.batch, i))
        const log = await Log.open(dir, { flush: 'never' })
        for (let i = 0; log.size < cfg.recoveryBytes; i++) await log.append(batches[i % batches.length])
        await log.close()
        logs.set(valueSize, { dir, bytes: log.size, records: log.logEndOffset })
      }
    },
    teardown() {
      for (const { dir } of logs.values()) removeDir(dir)
    },
    rows,
  }
}
