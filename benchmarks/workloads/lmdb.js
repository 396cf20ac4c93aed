/**
 * LMDB through the `lmdb` package: puts of sequential uint32 keys, 1000 per transactionSync
 * (putSync with `append`, LMDB's fast path for keys in order, the best it offers a log), and a
 * range scan of everything. Values are stored as raw bytes.
 */
import * as path from 'node:path'
import { open } from 'lmdb'
import { fdatasyncFile, makeValues, removeDir, scratchDir, touch } from '../lib/data.js'
import { secondsSince } from '../lib/stats.js'

const MODES = {
  default: {
    noSync: false,
    label: 'default: each commit flushed before transactionSync returns',
    durable: 'each transaction',
  },
  noSync: { noSync: true, label: 'noSync, one fdatasync of data.mdb at the end', durable: 'at the end' },
}

function openDb(dir, noSync) {
  return open({ path: dir, encoding: 'binary', keyEncoding: 'uint32', compression: false, noSync })
}

function putAll(db, values, count, batch) {
  let key = 0
  while (key < count) {
    const end = Math.min(count, key + batch)
    db.transactionSync(() => {
      for (; key < end; key++) db.putSync(key, values[key % values.length], { append: true })
    })
  }
}

export function lmdbWorkloads(ctx) {
  const { cfg, root } = ctx
  const rows = []
  for (const valueSize of cfg.valueSizes) {
    const values = makeValues(valueSize)
    const records = cfg.peerRecords[valueSize]
    for (const [mode, m] of Object.entries(MODES)) {
      rows.push({
        id: `lmdb.put.${mode}.${valueSize}`,
        system: 'LMDB',
        section: 'write',
        label: `puts, sequential keys, ${cfg.batch} per transaction, ${m.label}`,
        valueSize,
        kind: 'write',
        durable: m.durable,
        perBatchSync: !m.noSync,
        async round() {
          const dir = scratchDir(root, `lmdb-put-${mode}-${valueSize}`)
          const db = openDb(dir, m.noSync)
          try {
            const start = process.hrtime.bigint()
            putAll(db, values, records, cfg.batch)
            const writeSeconds = secondsSince(start)
            await db.flushed
            if (m.noSync) fdatasyncFile(path.join(dir, 'data.mdb'))
            const seconds = secondsSince(start)
            if (db.getStats().entryCount !== records) throw new Error('LMDB lost puts')
            return { records, bytes: records * valueSize, seconds, extra: { writeSeconds } }
          } finally {
            await db.close()
            removeDir(dir)
          }
        },
      })
    }

    let dir = null
    let db = null
    rows.push({
      id: `lmdb.scan.${valueSize}`,
      system: 'LMDB',
      section: 'read',
      label: 'range scan of every key',
      valueSize,
      kind: 'read',
      warm: () => [dir],
      async setup() {
        dir = scratchDir(root, `lmdb-scan-${valueSize}`)
        db = openDb(dir, false)
        putAll(db, values, records, cfg.batch)
        await db.flushed
      },
      round() {
        const start = process.hrtime.bigint()
        let count = 0
        let valueBytes = 0
        for (const { value } of db.getRange({ start: 0 })) {
          valueBytes += touch(value)
          count++
        }
        const seconds = secondsSince(start)
        if (count !== records || valueBytes !== records * valueSize) throw new Error(`scanned ${count} of ${records}`)
        return { records: count, bytes: valueBytes, seconds }
      },
      async teardown() {
        await db?.close()
        if (dir !== null) removeDir(dir)
      },
    })
  }
  return { name: 'LMDB', rows }
}
