/**
 * SQLite through better-sqlite3 in WAL mode: inserts into an INTEGER PRIMARY KEY table, 1000 per
 * transaction, with synchronous NORMAL (the usual WAL setting: fsync at checkpoints) and FULL
 * (fsync of the WAL at each commit); and a scan of every row in pages of 1000.
 */
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { fdatasyncFile, makeValues, removeDir, scratchDir, touch } from '../lib/data.js'
import { secondsSince } from '../lib/stats.js'

const MODES = {
  NORMAL: { label: 'WAL, synchronous=NORMAL, one fdatasync of the WAL at the end', durable: 'at WAL checkpoints and at the end' },
  FULL: { label: 'WAL, synchronous=FULL', durable: 'each transaction' },
}

function openDb(dir, synchronous) {
  const db = new Database(path.join(dir, 'bench.db'))
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${synchronous}`)
  db.exec('CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, value BLOB NOT NULL)')
  return db
}

function insertAll(db, values, count, batch) {
  const insert = db.prepare('INSERT INTO log (id, value) VALUES (?, ?)')
  const tx = db.transaction((from, to) => {
    for (let id = from; id < to; id++) insert.run(id, values[id % values.length])
  })
  for (let from = 0; from < count; from += batch) tx(from, Math.min(count, from + batch))
}

export function sqliteWorkloads(ctx) {
  const { cfg, root } = ctx
  const rows = []
  for (const valueSize of cfg.valueSizes) {
    const values = makeValues(valueSize)
    const records = cfg.peerRecords[valueSize]
    for (const [mode, m] of Object.entries(MODES)) {
      rows.push({
        id: `sqlite.insert.${mode.toLowerCase()}.${valueSize}`,
        system: 'SQLite',
        section: 'write',
        label: `inserts, ${cfg.batch} per transaction, ${m.label}`,
        valueSize,
        kind: 'write',
        durable: m.durable,
        perBatchSync: mode === 'FULL',
        round() {
          const dir = scratchDir(root, `sqlite-insert-${mode}-${valueSize}`)
          const db = openDb(dir, mode)
          try {
            const start = process.hrtime.bigint()
            insertAll(db, values, records, cfg.batch)
            // What flush 'never' gets: the WAL's tail made durable once, at the end.
            if (mode === 'NORMAL') fdatasyncFile(path.join(dir, 'bench.db-wal'))
            const seconds = secondsSince(start)
            if (db.prepare('SELECT count(*) AS n FROM log').get().n !== records) throw new Error('SQLite lost inserts')
            return { records, bytes: records * valueSize, seconds }
          } finally {
            db.close()
            removeDir(dir)
          }
        },
      })
    }

    let dir = null
    let db = null
    rows.push({
      id: `sqlite.scan.${valueSize}`,
      system: 'SQLite',
      section: 'read',
      label: `scan by primary key in pages of ${cfg.batch}`,
      valueSize,
      kind: 'read',
      warm: () => [dir],
      setup() {
        dir = scratchDir(root, `sqlite-scan-${valueSize}`)
        db = openDb(dir, 'NORMAL')
        insertAll(db, values, records, cfg.batch)
      },
      round() {
        const page = db.prepare(`SELECT id, value FROM log WHERE id > ? ORDER BY id LIMIT ${cfg.batch}`).raw()
        const start = process.hrtime.bigint()
        let count = 0
        let valueBytes = 0
        let last = -1
        for (;;) {
          const got = page.all(last)
          if (got.length === 0) break
          for (let i = 0; i < got.length; i++) valueBytes += touch(got[i][1])
          count += got.length
          last = got[got.length - 1][0]
        }
        const seconds = secondsSince(start)
        if (count !== records || valueBytes !== records * valueSize) throw new Error(`scanned ${count} of ${records}`)
        return { records: count, bytes: valueBytes, seconds }
      },
      teardown() {
        db?.close()
        if (dir !== null) removeDir(dir)
      },
    })
  }
  return { name: 'SQLite', rows }
}
