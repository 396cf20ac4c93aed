/**
 * Samsa's Log, as an application embeds it: appends in batches with each flush policy, and a read
 * of everything from the start that touches every value.
 */
import { makeRecords, makeValues, removeDir, scratchDir, touch } from '../lib/data.js'
import { secondsSince } from '../lib/stats.js'

const FLUSH_NOTES = {
  never: 'the OS writes back; one fdatasync at the end, inside the timing',
  interval: 'fdatasync every 1000 ms (the default); one fdatasync at the end, inside the timing',
  always: 'each append resolves after its fdatasync (one appender)',
}

/** Batches of `batch` records cycling through the values; reused across appends, as a producer's buffers are. */
function batchesOf(values, batch) {
  return Array.from({ length: 8 }, (_, i) => makeRecords(values, batch, i * batch))
}

export async function appendAll(log, batches, count, batch) {
  for (let i = 0, n = count / batch; i < n; i++) await log.append(batches[i % batches.length])
}

export function samsaLogWorkloads(ctx) {
  const { samsa, cfg, root } = ctx
  const { Log } = samsa
  const rows = []
  for (const valueSize of cfg.valueSizes) {
    const values = makeValues(valueSize)
    const batches = batchesOf(values, cfg.batch)
    for (const flush of ['never', 'interval', 'always']) {
      // 'always' costs an fdatasync per batch: size it like the peers' durable rows.
      const records = flush === 'always' ? cfg.peerRecords[valueSize] : cfg.appendRecords[valueSize]
      rows.push({
        id: `samsa.append.${flush}.${valueSize}`,
        system: 'Samsa',
        section: 'write',
        label: `Log.append, batches of ${cfg.batch}, flush '${flush}'`,
        valueSize,
        kind: 'write',
        durable: flush === 'always' ? 'each batch' : 'at the end',
        perBatchSync: flush === 'always',
        note: FLUSH_NOTES[flush],
        async round() {
          const dir = scratchDir(root, `samsa-append-${flush}-${valueSize}`)
          const log = await Log.open(dir, { flush })
          try {
            const start = process.hrtime.bigint()
            await appendAll(log, batches, records, cfg.batch)
            const writeSeconds = secondsSince(start)
            await log.flush()
            const seconds = secondsSince(start)
            if (log.logEndOffset !== records) throw new Error(`appended ${log.logEndOffset} of ${records} records`)
            return { records, bytes: records * valueSize, seconds, extra: { writeSeconds, logBytes: log.size } }
          } finally {
            await log.close()
            removeDir(dir)
          }
        },
      })
    }

    let readLog = null
    let readDir = null
    const readRecords = cfg.appendRecords[valueSize]
    rows.push({
      id: `samsa.read.${valueSize}`,
      system: 'Samsa',
      section: 'read',
      label: `Log.read from the start, ${cfg.readMaxBytes >> 20} MiB per call`,
      valueSize,
      kind: 'read',
      warm: () => [readDir],
      async setup() {
        readDir = scratchDir(root, `samsa-read-${valueSize}`)
        readLog = await Log.open(readDir, { flush: 'never' })
        await appendAll(readLog, batches, readRecords, cfg.batch)
        await readLog.flush()
      },
      async round() {
        const start = process.hrtime.bigint()
        let offset = 0
        let count = 0
        let valueBytes = 0
        for (;;) {
          const records = await readLog.read(offset, { maxBytes: cfg.readMaxBytes })
          if (records.length === 0) break
          for (let i = 0; i < records.length; i++) valueBytes += touch(records[i].value)
          count += records.length
          offset = records[records.length - 1].offset + 1
        }
        const seconds = secondsSince(start)
        if (count !== readRecords || valueBytes !== readRecords * valueSize) {
          throw new Error(`read ${count} records (${valueBytes} value bytes), expected ${readRecords}`)
        }
        return { records: count, bytes: valueBytes, seconds }
      },
      async teardown() {
        await readLog?.close()
        if (readDir !== null) removeDir(readDir)
      },
    })
  }
  return { name: 'Samsa Log append and read', rows }
}
